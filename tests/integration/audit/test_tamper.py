"""Append-only triggers (LOG-03) and the tamper-mutation suite for verify() (LOG-04).

The attacker has database-owner rights: the tests switch the triggers off (``owner_rights``), change
the table, and expect verify() to name the first broken seq.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import BrokenHead, Checkpoint, record, verify

from .helpers import forge, owner_rights, row, sql

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ten(actor: Actor) -> list[str]:
    """Ten records; returns their hashes (index 0 is seq 1)."""
    with transaction.atomic():
        for i in range(1, 11):
            record(AuditEvent.NUMBER_READ, actor=actor, objects=[f"P{i}"], detail={"i": i})
    return [row(seq)["hash"] for seq in range(1, 11)]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_record SET outcome = 'denied' WHERE seq = 2",
    "UPDATE audit_record SET seq = seq + 100",
    "DELETE FROM audit_record WHERE seq = 10",
    "DELETE FROM audit_record",
])
def test_update_and_delete_are_refused_by_the_database(ten: list[str], statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(statement)
    assert sql("SELECT COUNT(*) FROM audit_record")[0][0] == 10
    assert verify().ok


def test_truncate_is_refused_on_postgresql(ten: list[str]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (DELETE without WHERE is covered above)")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("TRUNCATE audit_record")
    assert verify().ok


def test_an_intact_trail_verifies(ten: list[str]) -> None:
    result = verify()
    assert (result.ok, result.checked, result.first_bad_seq, result.last_seq) == (True, 10, None, 10)
    assert result.last_hash == ten[-1]
    partial = verify(from_seq=6)
    assert partial.ok and partial.checked == 5


def test_t1_modified_field(ten: list[str]) -> None:
    with owner_rights():
        sql("UPDATE audit_record SET objects = 'P999' WHERE seq = 4")
    result = verify()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert "modified" in result.reason


@pytest.mark.parametrize("column, value", [
    ("username", "someone"), ("terminal", "10.9.9.9"), ("event", "number:store"), ("outcome", "denied"),
    ("job_id", 5), ("detail", '{"i":99}'), ("at", "2020-01-01 00:00:00"),
])
def test_t1_every_column_is_covered(ten: list[str], column: str, value: object) -> None:
    with owner_rights():
        sql(f"UPDATE audit_record SET {column} = %s WHERE seq = 7", [value])
    assert verify().first_bad_seq == 7


def test_t2_deleted_middle_row(ten: list[str]) -> None:
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq = 5")
    result = verify()
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert "missing" in result.reason


def test_t2_deleted_and_renumbered(ten: list[str]) -> None:
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq = 5")
        sql("UPDATE audit_record SET seq = seq + 1000 WHERE seq > 5")
        sql("UPDATE audit_record SET seq = seq - 1001 WHERE seq > 1000")
        sql("UPDATE audit_head SET seq = 9, hash = %s", [ten[-1]])
    assert verify().first_bad_seq == 5


def test_t3_forged_row_inserted_in_the_middle(ten: list[str]) -> None:
    with owner_rights():
        sql("UPDATE audit_record SET seq = seq + 1000 WHERE seq >= 6")
        sql("UPDATE audit_record SET seq = seq - 999 WHERE seq > 1000")
        forge(6, ten[4])
        sql("UPDATE audit_head SET seq = 11, hash = %s", [ten[-1]])
    result = verify()
    assert (result.ok, result.first_bad_seq) == (False, 7)  # the forged row links; its successor does not
    assert "prev_hash" in result.reason


def test_t3_forged_row_appended_without_moving_the_head(ten: list[str]) -> None:
    with owner_rights():
        forge(11, ten[-1])
    result = verify()
    assert (result.ok, result.first_bad_seq) == (False, 11)
    assert "beyond the head" in result.reason


def test_t3_forged_row_with_a_made_up_event(ten: list[str]) -> None:
    with owner_rights():
        digest = forge(11, ten[-1], event="person:teleport")
        sql("UPDATE audit_head SET seq = 11, hash = %s", [digest])
    assert verify().first_bad_seq == 11


def test_t4_two_rows_swapped(ten: list[str]) -> None:
    with owner_rights():
        sql("UPDATE audit_record SET seq = 1003 WHERE seq = 3")
        sql("UPDATE audit_record SET seq = 3 WHERE seq = 7")
        sql("UPDATE audit_record SET seq = 7 WHERE seq = 1003")
    result = verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_t5_deleted_tail(ten: list[str]) -> None:
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq >= 9")
    result = verify()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 9, 8)
    assert "truncated" in result.reason


def test_t6_deleted_tail_with_the_head_rewound_is_caught_by_a_checkpoint(ten: list[str]) -> None:
    checkpoint = Checkpoint(seq=10, hash=ten[-1])
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq >= 9")
        sql("UPDATE audit_head SET seq = 8, hash = %s", [ten[7]])
    assert verify().ok  # a self-consistent shorter chain: only a copy kept elsewhere can tell
    result = verify(checkpoint=checkpoint)
    assert (result.ok, result.first_bad_seq) == (False, 9)
    assert "shorter than the checkpoint" in result.reason


def test_t7_rewritten_chain_is_caught_by_a_checkpoint(ten: list[str]) -> None:
    checkpoint = Checkpoint(seq=5, hash=ten[4])
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq >= 3")
        prev = ten[1]
        for seq in range(3, 11):
            prev = forge(seq, prev)
        sql("UPDATE audit_head SET seq = 10, hash = %s", [prev])
    assert verify().ok
    result = verify(checkpoint=checkpoint)
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert "checkpoint" in result.reason
    later = verify(from_seq=7, checkpoint=checkpoint)  # checkpoint before the range: looked up directly
    assert (later.ok, later.first_bad_seq) == (False, 5)
    assert verify(checkpoint=Checkpoint(seq=2, hash=ten[1])).ok


def test_t8_head_hash_altered(ten: list[str]) -> None:
    with owner_rights():
        sql("UPDATE audit_head SET hash = %s", ["f" * 64])
    assert verify().first_bad_seq == 10


def test_t8_head_deleted_stops_writers_and_verify_reports_it(ten: list[str], actor: Actor) -> None:
    with owner_rights():
        sql("DELETE FROM audit_head")
    with pytest.raises(BrokenHead), transaction.atomic():
        record(AuditEvent.NUMBER_READ, actor=actor, objects=["P1"])
    result = verify()
    assert not result.ok and "head missing" in result.reason


def test_verify_from_a_missing_start_point(ten: list[str]) -> None:
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq = 4")
    assert verify(from_seq=5).first_bad_seq == 4
    with pytest.raises(ValueError):
        verify(from_seq=0)


def test_an_empty_trail_verifies() -> None:
    result = verify()
    assert (result.ok, result.checked) == (True, 0)
