"""Use suspension from the command line (issue 12 item 2): `requests handle` stops the person's use at once
(`linkage request` leaves them out and writes its 対象外リスト with X07); `requests lift` asks, a different
supervisor's `approvals approve` lifts it (child processes, SQLite or PostgreSQL as the tier says)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import child_query, login_as, run_jutaku

pytestmark = pytest.mark.subprocess
LIST = re.compile(r"対象外リスト（利用停止中 X07 など）: (\S+) ")


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_suspension_is_handled_and_lifted_from_the_command_line(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=120, seed=29), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    [(pid,)] = child_query(child_home, "SELECT p.person_id FROM registry_person p JOIN registry_mynumberrecord m "
                                       "ON m.person_id = p.id WHERE p.status = '1' ORDER BY p.id LIMIT 1")
    clerk = login_as(child_home, "registrar", username="rg.kimura")
    out = run_jutaku(clerk, "requests", "record", "--person", pid, "--kind", "suspension", check=True).stdout
    request_id = re.search(r"請求 #(\d+)", out)
    assert request_id
    run_jutaku(clerk, "requests", "handle", request_id.group(1), check=True)

    first = run_jutaku(child_home, "linkage", "request", "--out", str(tmp_path / "r1.csv"), "--plain",
                       "--no-progress", check=True).stdout
    listed = LIST.search(first)
    assert listed, first
    assert [(r["個人ID"], r["結果コード"]) for r in rows_of(Path(listed.group(1)))] == [(pid, "X07")]
    assert pid not in {r["個別業務システム利用番号"] for r in rows_of(tmp_path / "r1.csv")}

    asked = run_jutaku(clerk, "requests", "lift", request_id.group(1), "--reason", "本人が取り下げ", check=True).stdout
    approval = re.search(r"承認依頼 #(\d+)", asked)
    assert approval
    assert run_jutaku(clerk, "approvals", "approve", approval.group(1)).returncode != 0  # not a supervisor
    supervisor = login_as(child_home, "supervisor", username="sv.mori")
    run_jutaku(supervisor, "approvals", "approve", approval.group(1), check=True)
    assert child_query(child_home, f"SELECT state FROM subjects_subjectrequest WHERE id = {int(request_id.group(1))}") \
        == [("lifted",)]
    [(event,)] = child_query(child_home, "SELECT count(*) FROM audit_record WHERE event = 'subject:lift'")
    assert event == 1
    again = run_jutaku(child_home, "linkage", "request", "--out", str(tmp_path / "r2.csv"), "--plain",
                       "--no-progress", check=True).stdout
    assert not LIST.search(again)
    assert {r["個別業務システム利用番号"] for r in rows_of(tmp_path / "r2.csv")} == {pid}
