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
