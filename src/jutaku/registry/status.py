"""A supervisor's correction of a death recorded from Juki-net (status precedence, rule 3 of
:mod:`jutaku.domain.status`).

A death Juki-net reported (``D02``) stays whatever later extracts say (their disagreeing rows are
``S01`` on the notice list). When it is wrong — the number queried was another person's, Juki-net
corrected its record — a supervisor replaces it, one person at a time, with a reason: the new status
(有効, 退去, 辞退・不合格) and optionally its date; source ``correction``; the status history keeps both
steps; audited ``person:status_correct`` in the same transaction. Later extracts then apply as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain.status import CorrectionRefused, Held, StatusSource, correct
from jutaku.registry.models import Person, StatusChange
from jutaku.registry.non_disclosure import Refused, check_reason


@dataclass(frozen=True)
class Correction:
    person_id: str
    old_status: str
    new_status: str


def correct_status(person_id: str, new_status: str, *, actor: Actor, reason: str,
                   status_date: date | None = None) -> Correction:
    """Replace a death recorded from Juki-net (supervisor, with a reason). Raises :class:`Refused`."""
    if not actor.can(Permission.PERSON_STATUS_CORRECT):
        raise Refused("状態の訂正には責任者の権限が必要です")
    text = check_reason(reason)
    now = datetime.now(UTC)
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(person_id=person_id).first()
        if person is None:
            raise Refused("個人IDが対象者に存在しません")
        held = Held(person.status, StatusSource(person.status_source))
        try:
            verdict = correct(held, new_status)
        except CorrectionRefused as exc:
            raise Refused(str(exc)) from exc
        old_date = person.status_date
        person.status, person.status_date, person.status_source = verdict.status, status_date, verdict.source
        person.updated_at, person.updated_job = now, None
        person.save(update_fields=["status", "status_date", "status_source", "updated_at", "updated_job"])
        StatusChange.objects.create(person=person, old_status=held.status, new_status=verdict.status,
                                    status_date=status_date, recorded_at=now, job_id=None, source=verdict.source)
        record(AuditEvent.PERSON_STATUS_CORRECT, actor=actor, objects=[person_id],
               detail={"old_status": held.status, "old_source": held.source.value, "new_status": verdict.status,
                       "old_date": old_date.isoformat() if old_date else "",
                       "new_date": status_date.isoformat() if status_date else "", "reason": text})
    return Correction(person_id, held.status, verdict.status)
