"""record() and record_many(): the chain, the transaction rule, validation (LOG-01, LOG-02, LOG-06)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.audit import chain
from jutaku.audit.events import AuditEvent
from jutaku.audit.models import AuditHead, AuditRecord
from jutaku.audit.service import (
    AuditEntry,
    InvalidAuditContent,
    MyNumberInAudit,
    NotInTransaction,
    record,
    record_many,
    verify,
)
from jutaku.domain import my_number

pytestmark = pytest.mark.django_db(transaction=True)
NUMBER = my_number.from_body("98765432101")


def test_records_form_a_gapless_chain_from_genesis(actor: Actor) -> None:
    with transaction.atomic():
        seqs = [record(AuditEvent.PERSON_IMPORT, actor=actor, objects=[f"P{i}"], job_id=3,
                       detail={"rows": i, "dry_run": False, "note": None}) for i in range(1, 4)]
    assert seqs == [1, 2, 3]
    rows = list(AuditRecord.objects.order_by("seq"))
    assert rows[0].prev_hash == chain.GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert rows[1].username == "clerk01" and rows[1].terminal == "10.0.0.21"
    assert rows[1].object_ids == "P2" and rows[1].job_id == 3
    assert rows[1].detail == '{"dry_run":false,"note":null,"rows":2}'
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (3, rows[-1].hash)
    assert verify().ok


def test_record_outside_a_transaction_fails_closed(actor: Actor) -> None:
    with pytest.raises(NotInTransaction):
        record(AuditEvent.NUMBER_READ, actor=actor, objects=["P1"])
    with pytest.raises(NotInTransaction):
        record_many([AuditEntry(AuditEvent.NUMBER_READ, ["P1"])], actor=actor)
    assert not AuditRecord.objects.exists()


def test_business_change_and_audit_record_roll_back_together(actor: Actor) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="business-change")
        record(AuditEvent.PERSON_IMPORT, actor=actor, objects=["P1"])
        raise RuntimeError("the business change failed after auditing")
    assert not Group.objects.exists()
    assert not AuditRecord.objects.exists()
    with transaction.atomic():
        Group.objects.create(name="business-change")
        assert record(AuditEvent.PERSON_IMPORT, actor=actor, objects=["P1"]) == 1
    assert Group.objects.count() == 1 and AuditRecord.objects.count() == 1


def test_a_refused_audit_record_rolls_back_the_business_change(actor: Actor) -> None:
    with pytest.raises(MyNumberInAudit), transaction.atomic():
        Group.objects.create(name="business-change")
        record(AuditEvent.NUMBER_STORE, actor=actor, objects=[NUMBER])
    assert not Group.objects.exists()


def test_record_many_continues_the_chain_and_counts(actor: Actor) -> None:
    with transaction.atomic():
        record(AuditEvent.JOB_START, actor=actor, objects=["J1"], job_id=1)
        entries = (AuditEntry(AuditEvent.NUMBER_STORE, [f"P{i}"], "ok", {"row": i}) for i in range(12_345))
        assert record_many(entries, actor=actor, job_id=1) == 12_345
        assert record_many([], actor=actor) == 0
        record(AuditEvent.JOB_FINISH, actor=actor, objects=["J1"], job_id=1)
    result = verify()
    assert result.ok and result.checked == 12_347 and result.last_seq == 12_347
    assert AuditRecord.objects.filter(job_id=1).count() == 12_347


def test_an_invalid_entry_in_a_batch_leaves_nothing(actor: Actor) -> None:
    entries = [AuditEntry(AuditEvent.NUMBER_STORE, [f"P{i}"]) for i in range(10)]
    entries.insert(7, AuditEntry(AuditEvent.NUMBER_STORE, ["P7"], detail={"input": f"番号 {NUMBER}"}))
    with pytest.raises(MyNumberInAudit), transaction.atomic():
        record_many(entries, actor=actor)
    assert not AuditRecord.objects.exists()
    assert verify().ok


@pytest.mark.parametrize("number", [
    NUMBER, f"{NUMBER[:4]}-{NUMBER[4:8]}-{NUMBER[8:]}",
    NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
])
def test_my_numbers_are_refused_in_objects_and_detail(actor: Actor, number: str) -> None:
    for kwargs in ({"objects": [number.replace(" ", "")]}, {"detail": {"query": number}},
                   {"detail": {"n": int(NUMBER)}}):
        with pytest.raises(MyNumberInAudit), transaction.atomic():
            record(AuditEvent.NUMBER_SEARCH, actor=actor, **kwargs)  # type: ignore[arg-type]
    assert not AuditRecord.objects.exists()


def test_a_twelve_digit_value_with_a_wrong_check_digit_is_allowed(actor: Actor) -> None:
    wrong = NUMBER[:11] + str((int(NUMBER[11]) + 1) % 10)
    with transaction.atomic():
        record(AuditEvent.NUMBER_SEARCH, actor=actor, objects=[wrong], detail={"ref": wrong})
    assert AuditRecord.objects.get().object_ids == wrong


@pytest.mark.parametrize("kwargs", [
    {"objects": "P1"},                      # a string, not a sequence of ids
    {"objects": ["P1,P2"]},                 # the separator
    {"objects": ["P 1"]},
    {"objects": [""]},
    {"outcome": "ok; drop"},
    {"detail": {"ratio": 0.5}},
    {"detail": {"bad key": "x"}},
    {"job_id": "7"},
])
def test_malformed_content_is_refused(actor: Actor, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidAuditContent), transaction.atomic():
        record(AuditEvent.NUMBER_READ, actor=actor, **kwargs)  # type: ignore[arg-type]


def test_an_event_outside_the_vocabulary_is_refused(actor: Actor) -> None:
    with pytest.raises(InvalidAuditContent), transaction.atomic():
        record("person:teleport", actor=actor)  # type: ignore[arg-type]


def test_the_head_is_recreated_after_a_flush_only_when_there_are_no_records(actor: Actor) -> None:
    AuditHead.objects.all().delete()
    with transaction.atomic():
        assert record(AuditEvent.SYSTEM_INIT, actor=actor) == 1
    assert AuditHead.objects.get().seq == 1
