"""Dual control (AUTHZ-06): request → approval by a different person → execution.

Later issues register their kinds (bulk deletion, bulk export, unmasking) with :func:`register_kind`,
naming the permission needed to decide and, optionally, an executor run as soon as the request is
approved (role grants do this). Other kinds are executed by their own job, which calls
:func:`mark_executed`. Self-approval is refused here and by the constraint ``accounts_approval_two_people``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import AccountsError, require
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text

Executor = Callable[[Approval, Actor], None]


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    request_permission: Permission
    decide_permission: Permission
    executor: Executor | None = None


KINDS: dict[str, Kind] = {}


class ApprovalError(AccountsError):
    """The approval request or decision was refused."""


def register_kind(kind: Kind) -> None:
    KINDS[kind.name] = kind


def _kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ApprovalError(f"承認の種類 {name!r} は登録されていません") from None


def request_approval(kind: str, payload: Mapping[str, Any], *, actor: Actor, reason: str) -> Approval:
    spec = _kind(kind)
    require(actor, spec.request_permission)
    if not reason.strip():
        raise ApprovalError("理由を入力してください")
    free_text.check(reason, "理由", ApprovalError)  # shown to approvers without personal-data permission
    with transaction.atomic():
        approval = Approval.objects.create(kind=kind, payload=dict(payload), reason=reason.strip()[:500],
                                           requested_by=actor.username, requested_at=timezone.now())
        record(AuditEvent.APPROVAL_REQUEST, actor=actor, objects=[f"approval:{approval.pk}"],
               detail={"kind": kind})
    return approval


def _pending(approval_id: int, actor: Actor) -> tuple[Approval, Kind]:
    approval = Approval.objects.select_for_update().filter(pk=approval_id).first()
    if approval is None:
        raise ApprovalError(f"承認依頼 #{approval_id} はありません")
    spec = _kind(approval.kind)
    require(actor, Permission.APPROVALS_DECIDE)
    require(actor, spec.decide_permission)
    if approval.state != ApprovalState.PENDING:
        raise ApprovalError(f"承認依頼 #{approval_id} は処理済みです（{approval.get_state_display()}）")
    if approval.requested_by == actor.username:
        raise ApprovalError("自分の依頼は承認・却下できません（別の担当者が判断します）")
    return approval, spec


def approve(approval_id: int, *, actor: Actor) -> Approval:
    """Approve (a different person with the kind's permission); run the kind's executor if any."""
    with transaction.atomic():
        approval, spec = _pending(approval_id, actor)
        approval.state, approval.decided_by, approval.decided_at = ApprovalState.APPROVED, actor.username, timezone.now()
        approval.save()
        record(AuditEvent.APPROVAL_APPROVE, actor=actor, objects=[f"approval:{approval.pk}"],
               detail={"kind": approval.kind, "requested_by": approval.requested_by})
        if spec.executor is not None:
            spec.executor(approval, actor)
            _executed(approval, actor)
    return approval


def reject(approval_id: int, *, actor: Actor) -> Approval:
    with transaction.atomic():
        approval, _ = _pending(approval_id, actor)
        approval.state, approval.decided_by, approval.decided_at = ApprovalState.REJECTED, actor.username, timezone.now()
        approval.save()
        record(AuditEvent.APPROVAL_REJECT, actor=actor, objects=[f"approval:{approval.pk}"],
               detail={"kind": approval.kind, "requested_by": approval.requested_by})
    return approval


def mark_executed(approval_id: int, *, actor: Actor) -> Approval:
    """Record that an approved request was carried out (once). Call in the executing transaction."""
    with transaction.atomic():
        approval = Approval.objects.select_for_update().filter(pk=approval_id).first()
        if approval is None or approval.state != ApprovalState.APPROVED:
            raise ApprovalError(f"承認依頼 #{approval_id} は承認済みではありません")
        _executed(approval, actor)
    return approval


def _executed(approval: Approval, actor: Actor) -> None:
    approval.state, approval.executed_at = ApprovalState.EXECUTED, timezone.now()
    approval.save(update_fields=["state", "executed_at"])
    record(AuditEvent.APPROVAL_EXECUTE, actor=actor, objects=[f"approval:{approval.pk}"],
           detail={"kind": approval.kind})


def pending(*, actor: Actor) -> list[Approval]:
    require(actor, Permission.APPROVALS_VIEW)
    return list(Approval.objects.filter(state=ApprovalState.PENDING).order_by("id"))
