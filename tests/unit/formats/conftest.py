"""Helpers for the ``formats`` tests: synthetic rows and raw file builders (synthetic data only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from jutaku.domain.my_number import from_body
from jutaku.formats.layouts import KIT, Layout

DATA = Path(__file__).resolve().parents[2] / "data" / "formats"


def make_kit_row(n: int = 1, /, **overrides: str) -> dict[str, str]:
    row = {
        "受付番号": f"K{n:08d}",
        "個人ID": f"{1_000_000_000 + n}",
        "氏名": "都営 太郎",
        "氏名カナ": "トエイ タロウ",
        "生年月日": "19700123",
        "性別": "1",
        "個人番号": from_body(f"{12345678900 + n:011d}"),
        "本人確認書類": "1",
        "受付日": "20260401",
    }
    row.update(overrides)
    return row


def csv_text(layout: Layout, rows: Iterable[Sequence[str]], *, newline: str = "\r\n") -> str:
    lines = [",".join(layout.header), *(",".join(cells) for cells in rows)]
    return newline.join(lines) + newline


def kit_bytes(n: int = 3, *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    rows = [list(make_kit_row(i).values()) for i in range(1, n + 1)]
    data = csv_text(KIT, rows).encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.fixture
def write_bytes(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(data: bytes, name: str = "in.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write
