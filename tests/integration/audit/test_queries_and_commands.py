"""Searching the trail (LOG-07) and the `jutaku audit` commands, run as a child process."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.audit import checkpoint
from jutaku.audit.events import AuditEvent
from jutaku.audit.queries import Criteria, first_seq_at_or_after, search, touched_objects
from jutaku.audit.service import AuditEntry, record, record_many
from tests.conftest import child_query, pg_url, run_jutaku


@pytest.mark.django_db(transaction=True)
def test_search_and_incident_query(actor: Actor) -> None:
    other = Actor(username="vendor02", terminal="10.0.0.99")
    before = datetime.now(tz=UTC) - timedelta(seconds=1)
    with transaction.atomic():
        record(AuditEvent.NUMBER_READ, actor=actor, objects=["P1", "P12"])
        record(AuditEvent.NUMBER_READ, actor=other, objects=["P12"], job_id=9)
        record_many([AuditEntry(AuditEvent.NUMBER_STORE, [f"P{i}"]) for i in range(100, 110)], actor=other,
                    job_id=9)
        record(AuditEvent.NUMBER_SEARCH, actor=actor, objects=["P123"])
    after = datetime.now(tz=UTC) + timedelta(seconds=1)
    assert [r.seq for r in search(Criteria(object_id="P12"))] == [2, 1]
    assert [r.seq for r in search(Criteria(object_id="P1"))] == [1]
    assert [r.seq for r in search(Criteria(username="clerk01"))] == [13, 1]
    assert [r.seq for r in search(Criteria(event=AuditEvent.NUMBER_STORE, limit=3))] == [12, 11, 10]
    assert len(search(Criteria(since=before.date()))) == 13
    assert touched_objects(start=before, end=after, username="vendor02") == {"P12", *(f"P{i}" for i in range(100, 110))}
    assert touched_objects(start=before, end=after, job_id=9) == touched_objects(start=before, end=after, username="vendor02")
    assert touched_objects(start=after, end=after + timedelta(days=1), username="vendor02") == set()
    assert first_seq_at_or_after(before) == 1 and first_seq_at_or_after(after) == 14
    with pytest.raises(ValueError):
        touched_objects(start=before, end=after)


@pytest.mark.subprocess
def test_audit_commands_verify_list_checkpoint_and_detect_tampering(child_home: dict[str, str], tmp_path: Path) -> None:
    ok = run_jutaku(child_home, "audit", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "audit trail intact" in ok.stdout
    listed = run_jutaku(child_home, "audit", "list", "--event", "audit:verify", check=True)
    header = listed.stdout.splitlines()[0].split()
    assert header == ["連番", "日時", "利用者", "端末", "操作", "結果", "ジョブ", "対象", "詳細"]
    assert "操作記録の検証" in listed.stdout and "audit:verify" not in listed.stdout  # by name (issue 14 item 4)
    assert "正常" in listed.stdout and "検証件数" in listed.stdout and "{" not in listed.stdout
    names = run_jutaku(child_home, "audit", "events", check=True).stdout
    assert re.search(r"^個人番号 +個人番号の登録 +number:store$", names, re.M)
    searched = run_jutaku(child_home, "audit", "list", "--user", "nobody", "--since", "20260101", check=True)
    assert "0 件" in searched.stdout
    assert run_jutaku(child_home, "audit", "list", "--since", "2026-01-01").returncode == 2
    copy = tmp_path / "anchors-copy.log"
    written = run_jutaku(child_home, "audit", "checkpoint", "--out", str(copy), check=True)
    assert "signed anchor written" in written.stdout and copy.read_text().startswith("jutaku-anchor/v1 1 init ")
    again = run_jutaku(child_home, "audit", "verify", "--anchors", str(copy), check=True)
    assert "intact" in again.stdout and "checked against the signed anchors" in again.stdout
    # A jutaku-audit/v1 checkpoint file from before the signed anchors is still understood.
    [(first_hash,)] = child_query(child_home, "SELECT hash FROM audit_record WHERE seq = 1")
    old_checkpoint = tmp_path / "cp.txt"
    checkpoint.write(old_checkpoint, seq=1, hash_=first_hash)
    assert "intact" in run_jutaku(child_home, "audit", "verify", "--checkpoint", str(old_checkpoint), check=True).stdout
    # The searches and the checkpoint were audited too.
    events = run_jutaku(child_home, "audit", "list", "--limit", "50", check=True).stdout
    assert "操作記録の検索" in events and "操作記録の確認点" in events

    _tamper(child_home, "UPDATE audit_record SET outcome = 'denied' WHERE seq = 2")
    broken = run_jutaku(child_home, "audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN" in broken.stdout and "seq 2" in broken.stdout


def _tamper(env: dict[str, str], statement: str) -> None:
    """Change the child's database as its owner would (triggers off, then back on)."""
    url = env.get("JUTAKU_DATABASE_URL") if pg_url() else None
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ALTER TABLE audit_record DISABLE TRIGGER USER")
            conn.execute(statement)  # type: ignore[arg-type]
            conn.execute("ALTER TABLE audit_record ENABLE TRIGGER USER")
        return
    from jutaku.audit import triggers

    db = sqlite3.connect(Path(env["JUTAKU_HOME"]) / "jutaku.sqlite3", isolation_level=None)
    try:
        for sql in triggers.SQLITE_UNINSTALL:
            db.execute(sql)
        db.execute(statement)
        for sql in triggers.SQLITE_INSTALL:
            db.execute(sql)
    finally:
        db.close()
