"""Juki-net end to end (issue 6 item 1): query file → simulated Juki-net → import, against expectations
computed independently from the world's files and truth, on SQLite and PostgreSQL.

- the file queries exactly the current numbered persons of the households that filed this year;
- deaths in the world become 死亡 with Juki-net's date (history kept); moves, move-outs and name changes
  are discrepancies on the notice list, never applied to the register; a registered number Juki-net does
  not know is N01; everyone else is confirmed;
- unknown, repeated and mismatched answers are coded row errors.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.service import verify
from jutaku.crypto.envelope import FieldCipher
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import JUKI_RESULT_LAYOUT
from jutaku.juki.models import JukiQuery, JukiResult
from jutaku.juki.requests import request_juki
from jutaku.juki.results import import_juki_results
from jutaku.registry.models import ImportRejection, MyNumberRecord, Person, StatusChange
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.juki import answer_juki
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def world(tmp_path: Path) -> Path:
    out = tmp_path / "world"
    build_world(WorldSpec(persons=1500, seed=23), out)
    import_targets(out / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(out / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(out / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    register_numbers(out / "portal.zip", source="portal", actor=SYSTEM, progress=False)
    return out


def registered_numbers() -> dict[str, str]:
    held = list(MyNumberRecord.objects.values_list("person__person_id", "ciphertext"))
    plain = FieldCipher().decrypt_many("registry_mynumberrecord", "my_number", [(p, bytes(t)) for p, t in held])
    return {pid: n.decode() for (pid, _), n in zip(held, plain, strict=True)}


def expected_outcome(pid: str, number: str, truth_by_number: dict[str, dict[str, str]]) -> str:
    t = truth_by_number.get(number)
    if t is None:
        return "N01"
    if t["個人ID"] != pid:
        return "D01"
    if t["異動事由"] == "消除:死亡":
        return "D02"
    if t["異動事由"] in ("修正:氏名変更", "修正:転居", "消除:転出"):
        return "D01"
    return "OK"


def test_the_query_file_and_every_answer_follow_the_world(world: Path, tmp_path: Path) -> None:
    result = request_juki(2026, tmp_path / "juki.csv", actor=SYSTEM, plain=True)
    sent = rows_of(tmp_path / "juki.csv")
    targets = {r["個人ID"]: r for r in rows_of(world / "targets.csv")}
    filed = {targets[r["対象者個人ID"]]["世帯番号"] for r in rows_of(world / "procedures.csv") if r["年度"] == "2026"}
    numbers = registered_numbers()
    expected = {pid for pid, t in targets.items() if t["状態"] == "1" and t["世帯番号"] in filed and pid in numbers}
    queried = {r["照会番号"]: pid for r in sent for pid in [
        JukiQuery.objects.get(query_no=r["照会番号"]).person.person_id]}
    assert set(queried.values()) == expected and len(sent) == len(expected) == result.written
    assert all(r["個人番号"] == numbers[queried[r["照会番号"]]] for r in sent)
    again = request_juki(2026, tmp_path / "juki2.csv", actor=SYSTEM, plain=True)
    assert again.path is None and again.created == 0  # every query still open: nothing twice

    answer_juki(world, tmp_path / "juki.csv", tmp_path / "ans.csv")
    job = import_juki_results(tmp_path / "ans.csv", actor=SYSTEM).job
    truth_by_number = {r["個人番号"]: r for r in rows_of(world / "truth" / "juki.csv")}
    want = {pid: expected_outcome(pid, numbers[pid], truth_by_number) for pid in expected}
    got = dict(JukiResult.objects.values_list("person__person_id", "outcome"))
    assert got == want
    assert {"OK", "D01", "D02", "N01"} <= set(want.values())  # the world exercises every outcome
    # Deaths: status 死亡 with Juki-net's date, the old status kept in the history.
    truth = {r["個人ID"]: r for r in rows_of(world / "truth" / "juki.csv")}
    for pid in (p for p, o in want.items() if o == "D02"):
        person = Person.objects.get(person_id=pid)
        assert person.status == "4" and person.status_date.strftime("%Y%m%d") == truth[pid]["異動年月日"]
        assert StatusChange.objects.filter(person=person, old_status="1", new_status="4").exists()
    # Moves and name changes are reported, never applied to the register.
    for pid in (p for p, o in want.items() if o == "D01" and truth[p]["異動事由"] == "修正:転居"):
        assert Person.objects.get(person_id=pid).address == targets[pid]["住所"]
        assert "住所" in JukiResult.objects.get(person__person_id=pid).discrepancy
    assert sum(job.counts.values()) == len(sent)
    assert verify().ok


def test_unknown_repeated_and_mismatched_answers_are_row_errors(world: Path, tmp_path: Path) -> None:
    request_juki(2026, tmp_path / "juki.csv", actor=SYSTEM, plain=True)
    answer_juki(world, tmp_path / "juki.csv", tmp_path / "ans.csv")
    answers = [a for a in rows_of(tmp_path / "ans.csv") if a["処理結果"] == "00"]
    first, second = answers[0], answers[1]
    bad = [
        {**first, "照会番号": "JK9999999999"},  # J01
        {**first, "個人番号": second["個人番号"]},  # J03 not the number queried
        first,  # OK or a discrepancy: applied
        first,  # J02 second answer
        {**second, "現存区分": "7"},  # E00
    ]
    write_csv(tmp_path / "hostile.csv", JUKI_RESULT_LAYOUT, bad, strict=False)
    job = import_juki_results(tmp_path / "hostile.csv", actor=SYSTEM).job
    codes = dict(ImportRejection.objects.filter(job_id=job.job_id).values_list("line_no", "code"))
    assert {line: codes[line] for line in (2, 3, 5, 6)} == {2: "J01", 3: "J03", 5: "J02", 6: "E00"}
    assert JukiResult.objects.count() == 1
