"""Status is never stale (issue 14 item 12): a `jutaku` job killed by a signal is shown as 中断 (interrupted),
not 実行中, by the next command — `jutaku jobs list` and `jutaku jobs show` — with the command that resumes it;
that command resumes it to 完了. SQLite and PostgreSQL. (A live job's 実行中, and the same on the screens:
tests/browser/test_status_journey.py.)
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import JUTAKU, ROOT, child_query, run_jutaku

pytestmark = pytest.mark.subprocess


def job_row(env: dict[str, str]) -> tuple[int, int, str] | None:
    rows = child_query(env, "SELECT id, \"cursor\", state FROM jobs_job WHERE kind = 'import-targets' ORDER BY id DESC")
    return None if not rows else (int(rows[0][0]), int(rows[0][1]), str(rows[0][2]))


def test_a_killed_import_is_interrupted_at_the_next_command_which_names_the_command_that_resumes_it(
        child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=1500, seed=83), world)
    targets = world / "targets.csv"
    victim = subprocess.Popen([*JUTAKU, "import", "targets", str(targets), "--no-progress", "--chunk-size", "2"],
                              env=child_home, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while (row := job_row(child_home)) is None or row[1] < 10:
            assert victim.poll() is None, f"the import ended before it could be killed: {victim.communicate()}"
            assert time.monotonic() < deadline, "the import never made progress"
            time.sleep(0.005)
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.communicate()
    job_id, cursor, state = job_row(child_home) or (0, 0, "")
    assert state == "running" and 0 < cursor < 1500  # the row never learnt that its process died

    listed = run_jutaku(child_home, "jobs", "list", check=True).stdout.splitlines()
    line = next(entry for entry in listed if entry.split()[:2] == [str(job_id), "対象者抽出の取込"])
    assert line.split()[2] == "中断"
    resume = f"#{job_id} 中断: 続きから処理するには: jutaku import targets {targets.name}"
    assert resume in listed
    shown = json.loads(run_jutaku(child_home, "jobs", "show", str(job_id), "--json", check=True).stdout)
    assert (shown["state"], shown["status"], shown["status_label"]) == ("running", "interrupted", "中断")
    assert shown["resume"].endswith(f"jutaku import targets {targets.name}")
    assert "中断" in run_jutaku(child_home, "jobs", "show", str(job_id), check=True).stdout

    command = shlex.split(resume.split(": ", 2)[2])
    assert command[:3] == ["jutaku", "import", "targets"]
    run_jutaku(child_home, *command[1:3], str(targets), "--no-progress", check=True)  # the hinted command
    listed = run_jutaku(child_home, "jobs", "list", check=True).stdout.splitlines()
    line = next(entry for entry in listed if entry.split()[:2] == [str(job_id), "対象者抽出の取込"])
    assert line.split()[2] == "完了" and not any(entry.startswith(f"#{job_id} ") for entry in listed)
    assert run_jutaku(child_home, "audit", "verify", check=True).returncode == 0
