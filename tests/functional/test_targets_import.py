"""Target extract (対象者抽出): upsert by 個人ID, status history kept, coded row rejections (issue 4 item 1)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import TARGETS
from jutaku.registry.models import ImportRejection, Person, StatusChange
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]


@pytest.fixture
def rows(tmp_path: Path) -> list[dict[str, str]]:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=60, seed=17), world)
    with (world / "targets.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["状態"] == "1"][:5]


def load(tmp_path: Path, name: str, rows: list[dict[str, str]]) -> dict[str, int]:
    path = tmp_path / name
    write_csv(path, TARGETS, rows, strict=False)
    return import_targets(path, actor=SYSTEM, progress=False).job.counts


def test_upsert_keeps_every_status_change_with_its_date(tmp_path: Path, rows: list[dict[str, str]]) -> None:
    assert load(tmp_path, "a.csv", rows) == {"OK": 5}
    moved = dict(rows[0], 状態="2", 状態日付="20261001")
    renamed = dict(rows[1], 住所=rows[1]["住所"] + "（転居）")
    assert load(tmp_path, "b.csv", [moved, renamed, *rows[2:]]) == {"U01": 2, "I01": 3}
    person = Person.objects.get(person_id=rows[0]["個人ID"])
    assert person.status == "2" and person.status_date.isoformat() == "2026-10-01"
    history = list(StatusChange.objects.filter(person=person).values_list("old_status", "new_status"))
    assert history == [("", "1"), ("1", "2")]
    assert Person.objects.get(person_id=rows[1]["個人ID"]).address.endswith("（転居）")


def test_bad_rows_are_rejected_with_their_code_and_the_rest_loads(tmp_path: Path, rows: list[dict[str, str]]) -> None:
    malformed = dict(rows[0], 生年月日="19701340")
    dup_a, dup_b = rows[1], dict(rows[1], 氏名="別人　花子")
    counts = load(tmp_path, "c.csv", [malformed, dup_a, dup_b, *rows[2:]])
    assert counts == {"E00": 1, "E06": 2, "OK": 3}
    codes = dict(ImportRejection.objects.values_list("line_no", "code"))
    assert codes == {2: "E00", 3: "E06", 4: "E06"}
    assert not Person.objects.filter(person_id__in=[rows[0]["個人ID"], rows[1]["個人ID"]]).exists()


def test_an_applicant_without_a_dwelling_loads_and_a_resident_without_one_is_e00(
        tmp_path: Path, rows: list[dict[str, str]]) -> None:
    """Issue 12 item 10: 住宅コード is required for residents (区分 1) only; applicants have no dwelling yet."""
    applicant = dict(rows[0], 区分="2", 住宅コード="")
    resident = dict(rows[1], 区分="1", 住宅コード="")
    assert load(tmp_path, "d.csv", [applicant, resident, *rows[2:]]) == {"OK": 4, "E00": 1}
    person = Person.objects.get(person_id=rows[0]["個人ID"])
    assert (person.kind, person.housing_code) == ("2", "")
    rejected = ImportRejection.objects.get()
    assert (rejected.person_id, rejected.code) == (rows[1]["個人ID"], "E00") and "住宅コード" in rejected.reason
    # Allocated a dwelling later: the next extract brings the code, and the person becomes a resident.
    assert load(tmp_path, "e.csv", [dict(rows[0], 区分="1"), *rows[2:]]) == {"U01": 1, "I01": 3}
    assert Person.objects.get(person_id=rows[0]["個人ID"]).housing_code == rows[0]["住宅コード"]
