"""承認待ち: the dual-control queue (AUTHZ-06).

Pending requests with their kind, requester, time, reason and a summary of what they would do (counts,
procedure, roles: never personal data), and the recently decided ones. A user sees the approve/reject
buttons only for kinds whose decide permission they hold; the decision itself is the service's
(:mod:`jutaku.accounts.approvals`): it refuses the requester deciding their own request and audits
every decision. Deciding needs a fresh step-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from jutaku.accounts import approvals
from jutaku.accounts import users as _users  # noqa: F401 - registers the role-grant kind
from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import AccessDenied, AccountsError
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import ROLE_LABELS, Permission, Role, StepUp
from jutaku.web.access import forbidden, not_found, requires

RECENT = 20


def kind_label(kind: str) -> str:
    spec = approvals.KINDS.get(kind)
    return spec.label if spec is not None else kind


def may_decide(actor: Actor, approval: Approval) -> bool:
    """The buttons are shown only to those the service would let decide this kind."""
    spec = approvals.KINDS.get(approval.kind)
    return spec is not None and actor.can(Permission.APPROVALS_DECIDE) and actor.can(spec.decide_permission)


def payload_summary(payload: Mapping[str, Any]) -> str:
    """What the request would do, from the few payload keys the kinds use; anything else is left out
    (a payload never reaches the page as it is)."""
    parts: list[str] = []
    if isinstance(payload.get("persons"), int):
        parts.append(f"対象 {payload['persons']:,} 人")
    if "procedure" in payload:
        parts.append(f"事務手続 {str(payload['procedure'])[:20]}")
    if isinstance(payload.get("year"), int):
        parts.append(f"{payload['year']} 年度")
    if isinstance(payload.get("subject_request"), int):
        parts.append(f"請求 #{payload['subject_request']}")
    if "username" in payload:
        parts.append(f"利用者 {str(payload['username'])[:150]}")
    if isinstance(payload.get("add"), list):
        labels = {role.value: ROLE_LABELS[role] for role in Role}
        parts.append("付与する役割 " + "・".join(labels[r] for r in payload["add"] if r in labels))
    return "、".join(parts) or "—"


def _row(actor: Actor, approval: Approval) -> dict[str, Any]:
    # A request about one person (不開示の解除) names them by the register's key; only those who may see
    # persons get the link to the person's page.
    person = approval.payload.get("person")
    return {"a": approval, "label": kind_label(approval.kind), "summary": payload_summary(approval.payload),
            "may_decide": may_decide(actor, approval), "own": approval.requested_by == actor.username,
            "person_pk": person if isinstance(person, int) and actor.can(Permission.PERSONS_VIEW) else None}


@requires(Permission.APPROVALS_VIEW)
def approval_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    pending = approvals.pending(actor=actor)
    decided = Approval.objects.exclude(state=ApprovalState.PENDING).order_by("-decided_at", "-id")[:RECENT]
    return render(request, "web/approvals/list.html", {
        "title": "承認待ち", "pending": [_row(actor, a) for a in pending],
        "decided": [_row(actor, a) for a in decided]})


def _decide(request: HttpRequest, approval_id: int, decide: Callable[..., Approval], done: str) -> HttpResponse:
    if not Approval.objects.filter(pk=approval_id).exists():
        return not_found(request)
    try:
        approval = decide(approval_id, actor=request.actor)  # type: ignore[attr-defined]
    except AccessDenied as exc:
        return forbidden(request, f"この種類の依頼を承認・却下する権限がありません。{exc}")
    except AccountsError as exc:  # own request, already decided, executor refused: the service's words
        messages.error(request, str(exc))
    else:
        messages.success(request, f"承認依頼 #{approval.pk}（{kind_label(approval.kind)}）を{done}"
                                  f"（{approval.get_state_display()}）。")  # type: ignore[attr-defined]
    return redirect("web:approvals")


@requires(Permission.APPROVALS_DECIDE, methods=("POST",), step_up=StepUp.APPROVAL_DECISION)
def approve(request: HttpRequest, approval_id: int) -> HttpResponse:
    return _decide(request, approval_id, approvals.approve, "承認しました")


@requires(Permission.APPROVALS_DECIDE, methods=("POST",), step_up=StepUp.APPROVAL_DECISION)
def reject(request: HttpRequest, approval_id: int) -> HttpResponse:
    return _decide(request, approval_id, approvals.reject, "却下しました")


urlpatterns: list[URLPattern] = [
    path("approvals/", approval_list, name="approvals"),
    path("approvals/<int:approval_id>/approve/", approve, name="approval-approve"),
    path("approvals/<int:approval_id>/reject/", reject, name="approval-reject"),
]
