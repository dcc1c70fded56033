"""Lists staff sort and filter, as an Excel workbook (.xlsx): header row, filter, frozen header, widths.

Written with XlsxWriter (ADR 0022) entirely in memory (``in_memory``: no temporary file beside the
output or in ``/tmp``). Each sheet starts with its header row, frozen, with an autofilter over the whole
list; columns have widths. Identifiers (個人ID, 受付番号, codes) are **text cells** with the text number
format (``@``), so that ``0012345678`` stays ``0012345678`` and a code such as ``E03`` or a reason starting
with ``=`` is never read as a number or a formula; line numbers and counts are numbers, so that they sort
as numbers. A cell holding a written My Number refuses the whole workbook (ADR 0020: writers refuse), as
the CSV lists do. A workbook holds at most :data:`MAX_ROWS` rows: a longer list is for the CSV.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import xlsxwriter

from jutaku.domain.free_text import contains_my_number

#: Rows one workbook may hold (all sheets): about ten seconds and a few hundred MB to write; beyond, the
#: list is too long to sort and filter by hand, and the CSV (no limit) is the file to use.
MAX_ROWS: Final = 200_000
HEADER_COLOR: Final = "#E6E6E6"


class WorkbookRefused(ValueError):
    """The workbook was not written (message in Japanese, never a value)."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: Literal["text", "number"] = "text"
    width: float = 12.0


@dataclass(frozen=True)
class Sheet:
    """One sheet: its name (at most 31 characters), columns and rows (read once, in order)."""

    name: str
    columns: tuple[Column, ...]
    rows: Iterable[Sequence[str | int]]


def render(sheets: Sequence[Sheet], *, title: str, created: datetime) -> tuple[bytes, int]:
    """The workbook (bytes) and how many rows its sheets hold (headers excluded)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": title, "author": "都営住宅マイナンバー管理システム", "created": created})
    text = book.add_format({"num_format": "@", "valign": "top"})
    number = book.add_format({"num_format": "#,##0", "valign": "top"})
    header = book.add_format({"bold": True, "bg_color": HEADER_COLOR, "border": 1, "text_wrap": True,
                              "valign": "vcenter", "num_format": "@"})
    total = 0
    try:
        for sheet in sheets:
            ws = book.add_worksheet(sheet.name[:31])
            for j, col in enumerate(sheet.columns):
                ws.set_column(j, j, col.width, text if col.kind == "text" else number)
                ws.write_string(0, j, col.name, header)
            n = 0
            for n, row in enumerate(sheet.rows, 1):
                total += 1
                if total > MAX_ROWS:
                    raise WorkbookRefused(f"Excel ファイルに書ける行数（{MAX_ROWS:,} 行）を超えています。"
                                          "CSV のリストを使ってください。")
                if len(row) != len(sheet.columns):
                    raise ValueError(f"{sheet.name} row {n}: {len(row)} cells for {len(sheet.columns)} columns")
                for j, (col, value) in enumerate(zip(sheet.columns, row, strict=True)):
                    _write(ws, n, j, col, value, text, number, sheet.name)
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(n, 1), len(sheet.columns) - 1)
            ws.set_landscape()
            ws.repeat_rows(0)
    finally:
        book.close()
    return buffer.getvalue(), total


def _write(ws: object, r: int, c: int, col: Column, value: str | int, text: object, number: object, sheet: str) -> None:
    if col.kind == "number" and (isinstance(value, int) or (value.isascii() and value.isdigit())):
        ws.write_number(r, c, int(value), number)  # type: ignore[attr-defined]
        return
    value = str(value)
    if value and contains_my_number(value):
        raise WorkbookRefused(f"{sheet} の {r} 行目「{col.name}」に個人番号の形の数字があるため、"
                              "Excel ファイルを作成しませんでした。")
    ws.write_string(r, c, value, text)  # type: ignore[attr-defined]
