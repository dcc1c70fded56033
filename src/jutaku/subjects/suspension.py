"""Use suspension (利用停止, seed V-1): from the moment a 利用停止請求 is handled until it is lifted or the
person's data are deleted, the person's specific personal information is not used.

**In force** (:func:`suspended_persons`, the one query every outbound path asks): a use-suspension request
in state 対応済 (``handled``) and no deletion of the person's data executed since it was handled. It is
derived from the requests themselves, so it cannot drift from them: there is no flag to forget to set
or clear. Every outbound file — inquiry requests (create *and* write), linkage requests, Juki-net queries,
the business export — leaves such a person out with the exclusion code ``X07`` on its exclusion list.

**Lifting** (利用停止の解除) is dual control (AUTHZ-06): the staff who handle subject requests ask for it
with a reason (:func:`request_lift`), a *different* supervisor approves it, and the approval lifts it at
once (state ``lifted``, audited ``subject:lift`` in the approval's transaction). Handling a suspension is
one person's act because it only stops processing (the safe direction); lifting resumes processing of a
person's number against that person's recorded request — the step an insider would abuse (e.g. to find a
DV victim's data) — so it needs a second person, as deletion and the business export do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from django.db import connection, transaction
from django.utils import timezone

from jutaku.accounts import approvals
from jutaku.accounts.actor import Actor
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text
from jutaku.subjects.models import SubjectRequest

LIFT_KIND: Final = "suspension-lift"

_IN_FORCE_SQL = (
    "SELECT DISTINCT s.person_id FROM subjects_subjectrequest s "
    "WHERE s.kind = 'suspension' AND s.state = 'handled' AND NOT EXISTS ("
    "SELECT 1 FROM retention_deletionrecord d WHERE d.person_id = s.person_id AND d.executed_at >= s.handled_at)"
)


class LiftRefused(ValueError):
    """The lift cannot be asked for or carried out as asked."""


def suspended_persons() -> frozenset[int]:
    """Primary keys of the persons whose use is suspended now (module docstring). Few rows: every outbound
    path loads the set once per run and leaves its members out."""
    with connection.cursor() as cur:
        cur.execute(_IN_FORCE_SQL)
        return frozenset(int(pk) for (pk,) in cur.fetchall())


@dataclass(frozen=True)
class Suspension:
    """A suspension in force, as the person detail screen shows it."""

    request_id: int
    received_on: date
    since: datetime | None
    handled_by: str
    lift_pending: bool


def suspension_of(person_pk: int) -> Suspension | None:
    """The suspension in force for one person (the earliest such request), or ``None``."""
    if not _in_force(person_pk):
        return None
    req = (SubjectRequest.objects.filter(person_id=person_pk, kind="suspension", state="handled")
           .order_by("handled_at", "id").first())
    if req is None:  # pragma: no cover - the query above found one
        return None
    return Suspension(req.pk, req.received_on, req.handled_at, req.handled_by,
                      _pending_lift(req.pk) is not None)


def _in_force(person_pk: int) -> bool:
    with connection.cursor() as cur:
        cur.execute(_IN_FORCE_SQL + " AND s.person_id = %s", [person_pk])
        return cur.fetchone() is not None


def _pending_lift(request_id: int) -> Approval | None:
    for approval in Approval.objects.filter(kind=LIFT_KIND, state=ApprovalState.PENDING):
        if approval.payload.get("subject_request") == request_id:
            return approval
    return None


def register() -> None:
    """Register the dual-control kind (called by the app's ``ready``)."""
    approvals.register_kind(approvals.Kind(LIFT_KIND, "利用停止の解除", Permission.REQUESTS_HANDLE,
                                           Permission.REQUESTS_APPROVE, executor=_lift))


def _handled_suspension(request_id: int, *, lock: bool = False) -> SubjectRequest:
    rows = SubjectRequest.objects.select_related("person")
    req = (rows.select_for_update() if lock else rows).filter(pk=request_id).first()
    if req is None or req.kind != SubjectRequest.Kind.SUSPENSION:
        raise LiftRefused(f"請求 #{request_id} は利用停止請求ではありません")
    if req.state != SubjectRequest.State.HANDLED:
        raise LiftRefused(f"請求 #{request_id} は利用停止中ではありません（{req.get_state_display()}）")
    return req


def request_lift(request_id: int, *, actor: Actor, reason: str) -> Approval:
    """Ask for the lift of a handled use suspension; a different supervisor approves it
    (``jutaku approvals approve ID``), which lifts it."""
    free_text.check(reason, "理由", LiftRefused)
    with transaction.atomic():
        _handled_suspension(request_id, lock=True)
        if _pending_lift(request_id) is not None:
            raise LiftRefused(f"請求 #{request_id} の解除は承認待ちです")
        return approvals.request_approval(LIFT_KIND, {"subject_request": request_id}, actor=actor, reason=reason)


def _lift(approval: Approval, actor: Actor) -> None:
    """The executor: run by :func:`jutaku.accounts.approvals.approve` inside the approval's transaction."""
    req = _handled_suspension(int(approval.payload["subject_request"]), lock=True)
    req.state, req.lifted_at, req.lift_approval = SubjectRequest.State.LIFTED, timezone.now(), approval.pk
    req.save(update_fields=["state", "lifted_at", "lift_approval"])
    record(AuditEvent.SUBJECT_LIFT, actor=actor, objects=[req.person.person_id, f"subject-request:{req.pk}"],
           outcome="lifted", detail={"approval": approval.pk, "requested_by": approval.requested_by})
