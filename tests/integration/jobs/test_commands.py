"""`jutaku jobs list` and `jutaku jobs show` against a real home, in a child process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_jutaku

pytestmark = pytest.mark.subprocess

SUPPORT = Path(__file__).with_name("kill_support.py")


def run_support_job(env: dict[str, str], *extra: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, str(SUPPORT), "run", "--items", "1200", "--chunk", "500", "--sleep", "0",
                           *extra], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(json.loads(proc.stdout))


def test_list_and_show_report_jobs_and_their_counts_by_code(child_home):
    dry = run_support_job(child_home, "--dry-run")
    real = run_support_job(child_home)

    listed = run_jutaku(child_home, "jobs", "list", check=True).stdout.splitlines()
    assert listed[0].split() == ["番号", "種類", "状態", "試行", "処理件数", "作成日時", "入力"]
    assert set(listed[1]) <= {"-", " "}
    assert [line.split()[:3] for line in listed[2:]] == [
        [str(real["job_id"]), "test.kill", "完了"], [str(dry["job_id"]), "test.kill", "完了"],
    ]
    assert "試行" in listed[3] and "試行" not in listed[2] and "1,200/1,200" in listed[2]

    shown = run_jutaku(child_home, "jobs", "show", str(real["job_id"]), check=True).stdout
    assert re.search(r"^結果コード +件数 +内容$", shown, re.M), shown
    assert "imported" in shown and "1,200" in shown
    assert "kill-test.csv" in shown

    as_json = json.loads(run_jutaku(child_home, "jobs", "show", str(dry["job_id"]), "--json", check=True).stdout)
    assert (as_json["dry_run"], as_json["counts"], as_json["cursor"]) == (True, {"imported": 1200}, 1200)


def test_list_filters_by_kind_and_limits(child_home):
    run_support_job(child_home, "--dry-run")
    run_support_job(child_home, "--dry-run")
    assert len(run_jutaku(child_home, "jobs", "list", "--limit", "1", check=True).stdout.splitlines()) == 3
    assert len(run_jutaku(child_home, "jobs", "list", "--kind", "other", check=True).stdout.splitlines()) == 2


def test_showing_an_unknown_job_is_refused(child_home):
    proc = run_jutaku(child_home, "jobs", "show", "999")
    assert proc.returncode == 2
    assert "no job #999" in proc.stderr


def test_a_dry_run_in_a_real_home_leaves_no_audited_items(child_home):
    run_support_job(child_home, "--dry-run")
    proc = subprocess.run([sys.executable, str(SUPPORT), "dump"], env=child_home, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    dumped = json.loads(proc.stdout)
    assert dumped["objects"] == []
    assert [(j["dry_run"], j["state"]) for j in dumped["jobs"]] == [(True, "completed")]
    assert dumped["verify_ok"]
