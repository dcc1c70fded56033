"""A recorded death is not undone by a stale extract (issue 12 item 6; status precedence,
:mod:`jutaku.domain.status`), through the command line on SQLite or PostgreSQL as the tier says.

Juki-net reports deaths (D02); the housing system's next targets extract still lists those persons as
current. The status stays 死亡 (source Juki-net), each disagreeing row is ``S01`` and goes on the import's
notice list (届出勧奨リスト), the rest of the row still applies; a supervisor corrects one death with a
reason (audited), after which the extract applies to that person again.
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


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def statuses(env: dict[str, str], ids: list[str], *, source: bool = True) -> dict[str, tuple[str, ...]]:
    listed = ", ".join(f"'{i}'" for i in ids)
    columns = "status, status_source" if source else "status"
    return {pid: tuple(rest) for pid, *rest in child_query(
        env, f"SELECT person_id, {columns} FROM registry_person WHERE person_id IN ({listed})")}


def test_a_juki_net_death_survives_a_stale_extract_until_a_supervisor_corrects_it(
        child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=1500, seed=37), world)
    for step, name in (("targets", "targets.csv"), ("procedures", "procedures.csv")):
        run_jutaku(child_home, "import", step, str(world / name), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "juki", "request", "--year", "2026", "--out", str(tmp_path / "juki.csv"), "--no-progress",
               check=True)
    run_jutaku(child_home, "sim", "juki", "--world", str(world), str(tmp_path / "juki.csv.enc"),
               str(tmp_path / "juki-ans.csv"), check=True)
    run_jutaku(child_home, "juki", "import", str(tmp_path / "juki-ans.csv"), "--no-progress", check=True)
    dead = sorted(pid for (pid,) in child_query(
        child_home, "SELECT p.person_id FROM juki_jukiresult r JOIN registry_person p ON p.id = r.person_id "
                    "WHERE r.outcome = 'D02'"))
    assert len(dead) >= 2
    assert set(statuses(child_home, dead, source=False).values()) == {("4",)}

    # The next extract still says 有効 for them (and brings a new address for the first one).
    stale = rows_of(world / "targets.csv")
    assert all(r["状態"] == "1" for r in stale if r["個人ID"] in dead)
    moved = {r["個人ID"]: r for r in stale}[dead[0]]["住所"] + "（転居）"
    second = [dict(r, 住所=moved) if r["個人ID"] == dead[0] else r for r in stale]
    write_csv(tmp_path / "targets-2.csv", TARGETS, second)
    out = run_jutaku(child_home, "import", "targets", str(tmp_path / "targets-2.csv"), "--no-progress",
                     check=True).stdout
    assert set(statuses(child_home, dead, source=False).values()) == {("4",)}  # still dead
    assert re.search(rf"^S01 +{len(dead)} +住基ネットで死亡", out, re.M)
    assert set(statuses(child_home, dead).values()) == {("4", "juki")}
    [(address,)] = child_query(child_home, f"SELECT address FROM registry_person WHERE person_id = '{dead[0]}'")
    assert address == moved  # the rest of the row applies
    listed = re.search(r"届出勧奨リスト: (\S+) \((\d+) rows\)", out)  # the home's output folder by default
    assert listed is not None and int(listed.group(2)) == len(dead)
    notices = rows_of(Path(listed.group(1)))
    assert sorted(n["個人ID"] for n in notices) == dead
    assert all(n["相違内容"].startswith("S01 住基ネットで死亡") and "「有効」" in n["相違内容"] for n in notices)

    # Only a supervisor corrects a Juki-net death, with a reason; a registrar may not.
    registrar = login_as(child_home, "registrar")
    denied = run_jutaku(registrar, "persons", "correct-status", dead[0], "--status", "1", "--reason", "住基ネット誤り")
    assert denied.returncode == 3
    alive = next(r["個人ID"] for r in stale if r["状態"] == "1" and r["個人ID"] not in dead)
    refused = run_jutaku(child_home, "persons", "correct-status", alive, "--status", "2", "--reason", "確認のため")
    assert refused.returncode == 2 and "住基ネットで記録された死亡" in refused.stderr
    done = run_jutaku(child_home, "persons", "correct-status", dead[0], "--status", "1", "--status-date", "20260401",
                      "--reason", "住基ネットの照会番号の取り違え（本人生存を確認）", check=True).stdout
    assert "「死亡」から「有効」に訂正しました" in done
    assert statuses(child_home, [dead[0]]) == {dead[0]: ("1", "correction")}
    [(objects, detail)] = child_query(child_home, "SELECT objects, detail FROM audit_record "
                                                  "WHERE event = 'person:status_correct'")
    facts = json.loads(detail)
    assert objects == dead[0] and "取り違え" in facts["reason"] and (facts["old_status"], facts["old_source"]) == (
        "4", "juki")

    # The next extract applies to the corrected person again; the other deaths still stand.
    third = [dict(r, 住所=r["住所"] + "（再）") if r["個人ID"] == alive else r for r in second]
    write_csv(tmp_path / "targets-3.csv", TARGETS, third)
    out = run_jutaku(child_home, "import", "targets", str(tmp_path / "targets-3.csv"), "--no-progress",
                     "--notices", str(tmp_path / "notices-3.csv"), check=True).stdout
    assert re.search(rf"^S01 +{len(dead) - 1} +住基ネットで死亡", out, re.M)
    assert sorted(n["個人ID"] for n in rows_of(tmp_path / "notices-3.csv")) == dead[1:]
    assert statuses(child_home, [dead[0]]) == {dead[0]: ("1", "correction")}
    history = child_query(child_home, "SELECT c.old_status, c.new_status, c.source FROM registry_statuschange c "
                                      f"JOIN registry_person p ON p.id = c.person_id WHERE p.person_id = '{dead[0]}' "
                                      "ORDER BY c.id")
    assert history == [("", "1", "extract"), ("1", "4", "juki"), ("4", "1", "correction")]
