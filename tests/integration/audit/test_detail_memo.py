"""The batch path serialises a shared detail mapping once; a mapping changed between entries must still
be recorded as it was for each entry, and a My Number slipped into it is still refused."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.audit import service
from jutaku.audit.events import AuditEvent
from jutaku.audit.models import AuditRecord
from jutaku.audit.service import AuditEntry, MyNumberInAudit, record_many, verify
from jutaku.domain import my_number

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_shared_detail_changed_between_chunks_is_recorded_as_it_was(actor: Actor,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries are taken a chunk at a time; the same mapping, changed between chunks, must not be served
    from the memo of the previous chunk."""
    monkeypatch.setattr(service, "CHUNK", 2)
    shared: dict[str, str | int | bool | None] = {"source": "kit", "n": 0}

    def entries() -> Iterator[AuditEntry]:
        for i in range(6):
            shared["n"] = i // 2  # the same object, changed for every chunk of two
            yield AuditEntry(AuditEvent.NUMBER_STORE, [f"p{i}"], "OK", shared)

    with transaction.atomic():
        record_many(entries(), actor=actor)
    details = [json.loads(d) for d in AuditRecord.objects.order_by("seq").values_list("detail", flat=True)]
    assert [d["n"] for d in details] == [0, 0, 1, 1, 2, 2]
    assert verify().ok


def test_a_number_put_into_a_shared_detail_is_still_refused(actor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "CHUNK", 2)
    shared: dict[str, str | int | bool | None] = {"note": "x"}

    def entries() -> Iterator[AuditEntry]:
        yield AuditEntry(AuditEvent.NUMBER_STORE, ["p1"], "OK", shared)
        yield AuditEntry(AuditEvent.NUMBER_STORE, ["p1b"], "OK", shared)
        shared["note"] = my_number.from_body("12345678901")
        yield AuditEntry(AuditEvent.NUMBER_STORE, ["p2"], "OK", shared)

    with pytest.raises(MyNumberInAudit), transaction.atomic():
        record_many(entries(), actor=actor)
    assert not AuditRecord.objects.exists()
