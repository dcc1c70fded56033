"""No My Number outside a 個人番号 column (issue 13 items 1 and 2; ADR 0020).

Reading: every text, kana, JSON and long-enough digits cell holding a written My Number is ``F_MY_NUMBER``
(registration outcome ``E00``) and its value is withheld from the row, on the fast path and the slow one,
in CSV files and portal archives. Writing: a staff-facing list (rejections, notices, deletion report,
statistics) and a strict interchange file refuse such a cell whole and leave no file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jutaku.domain import my_number
from jutaku.domain.free_text import contains_my_number
from jutaku.formats import validate as v
from jutaku.formats.csvio import read_csv, write_csv
from jutaku.formats.errors import registration_outcome
from jutaku.formats.layouts import KIT, LAYOUTS, PORTAL, REJECTIONS, Column, Layout
from jutaku.formats.portal import read_portal_zip
from tests.unit.formats.conftest import csv_text, make_kit_row
from tests.unit.formats.test_portal import application, make_zip

NUMBER = my_number.from_body("98765432101")
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
FORMS = [NUMBER, f"{NUMBER[:4]}-{NUMBER[4:8]}-{NUMBER[8:]}", NUMBER.translate(FULL),
         f"{NUMBER[:4]} {NUMBER[4:8]} {NUMBER[8:]}"]
IMPORTS = [layout for layout in LAYOUTS.values() if layout.direction == "import"]


def test_which_columns_refuse_a_number() -> None:
    assert [c.name for c in KIT.columns if c.refuses_my_number] == ["受付番号", "氏名", "氏名カナ"]
    assert PORTAL.column("受付番号").refuses_my_number  # 12 digits may be a 受付番号, never a valid number
    assert not PORTAL.column("個人番号").refuses_my_number and not KIT.column("個人ID").refuses_my_number
    assert Column("x", "digits", width=12, exact=True).refuses_my_number
    assert not Column("x", "digits", width=11, exact=True).refuses_my_number
    assert not Column("x", "code", codes={"1": "a"}).refuses_my_number


def _valid_row(layout: Layout) -> list[str]:
    from jutaku.formats.docgen import sample_row

    return list(sample_row(layout).values())


@pytest.mark.parametrize("layout", IMPORTS, ids=[x.name for x in IMPORTS])
def test_every_refusing_cell_of_every_import_is_e00_and_withheld(layout: Layout) -> None:
    validator = v.compile_layout(layout)
    for i, column in enumerate(layout.columns):
        if not column.refuses_my_number:
            continue
        for form in FORMS if column.type != "digits" else [NUMBER]:
            cells = _valid_row(layout)
            cells[i] = form if column.type == "digits" else f"確認 {form}"
            values, errors = validator(cells)
            assert [(e.column, e.code) for e in errors] == [(column.name, "F_MY_NUMBER")], (column.name, form)
            assert registration_outcome(errors) == "E00"
            assert values[column.name] == "" and not any(contains_my_number(x) for k, x in values.items()
                                                         if layout.column(k).type != "my_number")
            assert NUMBER not in errors[0].message and "個人番号と同じ形" in errors[0].message
            assert errors[0].label == f"{column.name}：個人番号と同じ形の番号"


def test_identifiers_glued_to_letters_pass() -> None:
    cells = list(make_kit_row(受付番号="K" + NUMBER).values())
    assert v.validate_row(KIT, cells)[1] == ()


def test_a_row_with_the_wrong_number_of_cells_withholds_it_too() -> None:
    cells = [*make_kit_row(受付番号=NUMBER).values(), "extra"]
    values, errors = v.validate_row(KIT, cells)
    assert [e.code for e in errors] == ["F_COLUMNS"] and values["受付番号"] == ""


def test_the_csv_reader_withholds_the_cell() -> None:
    rows = [list(make_kit_row(1).values()), list(make_kit_row(2, 受付番号=NUMBER).values()),
            list(make_kit_row(3, 氏名=f"都営 {FORMS[1]}").values())]
    read = list(read_csv(io.BytesIO(csv_text(KIT, rows).encode("utf-8")), KIT))
    assert read[0].errors == ()
    assert [(e.column, e.code) for e in read[1].errors] == [("受付番号", "F_MY_NUMBER")]
    assert read[1].values["受付番号"] == "" and read[2].values["氏名"] == ""
    assert read[1].values["個人番号"] == make_kit_row(2)["個人番号"]  # the number field keeps its number


def test_a_portal_receipt_that_is_a_number_is_refused_and_withheld(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "p.zip", {f"{NUMBER}.xml": application(NUMBER),
                                            "202604010002.xml": application("202604010002", 住所=f"新宿 {FORMS[2]}")})
    first, second = read_portal_zip(archive)
    assert [(e.column, e.code) for e in first.errors] == [("受付番号", "F_MY_NUMBER")]  # not also misnamed
    assert first.values["受付番号"] == ""
    assert [(e.column, e.code) for e in second.errors] == [("住所", "F_MY_NUMBER")] and second.values["住所"] == ""


cells = st.one_of(st.text(max_size=20), st.sampled_from(["", "K" + NUMBER, *FORMS, f"番号{NUMBER}", "P0001"]))


@settings(deadline=None, max_examples=300)
@given(layout=st.sampled_from(IMPORTS), data=st.data())
def test_fast_path_agrees_with_the_column_checks_on_numbers(layout: Layout, data: st.DataObject) -> None:
    row = data.draw(st.lists(cells, min_size=len(layout.columns), max_size=len(layout.columns)))
    validator = v.compile_layout(layout)
    values, errors = validator(row)
    assert errors == validator.errors(row)
    for column in layout.columns:
        if column.refuses_my_number and contains_my_number(values[column.name]):
            pytest.fail(f"{column.name} kept a number")


STAFF = [layout for layout in LAYOUTS.values() if layout.staff_facing]


@pytest.mark.parametrize("layout", STAFF, ids=[x.name for x in STAFF])
def test_a_staff_facing_list_refuses_a_cell_holding_a_number(layout: Layout, tmp_path: Path) -> None:
    from jutaku.formats.docgen import sample_row

    for column in layout.columns:
        row = sample_row(layout) | {column.name: f"x {FORMS[3]}"}
        out = tmp_path / f"{layout.name}.csv"
        with pytest.raises(ValueError, match=column.name) as refused:
            write_csv(out, layout, [sample_row(layout), row])
        assert NUMBER not in str(refused.value) and not out.exists()
    assert write_csv(tmp_path / "ok.csv", layout, [sample_row(layout)]).rows == 1


def test_the_rejection_list_of_the_issue_is_refused(tmp_path: Path) -> None:
    """The list that carried a My Number: its 受付番号 was a rejected row's, 12 plain digits."""
    row = {"行番号": "2", "受付番号": NUMBER, "個人ID": "", "結果コード": "E00", "理由": "項目の形式が不正です"}
    with pytest.raises(ValueError, match="受付番号"):
        write_csv(tmp_path / "r.csv", REJECTIONS, [row])
    assert not (tmp_path / "r.csv").exists()


def test_a_strict_interchange_file_refuses_one(tmp_path: Path) -> None:
    from jutaku.formats.layouts import INQUIRY_RESULT_LAYOUT

    row = {"要求番号": "1000000001", "団体内統合利用番号": "1" * 15, "特定個人情報名コード": "TM99000000000001",
           "結果コード": "02", "未設定事由": f"未設定 {NUMBER}", "結果データ": ""}
    with pytest.raises(ValueError, match="F_MY_NUMBER"):
        write_csv(tmp_path / "a.csv", INQUIRY_RESULT_LAYOUT, [row])
    assert write_csv(tmp_path / "b.csv", INQUIRY_RESULT_LAYOUT, [row], strict=False).rows == 1  # test data
