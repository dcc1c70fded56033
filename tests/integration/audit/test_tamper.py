"""Append-only triggers (LOG-03) and the tamper-mutation suite for verify() (LOG-04).

The attacker has database-owner rights: the tests switch the triggers off (``owner_rights``), change
the table, and expect verify() to name the first broken seq. The last part (issue 13 item 4, ADR 0014)
replays the attacks a chain alone cannot see — an emptied trail, a cut tail with the head fixed, a forged
record in place of anchored ones, a chain rewritten from some point, a dropped table — against
``verify_trail``, which always checks the signed anchors kept outside the database, and the guards that
refuse SQLite's ``INSERT OR REPLACE`` and any move of the head other than the append path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from jutaku.accounts.actor import Actor
from jutaku.audit import anchors, chain, triggers
from jutaku.audit.events import AuditEvent
from jutaku.audit.reports import verify_recorded
from jutaku.audit.service import BrokenHead, Checkpoint, record, verify
from jutaku.audit.trail import verify_trail

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


# ------------------------------------------------------------------ issue 13 item 4: signed anchors (ADR 0014)


@pytest.fixture
def anchored(ten: list[str]) -> list[str]:
    """The ten records, anchored at seq 5 and seq 10 (as two jobs' ends would)."""
    _anchor_at(5, ten)
    assert anchors.write("job") is not None  # seq 10
    return ten


def _anchor_at(seq: int, hashes: list[str]) -> None:
    """Append an anchor of (seq, hash) as it was when the trail ended there."""
    where = anchors.location()
    key = anchors.signing_key(where)
    assert key is not None
    last = anchors.anchorfile.read(where.anchor_file.read_text(encoding="ascii"), key.public_key()).newest
    line = anchors.anchorfile.make_line(key, previous=last, kind="job", seq=seq, count=seq, hash_=hashes[seq - 1],
                                        now=datetime.now(UTC))
    with where.anchor_file.open("a", encoding="ascii") as fh:
        fh.write(line.raw + "\n")


def _reset_head(seq: int, digest: str) -> None:
    sql("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", [seq, digest])


def test_an_emptied_trail_with_its_head_reset_is_broken(anchored: list[str]) -> None:
    with owner_rights():  # SQLite: the delete trigger dropped; PostgreSQL: the triggers disabled
        sql("DELETE FROM audit_record")
        _reset_head(0, chain.GENESIS_HASH)
    assert verify().ok  # the chain alone: "intact, 0 records"
    result = verify_trail()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 1, 0)
    assert "署名付きアンカー" in result.reason and "shorter than the signed anchor" in result.reason


def test_an_emptied_trail_is_broken_in_a_home_with_data_even_without_anchors(ten: list[str], tmp_path: Path) -> None:
    from django.utils import timezone

    from jutaku.accounts.models import Terminal

    anchors.use_location(anchors.Location(tmp_path / "none", tmp_path / "none-key"))  # no key, no file
    Terminal.objects.create(name="console", network="127.0.0.1/32", created_at=timezone.now(), created_by="t")
    with owner_rights():
        sql("DELETE FROM audit_record")
        _reset_head(0, chain.GENESIS_HASH)
    result = verify_trail()
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert "監査証跡が空" in result.reason


def test_the_anchor_file_removed_while_its_key_exists_is_broken(anchored: list[str]) -> None:
    anchors.location().anchor_file.unlink()
    result = verify_trail()
    assert not result.ok and "アンカーファイル" in result.reason and "missing or empty" in result.reason


def test_a_cut_tail_with_the_head_fixed_is_broken(anchored: list[str]) -> None:
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq >= 9")
        _reset_head(8, anchored[7])
    assert verify().ok
    result = verify_trail()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 9, 8)
    assert "seq 10" in result.reason and "shorter" in result.reason


def test_a_forged_approval_in_place_of_anchored_records_is_broken(anchored: list[str]) -> None:
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq = 10")
        forged = forge(10, anchored[8], event=AuditEvent.APPROVAL_APPROVE.value, objects="approval:7")
        _reset_head(10, forged)
    assert verify().ok  # a valid chain hash: only the anchor knows seq 10 was something else
    result = verify_trail()
    assert (result.ok, result.first_bad_seq) == (False, 10)
    assert "異なります" in result.reason and "differs from the signed anchor" in result.reason


def test_a_chain_rewritten_from_before_the_newest_anchor_is_broken_at_the_first_anchor_after_the_point(
        anchored: list[str]) -> None:
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq >= 3")
        prev = anchored[1]
        for seq in range(3, 11):
            prev = forge(seq, prev)
        _reset_head(10, prev)
    assert verify().ok
    result = verify_trail()
    assert (result.ok, result.first_bad_seq) == (False, 5)
    later = verify_trail(from_seq=7)  # the anchor before the range is looked up directly
    assert (later.ok, later.first_bad_seq) == (False, 5)


