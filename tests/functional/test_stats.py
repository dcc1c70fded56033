"""Statistics without identifying individuals (issue 6 item 5), on a generated world, both databases."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.registry.models import Person
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world
from jutaku.stats.service import all_tables, export, render

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]


def test_counts_are_right_small_cells_hidden_and_nothing_identifies_a_person(tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=800, seed=3), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    persons, registration, _, _ = all_tables(10)
    # The grand total is the number of persons holding a number; the registration table adds up the job.
    assert persons.cells[-1][-1] == Person.objects.filter(my_number__isnull=False).count()
    assert registration.cells[-1][-1] == (world / "kit.csv").read_text(encoding="utf-8").count("\n") - 1
    for t in (persons, registration):
        for i, row in enumerate(t.cells):
            for j, v in enumerate(row):
                assert (t.shown(i, j, 10) == "<10") == (0 < v < 10)
    assert "<10" in render(persons, 10)  # the small housing categories are hidden
    path, info = export(tmp_path / "stats.csv", actor=SYSTEM)
    text = path.read_text(encoding="utf-8-sig")
    assert info.rows > 0 and not re.search(r"\d{10,}", text)  # no 個人ID, no number of any kind
    values = [r["値"] for r in csv.DictReader(text.splitlines())]
    assert all(v.isdigit() or v in ("<10", "x") for v in values)


def test_progress_plots_are_svg_with_japanese_text_and_counts_only(tmp_path: Path) -> None:
    from jutaku.stats.plots import progress_plots

    world = tmp_path / "world"
    build_world(WorldSpec(persons=400, seed=5), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    drawn = progress_plots(tmp_path / "plots", 10, actor=SYSTEM)
    assert [p.name for p in drawn] == ["registration-progress.svg", "inquiry-progress.svg"]
    svg = drawn[0].read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "個人番号一括登録の結果" in svg
    assert not re.search(r">\s*\d{10,}\s*<", svg)  # no 個人ID or number drawn as text
