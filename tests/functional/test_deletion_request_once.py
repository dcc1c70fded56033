"""The same deletion list requested twice is one request (issue 14 item 9; README: the same file twice is a
reported no-op). Through the command line, on SQLite and PostgreSQL: the same file, the same list in
another order, and two sessions submitting it at once all give the one request, named by its number;
once that request is rejected (or run) the list may be requested again.
"""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest

from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import DELETION_TARGETS, TARGETS
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import JUTAKU, ROOT, child_query, login_as, run_jutaku

pytestmark = pytest.mark.subprocess
MADE = re.compile(r"承認依頼 #(\d+) を作成しました")
SAME = re.compile(r"同じ削除リストの承認依頼 #(\d+)（(.+?)、")


def deletion_requests(env: dict[str, str]) -> list[tuple[int, str]]:
    return [(int(pk), str(state)) for pk, state in child_query(
        env, "SELECT id, state FROM accounts_approval WHERE kind = 'bulk-deletion' ORDER BY id")]


@pytest.fixture
def proposal(child_home: dict[str, str], tmp_path: Path) -> Path:
    """A deletion list of registered residents the housing system reports moved out."""
    world = tmp_path / "world"
    build_world(WorldSpec(persons=80, seed=29, kit_share=1.0, portal_share=0.0), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    held = {r[0] for r in child_query(child_home, "SELECT p.person_id FROM registry_mynumberrecord m "
                                                  "JOIN registry_person p ON p.id = m.person_id")}
    with (world / "targets.csv").open(encoding="utf-8-sig", newline="") as fh:
        moved = [{**t, "状態": "2", "状態日付": "20261101"} for t in csv.DictReader(fh) if t["個人ID"] in held][:5]
    write_csv(tmp_path / "moves.csv", TARGETS, moved)
    run_jutaku(child_home, "import", "targets", str(tmp_path / "moves.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "delete", "propose", "--out", str(tmp_path / "proposal.csv"), check=True)
    return tmp_path / "proposal.csv"


def request(env: dict[str, str], path: Path) -> str:
    return run_jutaku(env, "delete", "request", str(path), "--reason", "退去者の個人番号削除", check=True).stdout


def test_the_same_list_twice_is_the_one_request_until_it_is_rejected(child_home: dict[str, str], proposal: Path,
                                                                     tmp_path: Path) -> None:
    made = MADE.search(request(child_home, proposal))
    assert made
    first = int(made.group(1))
    again = request(child_home, proposal)
    same = SAME.search(again)
    assert same and same.groups() == (str(first), "承認待ち")
    assert "新しい依頼は作成していません" in again
    # The same persons and reasons in another order (another file) are the same list.
    with proposal.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    write_csv(tmp_path / "reordered.csv", DELETION_TARGETS, list(reversed(rows)))
    assert f"#{first}（承認待ち" in request(child_home, tmp_path / "reordered.csv")
    supervisor = login_as(child_home, "supervisor", username="sv.other")
    run_jutaku(supervisor, "approvals", "approve", str(first), check=True)
    assert f"#{first}（承認済み" in request(child_home, proposal)  # approved, not yet run: still the request
    assert deletion_requests(child_home) == [(first, "approved")]
    audited = child_query(child_home, "SELECT count(*) FROM audit_record WHERE event = 'approval:request' "
                                      "AND outcome = 'duplicate'")
    assert audited == [(3,)]

    # A list that differs by one person is another list.
    write_csv(tmp_path / "fewer.csv", DELETION_TARGETS, rows[1:])
    other = MADE.search(request(child_home, tmp_path / "fewer.csv"))
    assert other and int(other.group(1)) != first
    run_jutaku(supervisor, "approvals", "reject", other.group(1), check=True)
    renewed = MADE.search(request(child_home, tmp_path / "fewer.csv"))  # rejected: it may be asked again
    assert renewed and int(renewed.group(1)) not in (first, int(other.group(1)))
    assert run_jutaku(child_home, "audit", "verify", check=True).returncode == 0


def test_two_sessions_submitting_the_same_list_at_once_make_one_request(child_home: dict[str, str],
                                                                        proposal: Path) -> None:
    second = login_as(child_home, "registrar", username="reg.second")
    runs = [subprocess.Popen([*JUTAKU, "delete", "request", str(proposal), "--reason", "退去者"], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for env in (child_home, second)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    [(number, state)] = deletion_requests(child_home)
    assert state == "pending"
    said = "".join(out for out, _ in outputs)
    assert said.count(f"#{number}") == 2 and len(MADE.findall(said)) == 1 and len(SAME.findall(said)) == 1
