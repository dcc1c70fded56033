"""An audit trail that cannot be emptied (issue 13 item 4; ADR 0014), through the `jutaku` command.

The attacker owns the database (not the files of the application server): they drop or disable the
triggers, delete records and move the head. `jutaku audit verify` checks the chain against the signed
anchors that every command, job and init appended to a file outside the database, so the emptied or cut
trail is BROKEN with a clear Japanese verdict — and so is a dropped table. An auditor's copy of the anchor
file, taken off the machine, also catches an attacker who could edit that file, and verifies on its own.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from jutaku.audit.chain import GENESIS_HASH
from tests.conftest import ROOT, child_query, pg_url, run_jutaku

pytestmark = pytest.mark.subprocess

INTACT = "監査証跡は完全です"
BROKEN = "監査証跡の不整合を検出しました"


def _as_owner(env: dict[str, str], statements: list[str], *, triggers_off: str = "all") -> None:
    """Run ``statements`` on the child's database as its owner, in one transaction, with the audit triggers
    dropped (SQLite) or disabled (PostgreSQL): ``all`` of them, ``delete`` only the one the issue names (on
    PostgreSQL: audit_record's), or ``none`` (DDL such as DROP TABLE needs no trigger out of the way)."""
    url = env.get("JUTAKU_DATABASE_URL") if pg_url() else None
    if url:
        tables = {"all": ["audit_record", "audit_head"], "delete": ["audit_record"], "none": []}[triggers_off]
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            for table in tables:
                conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")  # type: ignore[arg-type]
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]
            for table in tables:
                conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")  # type: ignore[arg-type]
        return
    db = sqlite3.connect(Path(env["JUTAKU_HOME"]) / "jutaku.sqlite3", isolation_level=None)
    try:
        names = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                                "tbl_name IN ('audit_record', 'audit_head')")]
        dropped = {"all": names, "delete": ["audit_record_no_delete"], "none": []}[triggers_off]
        db.execute("BEGIN")
        for statement in [*(f"DROP TRIGGER {name}" for name in dropped), *statements]:
            db.execute(statement)
        db.execute("COMMIT")
    finally:
        db.close()


EMPTIED = ["DELETE FROM audit_record", f"UPDATE audit_head SET seq = 0, hash = '{GENESIS_HASH}'"]


def test_an_emptied_trail_with_its_head_reset_is_broken(child_home: dict[str, str]) -> None:
    assert INTACT in run_jutaku(child_home, "audit", "verify", check=True).stdout
    _as_owner(child_home, EMPTIED)  # every trigger dropped (SQLite) / disabled (PostgreSQL)
    assert child_query(child_home, "SELECT count(*) FROM audit_record") == [(0,)]
    broken = run_jutaku(child_home, "audit", "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr  # was: 「監査証跡は完全です … 0 件検証」
    assert BROKEN in broken.stdout and INTACT not in broken.stdout
    assert "署名付きアンカー" in broken.stdout and "より短くなっています" in broken.stdout
    assert "内部エラー" not in broken.stderr


def test_the_head_reset_is_refused_with_only_the_delete_trigger_dropped(child_home: dict[str, str]) -> None:
    """As the issue describes the attack (the delete trigger dropped / audit_record's triggers disabled): the
    head's own guard, installed by the migration, refuses the reset, and the transaction deletes nothing."""
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="the audit head moves only"):
        _as_owner(child_home, EMPTIED, triggers_off="delete")
    assert child_query(child_home, "SELECT count(*) FROM audit_record")[0][0] > 0
    ok = run_jutaku(child_home, "audit", "verify", check=True)
    assert INTACT in ok.stdout and "checked against the signed anchors" in ok.stdout


def test_a_dropped_audit_table_is_a_broken_verdict(child_home: dict[str, str]) -> None:
    _as_owner(child_home, ["DROP TABLE audit_record"], triggers_off="none")
    broken = run_jutaku(child_home, "audit", "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert BROKEN in broken.stdout and "監査テーブルがないか読めません" in broken.stdout
    assert "内部エラー" not in broken.stderr and "Traceback" not in broken.stderr


def test_the_auditors_copy_catches_a_rewritten_anchor_file_and_verifies_off_the_machine(
        child_home: dict[str, str], tmp_path: Path) -> None:
    copy, public = tmp_path / "auditor" / "anchors.log", tmp_path / "auditor" / "anchor-public.pem"
    copy.parent.mkdir()
    taken = run_jutaku(child_home, "audit", "checkpoint", "--out", str(copy), check=True)
    assert "signed anchor written" in taken.stdout
    anchor_dir = Path(child_home["JUTAKU_HOME"]) / "audit-anchors"
    shutil.copyfile(anchor_dir / "anchor-public.pem", public)
    off_machine = subprocess.run([sys.executable, str(ROOT / "src" / "jutaku" / "audit" / "anchorfile.py"), str(copy),
                                  "--public-key", str(public)], capture_output=True, text=True, timeout=60, check=False)
    assert off_machine.returncode == 0 and "anchor file verifies" in off_machine.stdout, off_machine.stdout

    # An attacker who can also write the application server's files cuts the anchor file back to its first
    # line and the trail back to that anchor: this machine alone can no longer tell...
    local = anchor_dir / "anchors.log"
    first_line = local.read_text().splitlines()[0]
    seq, digest = int(first_line.split()[3]), first_line.split()[5]
    _as_owner(child_home, [f"DELETE FROM audit_record WHERE seq > {seq}",
                           f"UPDATE audit_head SET seq = {seq}, hash = '{digest}'"])
    local.write_text(first_line + "\n")
    alone = run_jutaku(child_home, "audit", "verify")
    assert INTACT in alone.stdout
    # ...but the auditor's copy can.
    with_copy = run_jutaku(child_home, "audit", "verify", "--anchors", str(copy))
    assert with_copy.returncode == 1 and BROKEN in with_copy.stdout and "控え" in with_copy.stdout
