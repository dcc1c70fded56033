"""Killing a registration mid-run and running it again gives the database of an uninterrupted run
(issue 4, REL-01): every row applied once, its audit row once, the chain intact."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import JUTAKU, OPERATOR_ROLES, ROOT, fresh_child_env, login_as, run_jutaku
from tests.conftest import child_query as query

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]


def state(env: dict[str, str]) -> dict[str, Any]:
    """What must be equal between a killed-and-resumed home and a clean one (keys differ, so no bytes)."""
    return {
        "numbers": sorted(query(env, "SELECT p.person_id, m.receipt_no, m.source FROM registry_mynumberrecord m "
                                     "JOIN registry_person p ON p.id = m.person_id")),
        "rejections": sorted(query(env, "SELECT r.line_no, r.code, r.person_id FROM registry_importrejection r "
                                        "JOIN jobs_job j ON j.id = r.job_id WHERE j.kind = 'register-kit'")),
        "audit": sorted(query(env, "SELECT objects, outcome FROM audit_record WHERE event IN "
                                   "('number:store', 'person:reject') AND job_id IN "
                                   "(SELECT id FROM jobs_job WHERE kind = 'register-kit')")),
        "jobs": query(env, "SELECT state, counts FROM jobs_job WHERE kind = 'register-kit' AND state = 'completed'"),
    }


def cursor(env: dict[str, str]) -> int:
    rows = query(env, "SELECT cursor FROM jobs_job WHERE kind = 'register-kit' ORDER BY id DESC")
    return int(rows[0][0]) if rows else 0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(WorldSpec(persons=6000, seed=77), out)
    return out


def test_sigkill_mid_registration_then_resume_equals_a_clean_run(child_home: dict[str, str], world: Path,
                                                                  tmp_path: Path) -> None:
    args = ["register", "kit", str(world / "kit.csv"), "--no-progress", "--chunk-size", "200"]
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    proc = subprocess.Popen([*JUTAKU, *args], env=child_home, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while cursor(child_home) < 600:
        assert proc.poll() is None, "the registration finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    killed_at = cursor(child_home)
    total = len((world / "kit.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert 0 < killed_at < total

    resumed = run_jutaku(child_home, *args, check=True)
    assert re.search(r"^OK +[\d,]+ ", resumed.stdout, re.M)
    verify = run_jutaku(child_home, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # A clean, uninterrupted run in a second fresh home.
    with fresh_child_env(tmp_path / "clean-home", db_prefix="jutaku_clean") as clean_env:
        run_jutaku(clean_env, "init", check=True)
        clean_env = login_as(clean_env, *OPERATOR_ROLES)
        run_jutaku(clean_env, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
        run_jutaku(clean_env, *args, check=True)
        assert state(child_home) == state(clean_env)

