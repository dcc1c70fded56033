"""Disclosure, correction and use-suspension requests (開示・訂正・利用停止請求, issue 6 item 4).

Every request is recorded when received and closed when handled (both audited). A disclosure request
is answered with the report of :mod:`jutaku.subjects.report` (what is held, including the answers
obtained from other agencies, and who accessed the person's records). A handled use-suspension request
stops every use of the person's data at once and makes the person a deletion candidate (理由 4,
:mod:`jutaku.retention.deletion`) until it is lifted under dual control or the data are deleted
(:mod:`jutaku.subjects.suspension`); a correction is carried out through `jutaku numbers change`
(supervisor, reason, audited). Notes and reports never hold a full number.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text
from jutaku.registry.models import Person
from jutaku.subjects.models import SubjectRequest


class SubjectRequestError(ValueError):
    """The request cannot be recorded or handled as asked."""


def _clean_note(note: str) -> str:
    free_text.check(note, "メモ", SubjectRequestError)
    return note.strip()[:400]


def record_request(person_id: str, kind: str, *, received_on: date, actor: Actor, note: str = "") -> SubjectRequest:
    person = Person.objects.filter(person_id=person_id).first()
    if person is None:
        raise SubjectRequestError("個人IDが登録されていません")
    if kind not in SubjectRequest.Kind.values:
        raise SubjectRequestError(f"請求の種類は {', '.join(SubjectRequest.Kind.values)} のいずれかです")
    with transaction.atomic():
        request = SubjectRequest.objects.create(person=person, kind=kind, received_on=received_on,
                                                received_by=actor.username, note=_clean_note(note))
        record(AuditEvent.SUBJECT_REQUEST, actor=actor, objects=[person_id, f"subject-request:{request.pk}"],
               outcome=kind)
    return request


def handle(request_id: int, *, actor: Actor, refuse: bool = False, note: str = "") -> SubjectRequest:
    with transaction.atomic():
        request = SubjectRequest.objects.select_for_update().select_related("person").filter(pk=request_id).first()
        if request is None:
            raise SubjectRequestError(f"請求 #{request_id} はありません")
        if request.state != SubjectRequest.State.RECEIVED:
            raise SubjectRequestError(f"請求 #{request_id} は処理済みです")
        request.state = SubjectRequest.State.REFUSED if refuse else SubjectRequest.State.HANDLED
        request.handled_by, request.handled_at = actor.username, datetime.now(UTC)
        if note:
            request.note = _clean_note(f"{request.note} / {note}" if request.note else note)
        request.save()
        record(AuditEvent.SUBJECT_HANDLE, actor=actor,
               objects=[request.person.person_id, f"subject-request:{request.pk}"], outcome=request.state)
    return request

