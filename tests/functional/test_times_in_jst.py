"""The command line shows times in JST (ADR 0027): listings of stored (UTC) times at the moment a UTC date
and a JST date differ, and the name of a backup made now. Child processes, SQLite or PostgreSQL."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jutaku.domain.jst import format_file_stamp
from tests.conftest import ROOT, run_jutaku

pytestmark = pytest.mark.subprocess

SUPPORT = ROOT / "tests" / "integration" / "jobs" / "kill_support.py"
#: 2026-12-04 15:00:00 UTC, as stored, is 2026-12-05 00:00:00 in Tokyo.
STORED = "2026-12-04 15:00:00"
JST_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d JST")


def _store_boundary(env: dict[str, str], table: str, *columns: str) -> None:
    """Set ``columns`` of every row of ``table`` in the child's database to the boundary (stored UTC)."""
    url = env.get("JUTAKU_DATABASE_URL")
    value = f"{STORED}+00" if url else STORED  # SQLite keeps Django's aware times as UTC text
    statement = f"UPDATE {table} SET " + ", ".join(f"{c} = '{value}'" for c in columns)
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]
        return
    db = sqlite3.connect(Path(env["JUTAKU_HOME"]) / "jutaku.sqlite3", isolation_level=None)
    try:
        db.execute(statement)
    finally:
        db.close()


def test_listings_show_stored_times_in_jst_at_the_date_boundary(child_home: dict[str, str]) -> None:
    ran = subprocess.run([sys.executable, str(SUPPORT), "run", "--items", "10", "--chunk", "5", "--sleep", "0",
                          "--dry-run"], env=child_home, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    job = str(json.loads(ran.stdout)["job_id"])
    _store_boundary(child_home, "jobs_job", "created_at", "started_at", "finished_at")
    _store_boundary(child_home, "allowlist_allowlistversion", "loaded_at")

    listed = run_jutaku(child_home, "jobs", "list", check=True).stdout
    row = next(line for line in listed.splitlines() if line.split()[:1] == [job])
    assert "2026-12-05 00:00:00 JST" in row and "2026-12-04" not in listed
    shown = run_jutaku(child_home, "jobs", "show", job, check=True).stdout
    assert re.search(r"^作成日時 +2026-12-05 00:00:00 JST$", shown, re.M), shown
    assert re.search(r"^終了日時 +2026-12-05 00:00:00 JST$", shown, re.M), shown
    as_json = json.loads(run_jutaku(child_home, "jobs", "show", job, "--json", check=True).stdout)
    assert as_json["created_at"] == "2026-12-05T00:00:00+09:00"  # for programs: ISO 8601, JST offset

    allow = run_jutaku(child_home, "allowlist", "show", check=True).stdout.splitlines()[0]
    assert "2026-12-05 00:00:00 JST" in allow and "15:00" not in allow

    audit = run_jutaku(child_home, "audit", "list", "--limit", "3", check=True).stdout.splitlines()
    assert audit[1].startswith("----") and all(JST_LINE.search(line) for line in audit[2:-1]), audit


def test_a_backup_is_named_with_the_jst_time_it_was_made(child_home: dict[str, str], tmp_path: Path) -> None:
    before = format_file_stamp(datetime.now(UTC))
    made = run_jutaku(child_home, "backup", "run", "--out", str(tmp_path / "b"), check=True).stdout
    after = format_file_stamp(datetime.now(UTC))
    [name] = [p.name for p in (tmp_path / "b").iterdir() if not p.name.endswith(".manifest.json")]
    stamp = re.fullmatch(r"jutaku-([0-9]{8}-[0-9]{6})\.(sqlite3|pgdump)", name)
    assert stamp and before <= stamp.group(1) <= after, (name, before, after)
    assert name in made
