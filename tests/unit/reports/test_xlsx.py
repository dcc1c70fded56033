"""The workbook writer (ADR 0022): header row, autofilter over the list, frozen header, widths; identifiers
as text cells (no leading zero lost, no formula), numbers as numbers; a My Number in a cell refuses the
whole workbook; a list longer than a workbook takes is refused."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from jutaku.domain.my_number import from_body
from jutaku.reports import xlsx
from jutaku.reports.xlsx import Column, Sheet, WorkbookRefused
from tests.reports_support import numbers_in, workbook_xml

AT = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)
COLUMNS = (Column("行番号", "number", 8), Column("受付番号", width=20), Column("個人ID", width=13),
           Column("結果コード", width=10), Column("理由", width=60))
ROWS = [[2, "K202600000049", "0012345678", "E03", "個人IDが対象者に存在しません"],
        ["10", "", "1000000001", "E00", "=HYPERLINK(\"x\")"],
        [3, "R-0001", "0000000007", "OK", "+1"]]


def _book(rows: list[list[str | int]] | None = None) -> tuple[bytes, int]:
    return xlsx.render([Sheet("結果", (Column("結果コード"), Column("件数", "number")), [["E03", 1], ["OK", 5]]),
                        Sheet("差戻リスト", COLUMNS, ROWS if rows is None else rows)], title="差戻リスト", created=AT)


def test_each_sheet_has_a_frozen_header_a_filter_over_the_list_and_widths() -> None:
    data, rows = _book()
    assert rows == 5
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["結果", "差戻リスト"]
    sheet = book["差戻リスト"]
    assert [c.value for c in sheet[1]] == ["行番号", "受付番号", "個人ID", "結果コード", "理由"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E4"
    assert sheet.column_dimensions["E"].width == pytest.approx(60, abs=1)
    assert book["結果"].auto_filter.ref == "A1:B3" and book["結果"].freeze_panes == "A2"
    assert book.properties.title == "差戻リスト"


def test_identifiers_are_text_cells_and_line_numbers_are_numbers() -> None:
    sheet = load_workbook(io.BytesIO(_book()[0]))["差戻リスト"]
    ids = [sheet.cell(r, 3) for r in range(2, 5)]
    assert [c.value for c in ids] == ["0012345678", "1000000001", "0000000007"]  # no leading zero lost
    assert all(c.data_type == "s" and c.number_format == "@" for c in ids)
    assert [sheet.cell(r, 1).value for r in range(2, 5)] == [2, 10, 3]  # sort as numbers
    # A reason that looks like a formula stays text: nothing is evaluated when the file is opened.
    assert sheet.cell(3, 5).value == '=HYPERLINK("x")' and sheet.cell(3, 5).data_type == "s"
    assert sheet.cell(4, 5).value == "+1" and sheet.cell(4, 5).data_type == "s"
    assert b"<f>" not in workbook_xml(_book()[0])


def test_an_empty_list_still_has_its_header_and_filter() -> None:
    sheet = load_workbook(io.BytesIO(_book([])[0]))["差戻リスト"]
    assert sheet.max_row == 1 and sheet.auto_filter.ref == "A1:E2" and sheet.freeze_panes == "A2"


@pytest.mark.parametrize("written", ["{n}", "{a}-{b}-{c}", "番号 {fw}", "{a} {b} {c}"])
def test_a_cell_holding_a_my_number_refuses_the_whole_workbook_without_showing_it(written: str) -> None:
    number = from_body("12345678901")
    fw = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    value = written.format(n=number, a=number[:4], b=number[4:8], c=number[8:], fw=fw)
    with pytest.raises(WorkbookRefused) as refused:
        _book([[1, value, "1000000001", "E00", "理由"]])
    assert number not in str(refused.value) and "受付番号" in str(refused.value)


def test_what_is_written_holds_no_number() -> None:
    assert numbers_in(workbook_xml(_book()[0])) == []


def test_a_list_longer_than_a_workbook_takes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)
    with pytest.raises(WorkbookRefused, match="CSV"):
        _book()
