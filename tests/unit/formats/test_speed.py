"""Read+validate speed of a 200k-row kit file (UTF-8). Reports rows/s; the floor only catches disasters."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jutaku.formats.csvio import read_csv
from jutaku.formats.layouts import KIT
from tests.unit.formats.conftest import csv_text, make_kit_row

ROWS = 200_000


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kit_read_and_validate_speed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = list(make_kit_row(1).values())
    lines = ([f"K{i:08d}", f"{1_000_000_000 + i}", *template[2:4], "S450123" if i % 2 else "19700123",
              *template[5:]] for i in range(ROWS))
    path = tmp_path / "kit.csv"
    path.write_text(csv_text(KIT, lines), encoding="utf-8", newline="")
    wall, cpu = time.perf_counter(), time.process_time()
    errors = sum(bool(row.errors) for row in read_csv(path, KIT))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert errors == 0
    with capsys.disabled():
        print(f"\nkit read+validate: {ROWS / wall:,.0f} rows/s wall, {ROWS / cpu:,.0f} rows/s CPU")
    assert ROWS / cpu > 20_000
