"""不開示 (DV etc.): setting and clearing a person's sticky non-disclosure flag (seed ⑦-1, ⑦-2, IV-3).

The rules are :mod:`jutaku.domain.wishes`. Three paths set the flag and every one is audited
(``non_disclosure:set`` with its source, in the transaction that sets it):

- the bulk imports (:func:`record_wishes`): the procedures extract (source ``procedures``) and the
  Mynaportal applications (source ``portal``), for every new statement of the wish;
- a registrar or supervisor, at once, with a reason (:func:`set_non_disclosure`; ``jutaku persons
  non-disclosure set``, the person detail screen).

Clearing is dual control (:mod:`jutaku.accounts.approvals`, kind :data:`CLEAR_KIND`): a supervisor
requests it with a reason (:func:`request_clear`), a *different* supervisor approves it in 承認待ち, and
the approval clears the flag (``non_disclosure:clear``, with both names) — unless a new statement of the
wish arrived after the request (:func:`jutaku.domain.wishes.clear_refusal`). Inquiry files written after
the flag is set carry 不開示コード 2 for the person (:mod:`jutaku.linkage.inquiries` reads the flag when it
writes). The approval's payload names the person by the register's key, never by 個人ID: the queue is
visible to roles without access to personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from django.db import transaction

from jutaku.accounts import approvals
from jutaku.accounts.actor import Actor
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record
from jutaku.dbutil import adapter, update_in
from jutaku.domain import free_text
from jutaku.domain.japanese import has_control_chars
from jutaku.domain.wishes import clear_refusal
from jutaku.registry.models import Person

CLEAR_KIND: Final = "non-disclosure-clear"
REASON_MIN: Final = 4
REASON_MAX: Final = 200


class Refused(Exception):
    """The action was refused; nothing changed. The message is for staff (Japanese)."""


@dataclass(frozen=True)
class SetResult:
    person_id: str
    changed: bool  # False: the flag was already set (the statement is still recorded)


def check_reason(reason: str) -> str:
    """A reason of 4–200 characters without control characters or anything shaped like a My Number."""
    text = reason.strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise Refused(f"理由を{REASON_MIN}文字以上{REASON_MAX}文字以内で入力してください")
    free_text.check(text, "理由", Refused)
    if has_control_chars(text):
        raise Refused("理由に使えない文字（制御文字）が含まれています")
    return text


def _require(actor: Actor, permission: Permission, message: str) -> None:
    if not actor.can(permission):
        raise Refused(message)


def record_wishes(persons: Mapping[int, str], *, source: str, now: datetime) -> list[AuditEntry]:
    """New statements of the wish from a bulk path (``persons``: register key → 個人ID), in the caller's
    transaction: the flag is set where it is not, and the time of the statement kept for every one.
    Returns the audit entries of the persons newly flagged (the caller records them with its job)."""
    if not persons:
        return []
    newly = sorted(Person.objects.filter(pk__in=list(persons), non_disclosure=False).values_list("pk", flat=True))
    at = adapter(Person, "non_disclosure_since")(now)
    update_in(Person, {"non_disclosure": True, "non_disclosure_since": at}, "id", newly)
    update_in(Person, {"non_disclosure_wish_at": at}, "id", sorted(persons))
    return [AuditEntry(AuditEvent.NON_DISCLOSURE_SET, [persons[pk]], "set", {"source": source}) for pk in newly]


def set_non_disclosure(person_id: str, *, actor: Actor, reason: str) -> SetResult:
    """Set the flag at once (registrar or supervisor, with a reason): a wish received at the counter,
    by telephone or by letter. Setting an already set flag records the statement again."""
    _require(actor, Permission.NON_DISCLOSURE_SET, "不開示の設定には番号登録担当または責任者の権限が必要です")
    text = check_reason(reason)
    now = datetime.now(UTC)
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(person_id=person_id).first()
        if person is None:
            raise Refused("個人IDが対象者に存在しません")
        changed = not person.non_disclosure
        if changed:
            person.non_disclosure, person.non_disclosure_since = True, now
        person.non_disclosure_wish_at = now
        person.save(update_fields=["non_disclosure", "non_disclosure_since", "non_disclosure_wish_at"])
        record(AuditEvent.NON_DISCLOSURE_SET, actor=actor, objects=[person_id],
               outcome="set" if changed else "already_set", detail={"source": "manual", "reason": text})
    return SetResult(person_id, changed)


def pending_clear(person_pk: int) -> Approval | None:
    """The open request to clear this person's flag, if any."""
    return (Approval.objects.filter(kind=CLEAR_KIND, state=ApprovalState.PENDING, payload__person=person_pk)
            .order_by("id").first())


def request_clear(person_id: str, *, actor: Actor, reason: str) -> Approval:
    """A supervisor asks for the flag to be cleared; a different supervisor decides (承認待ち)."""
    _require(actor, Permission.NON_DISCLOSURE_CLEAR, "不開示の解除の依頼には責任者の権限が必要です")
    text = check_reason(reason)
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(person_id=person_id).first()
        if person is None:
            raise Refused("個人IDが対象者に存在しません")
        if not person.non_disclosure:
            raise Refused("不開示は設定されていません")
        if pending_clear(person.pk) is not None:
            raise Refused("この方の不開示の解除は既に依頼されています（承認待ち）")
        try:
            return approvals.request_approval(CLEAR_KIND, {"person": person.pk, "persons": 1}, actor=actor,
                                              reason=text)
        except approvals.ApprovalError as exc:
            raise Refused(str(exc)) from exc


def _execute_clear(approval: Approval, actor: Actor) -> None:
    """The approved clear (in the approval's transaction): refused when the wish was stated anew since."""
    person = Person.objects.select_for_update().filter(pk=approval.payload.get("person")).first()
    if person is None:
        raise approvals.ApprovalError("対象者が見つかりません")
    refusal = clear_refusal(person.non_disclosure, person.non_disclosure_wish_at, approval.requested_at)
    if refusal is not None:
        raise approvals.ApprovalError(refusal)
    person.non_disclosure, person.non_disclosure_since = False, None
    person.save(update_fields=["non_disclosure", "non_disclosure_since"])
    record(AuditEvent.NON_DISCLOSURE_CLEAR, actor=actor, objects=[person.person_id, f"approval:{approval.pk}"],
           detail={"requested_by": approval.requested_by, "approved_by": actor.username, "reason": approval.reason})


def register() -> None:
    approvals.register_kind(approvals.Kind(CLEAR_KIND, "不開示設定の解除", Permission.NON_DISCLOSURE_CLEAR,
                                           Permission.NON_DISCLOSURE_CLEAR, _execute_clear))
