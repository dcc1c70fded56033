"""The kill test (REL-01, REL-03): SIGKILL a running job, run it again, compare with a clean run.

Each run is a real process on a fresh home (:mod:`kill_support`). After the kill the rerun must not be
refused by a stale lock; it resumes from the committed cursor, and the audit trail and job counts end up
exactly as a clean run's in a second fresh home: every item audited once, in order, chain intact.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_jutaku

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]

SUPPORT = Path(__file__).with_name("kill_support.py")
ITEMS, CHUNK = 20_000, 500


def support(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SUPPORT), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def start(env: dict[str, str], *, pause: float = 0.05) -> subprocess.Popen[str]:
    """A slow run: 40 chunks of 0.05 s inside the transaction and ``pause`` s between chunks."""
    return subprocess.Popen(
        [sys.executable, str(SUPPORT), "run", "--items", str(ITEMS), "--chunk", str(CHUNK), "--sleep", "0.05",
         "--pause", str(pause)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def job_row(env: dict[str, str]) -> tuple[int, str] | None:
    """(cursor, state) of the latest test.kill job, read straight from the child's database."""
    sql = 'SELECT "cursor", "state" FROM jobs_job WHERE kind = \'test.kill\' AND state <> \'refused\' ORDER BY id DESC'
    url = env.get("JUTAKU_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(sql).fetchone()
    else:
        db = Path(env["JUTAKU_HOME"]) / "jutaku.sqlite3"
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            row = conn.execute(sql).fetchone()
        finally:
            conn.close()
    return None if row is None else (int(row[0]), str(row[1]))


def wait_for_cursor(env: dict[str, str], proc: subprocess.Popen[str], minimum: int) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the job ended before it could be killed: {proc.communicate()}"
        row = job_row(env)
        if row and row[0] >= minimum:
            return row[0]
        time.sleep(0.02)
    raise AssertionError("the job never made progress")


def dump(env: dict[str, str]) -> dict[str, Any]:
    proc = support(env, "dump")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def finish(env: dict[str, str]) -> dict[str, Any]:
    proc = support(env, "run", "--items", str(ITEMS), "--chunk", str(CHUNK), "--sleep", "0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(json.loads(proc.stdout))


def test_a_killed_job_resumes_to_exactly_the_clean_result(child_home, second_child_home):
    victim = start(child_home)
    try:
        at_kill = wait_for_cursor(child_home, victim, minimum=3 * CHUNK)
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.communicate()
    cursor, state = job_row(child_home) or (0, "")
    assert state == "running" and at_kill <= cursor < ITEMS  # killed mid-job; the row never saw it die
    assert cursor % CHUNK == 0  # only whole chunks are ever committed

    resumed = finish(child_home)  # not refused: the dead process's lock died with it
    clean = finish(second_child_home)

    assert resumed["resumed"] and not clean["resumed"]
    assert resumed["counts"] == clean["counts"] == {"imported": ITEMS}
    after_kill, reference = dump(child_home), dump(second_child_home)
    assert after_kill["objects"] == reference["objects"] == [f"{i:010d}" for i in range(ITEMS)]
    assert [(j["state"], j["cursor"], j["counts"]) for j in after_kill["jobs"]] == [
        ("completed", ITEMS, {"imported": ITEMS})
    ]
    assert after_kill["verify_ok"], after_kill["verify_reason"]
    assert reference["verify_ok"], reference["verify_reason"]


def test_a_second_process_is_refused_while_the_first_runs_and_not_after_it_is_killed(child_home):
    # Slow enough (about 20 s) that the first run is still going when the second has started and been
    # refused, however busy the machine; it is killed as soon as the refusal is seen.
    first = start(child_home, pause=0.5)
    try:
        wait_for_cursor(child_home, first, minimum=CHUNK)
        second = support(child_home, "run", "--items", str(ITEMS), "--chunk", str(CHUNK), "--sleep", "0")
        assert second.returncode == 2, second.stdout + second.stderr
        assert "another 'test.kill' job is running" in json.loads(second.stdout)["refused"]
        assert first.poll() is None, "the first run ended before it could be killed"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()

    assert finish(child_home)["resumed"]

    listed = run_jutaku(child_home, "jobs", "list", "--kind", "test.kill", "--json", check=True)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["state"] for r in rows] == ["refused", "completed"]
    assert rows[0]["error_code"] == "J_BUSY"