def test_no_anchor_is_written_over_a_trail_that_contradicts_the_newest_one(
        anchored: list[str], caplog: pytest.LogCaptureFixture) -> None:
    before = anchors.location().anchor_file.read_text()
    with owner_rights():
        sql("DELETE FROM audit_record WHERE seq >= 9")
        _reset_head(8, anchored[7])
    assert anchors.after("command") is None
    assert anchors.location().anchor_file.read_text() == before  # the next command does not launder it
    assert "no audit anchor written" in caplog.text
    assert not verify_trail().ok


def test_verify_recorded_reports_the_anchor_it_checked(anchored: list[str], actor: Actor) -> None:
    verification = verify_recorded(actor=actor)
    result = verification.result
    assert verification.recorded and result.ok and result.checked == 10
    assert (result.anchor_seq, result.anchor_lines, result.restores) == (10, 3, 0)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_head SET seq = 8, hash = %(h8)s",       # rewind to an earlier record
    "UPDATE audit_head SET hash = %(bad)s",                # a hash no record has
    "UPDATE audit_head SET seq = 11, hash = %(bad)s",      # ahead of the records
    "UPDATE audit_head SET seq = 0, hash = %(zero)s",      # the emptied-trail reset
    "DELETE FROM audit_head",
])
def test_the_head_moves_only_with_the_records(ten: list[str], statement: str) -> None:
    params = {"h8": ten[7], "bad": "f" * 64, "zero": chain.GENESIS_HASH}
    with pytest.raises(DatabaseError, match="the audit head moves only"), \
            transaction.atomic():
        sql(statement, params)
    assert sql("SELECT seq, hash FROM audit_head") == [(10, ten[-1])]
    assert verify().ok


def test_a_deleted_head_cannot_be_put_back_anywhere_but_at_the_genesis_of_an_empty_trail(ten: list[str]) -> None:
    with owner_rights():
        sql("DELETE FROM audit_head")
    with pytest.raises(DatabaseError, match="the audit head moves only"), transaction.atomic():
        sql("INSERT INTO audit_head (id, seq, hash) VALUES (1, 8, %s)", [ten[7]])
    with pytest.raises(DatabaseError, match="the audit head moves only"), transaction.atomic():
        sql("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, %s)", [chain.GENESIS_HASH])
    assert sql("SELECT COUNT(*) FROM audit_head") == [(0,)]


def test_the_head_cannot_be_truncated_or_replaced(ten: list[str]) -> None:
    statement = ("TRUNCATE audit_head" if connection.vendor == "postgresql"
                 else "INSERT OR REPLACE INTO audit_head (id, seq, hash) VALUES (1, 0, %s)")
    with pytest.raises(DatabaseError, match="the audit head moves only"), transaction.atomic():
        sql(statement, [] if connection.vendor == "postgresql" else [chain.GENESIS_HASH])
    assert sql("SELECT seq, hash FROM audit_head") == [(10, ten[-1])]


def test_a_record_cannot_be_replaced(ten: list[str]) -> None:
    """SQLite's REPLACE deletes the old row without firing DELETE triggers; PostgreSQL's upsert updates it."""
    r = row(5)
    values = [r["seq"], r["at"], "attacker", r["terminal"], r["event"], r["objects"], r["outcome"], r["job_id"],
              r["detail"], r["prev_hash"], r["hash"]]
    columns = "(seq, at, username, terminal, event, objects, outcome, job_id, detail, prev_hash, hash)"
    marks = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    statement = (f"INSERT INTO audit_record {columns} VALUES {marks} ON CONFLICT (seq) DO UPDATE SET username = "
                 "EXCLUDED.username" if connection.vendor == "postgresql"
                 else f"INSERT OR REPLACE INTO audit_record {columns} VALUES {marks}")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(statement, values)
    assert row(5)["username"] == "clerk01"
    assert verify().ok


def test_a_dropped_audit_table_is_a_broken_verdict_not_an_error(anchored: list[str], actor: Actor) -> None:
    for table in ("audit_record", "audit_head"):
        with transaction.atomic():  # DDL is transactional on both databases: rolled back below
            triggers.uninstall_on(connection)
            sql(f"DROP TABLE {table}")
            verification = verify_recorded(actor=actor)
            transaction.set_rollback(True)
        result = verification.result
        assert (result.ok, verification.recorded) == (False, False)
        assert "監査テーブル" in result.reason and "missing or unreadable" in result.reason
    assert verify_trail().ok
