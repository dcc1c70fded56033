"""When anchors are written, and what the writer refuses (ADR 0014), on both databases.

Every test has its own anchor file, started at the empty trail (``fresh_anchor_file`` in tests/conftest.py).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.audit import anchorfile, anchors
from jutaku.audit.events import AuditEvent
from jutaku.audit.models import AuditRecord
from jutaku.audit.service import AuditEntry, record, record_many
from jutaku.audit.trail import verify_trail
from jutaku.jobs.runner import run_job

from .helpers import owner_rights, row, sql

pytestmark = pytest.mark.django_db(transaction=True)


def lines() -> list[anchorfile.Anchor]:
    where = anchors.location()
    key = anchors.public_key(where)
    assert key is not None
    return list(anchorfile.read(where.anchor_file.read_text(encoding="ascii"), key).lines)


def write_records(actor: Actor, n: int) -> None:
    with transaction.atomic():
        record_many([AuditEntry(AuditEvent.NUMBER_READ, [f"P{i}"]) for i in range(n)], actor=actor)


def test_every_job_ends_with_an_anchor_of_its_records(actor: Actor) -> None:
    result = run_job("test.anchor", items=iter(range(12)), input_sha256="a" * 64, input_name="x.csv", actor=actor,
                     handler=lambda chunk, ctx: {"ok": len(chunk)}, chunk_size=5, progress=False)
    last = AuditRecord.objects.order_by("-seq").first()
    assert result.state == "completed" and last is not None and last.event == AuditEvent.JOB_FINISH
    newest = lines()[-1]
    assert (newest.kind, newest.seq, newest.count, newest.hash) == ("job", last.seq, last.seq, last.hash)


def test_a_failed_job_is_anchored_too(actor: Actor) -> None:
    def fail(chunk: list[tuple[int, int]], ctx: object) -> dict[str, int]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run_job("test.anchor", items=iter(range(3)), input_sha256="b" * 64, input_name="x.csv", actor=actor,
                handler=fail, progress=False)
    assert lines()[-1].kind == "job" and lines()[-1].seq == AuditRecord.objects.count()


def test_security_events_are_anchored_as_soon_as_they_commit_others_wait(actor: Actor) -> None:
    with transaction.atomic():
        record(AuditEvent.NUMBER_READ, actor=actor, objects=["P1"])
    assert [a.kind for a in lines()] == ["start"]
    with transaction.atomic():
        record(AuditEvent.APPROVAL_APPROVE, actor=actor, objects=["approval:7"])
        assert [a.kind for a in lines()] == ["start"]  # not before the commit
    assert [(a.kind, a.seq) for a in lines()] == [("start", 0), ("event", 2)]
    with transaction.atomic():
        record(AuditEvent.USER_ROLES, actor=actor, objects=["clerk02"])
        transaction.set_rollback(True)
    assert len(lines()) == 2  # a rolled-back record is not anchored


def test_the_periodic_anchor_waits_until_the_newest_is_old_enough_and_the_head_moved(actor: Actor) -> None:
    write_records(actor, 3)
    now = datetime.now(UTC)
    assert anchors.write("periodic", due=timedelta(minutes=5), now=now + timedelta(minutes=1)) is None
    assert anchors.write("periodic", due=timedelta(minutes=5), now=now + timedelta(minutes=6)).seq == 3  # type: ignore[union-attr]
    assert anchors.write("periodic", due=timedelta(minutes=5), now=now + timedelta(minutes=20)) is None  # no move
    write_records(actor, 1)
    assert anchors.after_if_due() is None  # the newest anchor is recent (config: 5 minutes)
    assert anchors.after("command") is not None and lines()[-1].seq == 4


def test_a_home_made_before_anchors_gets_its_key_and_first_anchor_on_first_use(actor: Actor, tmp_path: Path) -> None:
    write_records(actor, 2)
    where = anchors.Location(tmp_path / "old-home" / "audit-anchors", tmp_path / "old-home" / "audit-signing")
    anchors.use_location(where)
    first = anchors.after("command")
    assert first is not None and (first.n, first.kind, first.seq) == (1, "command", 3)
    assert row(3)["event"] == AuditEvent.AUDIT_ANCHOR_KEY and row(3)["username"] == "system"
    assert oct(where.signing_key_file.stat().st_mode & 0o777) == "0o600"
    assert oct(where.anchor_file.stat().st_mode & 0o777) == "0o600"
    assert where.public_key_file.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert verify_trail().ok
    assert anchors.ensure_key(actor) is False  # once


def test_a_lost_key_is_not_replaced_and_a_readable_key_is_refused(actor: Actor, tmp_path: Path) -> None:
    where = anchors.Location(tmp_path / "old-home" / "audit-anchors", tmp_path / "old-home" / "audit-signing")
    anchors.use_location(where)
    anchors.after("command")
    write_records(actor, 1)
    os.chmod(where.signing_key_file, 0o644)
    assert anchors.after("command") is None
    assert "0600" in verify_trail().reason
    where.signing_key_file.unlink()
    assert anchors.after("command") is None and not where.signing_key_file.exists()  # no new key over old lines
    assert verify_trail().ok  # the exported public key still verifies the lines


def test_an_exported_public_key_that_is_not_the_signing_keys_is_broken(actor: Actor) -> None:
    where = anchors.location()
    other = anchorfile.private_key(anchorfile.generate_private_key()).public_key()
    where.public_key_file.write_bytes(anchorfile.public_pem(other))
    result = verify_trail()
    assert not result.ok and "exported public key" in result.reason


def test_a_restore_line_supersedes_the_anchors_above_it(actor: Actor) -> None:
    write_records(actor, 10)
    anchors.write("job")
    restored_hash = row(8)["hash"]
    with owner_rights():  # what restoring a backup taken at seq 8 does to the trail
        sql("DELETE FROM audit_record WHERE seq > 8")
        sql("UPDATE audit_head SET seq = 8, hash = %s", [restored_hash])
    assert not verify_trail().ok
    anchors.after("restore")
    write_records(actor, 5)  # the trail goes on, differently
    anchors.after("command")
    result = verify_trail()
    assert result.ok and result.restores == 1 and result.anchor_seq == 13
    assert [(a.kind, a.seq) for a in lines()] == [("start", 0), ("job", 10), ("restore", 8), ("command", 13)]


def test_a_long_job_is_anchored_while_it_runs_once_the_newest_anchor_is_old(actor: Actor) -> None:
    where = anchors.location()
    key = anchors.signing_key(where)
    assert key is not None
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    start = anchorfile.make_line(key, previous=None, kind="start", seq=0, count=0, hash_=anchorfile.ZERO,
                                 now=an_hour_ago)
    where.anchor_file.write_text(start.raw + "\n", encoding="ascii")
    anchors._newest_seen.clear()
    run_job("test.anchor", items=iter(range(30)), input_sha256="c" * 64, input_name="x.csv", actor=actor,
            handler=lambda chunk, ctx: {"ok": len(chunk)}, chunk_size=5, progress=False)
    # JOB_START (1), chunk 1 (2): due, anchored; chunks 2..6 within the 5 minutes: not; the end: anchored.
    assert [(a.kind, a.seq) for a in lines()] == [("start", 0), ("periodic", 2), ("job", 8)]


def test_an_anchor_that_counts_fewer_records_than_its_seq_is_broken(actor: Actor) -> None:
    write_records(actor, 4)
    where = anchors.location()
    key = anchors.signing_key(where)
    assert key is not None
    line = anchorfile.make_line(key, previous=lines()[-1], kind="job", seq=4, count=3, hash_=row(4)["hash"],
                                now=datetime.now(UTC))
    with where.anchor_file.open("a", encoding="ascii") as fh:
        fh.write(line.raw + "\n")
    result = verify_trail()
    assert not result.ok and "count 3 is not seq 4" in result.reason
