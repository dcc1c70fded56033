"""`jutaku approvals show ID` (issue 14 item 8): before deciding a bulk deletion from the command line, the
approver reads who it affects — the counts by 削除理由, then 個人ID, 氏名, カナ, 状態 and 削除理由 in words, a page
at a time with the command for the next page — and the reading is audited. A security administrator (no
personal-data permission) reads the request but no person. SQLite and PostgreSQL, through the command.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import TARGETS
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import child_query, login_as, run_jutaku

pytestmark = pytest.mark.subprocess
MADE = re.compile(r"承認依頼 #(\d+) を作成しました")
MORE = re.compile(r"続き: jutaku approvals show (\d+) --after (\d+) --size 3")
ROW = re.compile(r"^(\d{10}) {2,}(.+?) {2,}(.+?) {2,}(.+?) {2,}(.+?) *$", re.M)  # the aligned table


@pytest.fixture
def request_id(child_home: dict[str, str], tmp_path: Path) -> tuple[str, dict[str, dict[str, str]]]:
    """A deletion request of registered persons the housing system reports gone: four moved-out residents
    (削除理由 1) and three withdrawn applicants (2); returns its number and their rows of targets.csv."""
    world = tmp_path / "world"
    build_world(WorldSpec(persons=60, seed=29, kit_share=1.0, portal_share=0.0), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    held = {r[0] for r in child_query(child_home, "SELECT p.person_id FROM registry_mynumberrecord m "
                                                  "JOIN registry_person p ON p.id = m.person_id")}
    with (world / "targets.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [t for t in csv.DictReader(fh) if t["個人ID"] in held]
    moved = [{**t, "状態": "2", "状態日付": "20261101"} for t in rows if t["区分"] == "1"][:4]
    gone = [{**t, "状態": "3", "状態日付": "20261101"} for t in rows if t["区分"] == "2"][:3]
    assert len(moved) == 4 and len(gone) == 3
    write_csv(tmp_path / "moves.csv", TARGETS, moved + gone)
    run_jutaku(child_home, "import", "targets", str(tmp_path / "moves.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "delete", "propose", "--out", str(tmp_path / "proposal.csv"), check=True)
    made = MADE.search(run_jutaku(child_home, "delete", "request", str(tmp_path / "proposal.csv"), "--reason",
                                  "退去者・辞退者の個人番号削除", check=True).stdout)
    assert made
    return made.group(1), {t["個人ID"]: t for t in moved + gone}


def test_the_approver_reads_the_counts_and_pages_through_the_persons_a_security_admin_none(
        child_home: dict[str, str], request_id: tuple[str, dict[str, dict[str, str]]]) -> None:
    number, persons = request_id
    boss = login_as(child_home, "supervisor", username="sv.reader")
    first = run_jutaku(boss, "approvals", "show", number, "--size", "3", check=True).stdout
    assert f"承認依頼 #{number} 個人番号の一括削除" in first and "状態: 承認待ち" in first
    assert "理由: 退去者・辞退者の個人番号削除" in first
    assert "対象者: 7 人（退去 4 人、辞退・不合格 3 人）" in first
    assert re.search(r"^個人ID +氏名 +氏名カナ +状態 +理由$", first, re.M), first
    seen: list[tuple[str, ...]] = []
    out = first
    for _ in range(5):
        seen += [m.groups() for m in ROW.finditer(out)]
        more = MORE.search(out)
        if more is None:
            break
        assert more.group(1) == number
        out = run_jutaku(boss, "approvals", "show", number, "--after", more.group(2), "--size", "3", check=True).stdout
    assert [len(seen)] == [7] and len({r[0] for r in seen}) == 7
    assert {r[0] for r in seen} == set(persons)
    for pid, name, kana, status, reason in seen:
        row = persons[pid]
        assert name == row["氏名"] and kana == row["氏名カナ"]
        assert (status, reason) == (("退去", "退去") if row["状態"] == "2" else ("辞退・不合格", "辞退・不合格"))
    audited = child_query(child_home, "SELECT username, objects, detail FROM audit_record "
                                      "WHERE event = 'approval:targets' ORDER BY seq")
    assert [a[0] for a in audited] == ["sv.reader"] * 3
    assert [json.loads(a[2])["count"] for a in audited] == [3, 3, 1]
    assert all(json.loads(a[2])["total"] == 7 for a in audited)
    assert {pid for a in audited for pid in a[1].split(",")[1:]} == set(persons)
    assert not any(persons[pid]["氏名"] in a[2] for a in audited for pid in persons)

    # A security administrator (decides role grants, holds no personal-data permission): no person.
    admin = login_as(child_home, "security_admin", username="sa.reader")
    out = run_jutaku(admin, "approvals", "show", number, check=True).stdout
    assert f"承認依頼 #{number}" in out and "だけが見られます" in out
    assert not any(pid in out for pid in persons)
    assert run_jutaku(admin, "approvals", "show", "999999").returncode == 2
