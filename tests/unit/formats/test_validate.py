"""Per-column validation (interfaces.md conventions; checklist FILE-04, FILE-05, VAL-07)."""

from __future__ import annotations

import re
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jutaku.formats import validate as v
from jutaku.formats.errors import FieldError, registration_outcome
from jutaku.formats.layouts import (
    BUSINESS_EXPORT,
    INQUIRY_RESULT_LAYOUT,
    KIT,
    LAYOUTS,
    PORTAL,
    REJECTIONS,
    TARGETS,
    Column,
    Layout,
)
from tests.unit.formats.conftest import make_kit_row

FAST = settings(deadline=None, max_examples=200)


def codes_of(layout: Layout, row: dict[str, str]) -> dict[str, str]:
    _, errors = v.validate_row(layout, list(row.values()))
    return {e.column: e.code for e in errors}


def test_a_valid_kit_row_has_no_errors() -> None:
    values, errors = v.validate_row(KIT, list(make_kit_row().values()))
    assert errors == ()
    assert values == make_kit_row()


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("受付番号", "", "F_REQUIRED"),
        ("個人ID", "100000000", "F_WIDTH"),
        ("個人ID", "10000000011", "F_WIDTH"),
        ("個人ID", "１０００００００01", "F_DIGITS"),
        ("個人ID", "10000000a1", "F_DIGITS"),
        ("性別", "3", "F_CODE"),
        ("性別", " 1", "F_CODE"),
        ("本人確認書類", "1 ", "F_CODE"),
        ("生年月日", "19700231", "F_DATE"),
        ("生年月日", "x" * 17, "F_DATE"),
        ("受付日", "2026-04-01", "F_DATE"),
        ("受付日", "S450123", "F_DATE"),
        ("氏名", "都営\x00太郎", "F_CHARS"),
        ("氏名", "都営\n太郎", "F_CHARS"),
        ("氏名", "都営\u202e太郎", "F_CHARS"),
        ("氏名", "都営\ue000太郎", "F_CHARS"),
        ("氏名カナ", "トエイ\u0085", "F_CHARS"),
        ("氏名", "=HYPERLINK(\"http://x\")", "F_FORMULA"),
        ("氏名", "+81", "F_FORMULA"),
        ("氏名", "-1", "F_FORMULA"),
        ("氏名", "@SUM(A1)", "F_FORMULA"),
        ("氏名", "\t都営", "F_CHARS"),
        ("氏名", "x" * 61, "F_WIDTH"),
        ("個人番号", "", "F_REQUIRED"),
        ("個人番号", "1" * 41, "F_WIDTH"),
        ("個人番号", "1234\x0056789018", "F_CHARS"),
    ],
)
def test_each_column_rule_gives_its_code(column: str, value: str, code: str) -> None:
    assert codes_of(KIT, make_kit_row(**{column: value})) == {column: code}


@pytest.mark.parametrize("value", ["S450123", "H010108", "19700123"])
def test_birth_date_accepts_wareki(value: str) -> None:
    assert codes_of(KIT, make_kit_row(生年月日=value)) == {}


def test_birth_date_accepts_kanji_wareki() -> None:
    assert codes_of(KIT, make_kit_row(生年月日="昭和45年1月23日")) == {}


@pytest.mark.parametrize("value", ["１２３４５６７８９０１８", "1234-5678-9018", "123456789019", "12"])
def test_my_number_check_digit_is_left_to_the_domain(value: str) -> None:
    """An invalid 個人番号 is outcome E01, not E00: the formats layer only length-caps it."""
    assert codes_of(KIT, make_kit_row(個人番号=value)) == {}


def test_leading_minus_in_my_number_and_digit_columns_is_not_a_formula() -> None:
    assert codes_of(KIT, make_kit_row(個人番号="-123456789018")) == {}
    assert codes_of(KIT, make_kit_row(個人ID="-100000001")) == {"個人ID": "F_DIGITS"}


def test_wrong_cell_count_is_f_columns() -> None:
    values, errors = v.validate_row(KIT, ["K1", "1000000001"])
    assert [e.code for e in errors] == ["F_COLUMNS"]
    assert values == {"受付番号": "K1", "個人ID": "1000000001"}


def test_optional_columns_accept_empty() -> None:
    row = dict(zip(TARGETS.header, ["1000000001", "1", "12", "01", "1", "H1", "", "都営 太郎", "トエイ タロウ",
                                    "19700123", "1", "", "東京都", "1", ""], strict=True))
    assert codes_of(TARGETS, row) == {}


@pytest.mark.parametrize(("kubun", "housing_code", "errors"), [
    ("1", "", {"住宅コード": "F_REQUIRED"}),  # a resident has a dwelling
    ("2", "", {}),  # an applicant has none yet (issue 12 item 10)
    ("2", "H1", {}),
    ("1", "H1", {}),
    ("2", "=H1", {"住宅コード": "F_FORMULA"}),  # present: every other check still applies
    ("3", "", {"区分": "F_CODE"}),
])
def test_the_dwelling_code_is_required_for_residents_only(kubun: str, housing_code: str,
                                                          errors: dict[str, str]) -> None:
    row = dict(zip(TARGETS.header, ["1000000001", kubun, "12", "01", "1", housing_code, "", "都営 太郎",
                                    "トエイ タロウ", "19700123", "1", "", "東京都", "1", ""], strict=True))
    assert codes_of(TARGETS, row) == errors
    assert v.compile_layout(TARGETS).errors(list(row.values())) == v.validate_row(TARGETS, list(row.values()))[1]


def test_a_conditional_requirement_is_reported_in_column_order() -> None:
    layout = Layout("t", "t", "import", (Column("a", "text", required=False, required_when=("b", "1")),
                                         Column("b", "code", codes={"1": "x", "2": "y"}), Column("c", "digits")))
    assert [(e.column, e.code) for e in v.validate_row(layout, ["", "1", "x"])[1]] == [
        ("a", "F_REQUIRED"), ("c", "F_DIGITS")]
    assert v.validate_row(layout, ["", "2", "1"])[1] == ()


@pytest.mark.parametrize(
    ("value", "code"),
    [('{"a": 1}', None), ("[1]", "F_JSON"), ('{"a": NaN}', "F_JSON"), ('{"a":1,"a":2}', "F_JSON"),
     ("{", "F_JSON"), ("[" * 100_000, "F_WIDTH"), ('{"a":' + "[" * 50_000 + "]" * 50_000 + "}", "F_WIDTH")],
)
def test_json_column(value: str, code: str | None) -> None:
    cells = ["RQ1", "123456789012345", "TM1", "00", "", value]
    _, errors = v.validate_row(INQUIRY_RESULT_LAYOUT, cells)
    assert [e.code for e in errors] == ([code] if code else [])


def test_deep_json_is_refused_not_crashed_on() -> None:
    deep = "[" * (sys.getrecursionlimit() * 4) + "]" * (sys.getrecursionlimit() * 4)
    assert not v.is_json_object(deep)
    assert v.is_json_object('{"a": {"b": [1, 2]}}')


def test_messages_never_contain_the_value() -> None:
    secret = "987654321098"
    for value in (secret + "\x00", secret * 4):
        _, errors = v.validate_row(KIT, list(make_kit_row(個人番号=value).values()))
        assert errors and all(secret not in e.message for e in errors)


def test_field_errors_map_to_e00() -> None:
    assert registration_outcome([FieldError.of("氏名", "F_CHARS")]) == "E00"
    assert registration_outcome(()) is None


def test_exports_and_staff_layouts_do_not_refuse_formulas_on_validation() -> None:
    assert not v.is_interchange(REJECTIONS)
    assert not v.is_interchange(BUSINESS_EXPORT)
    assert v.is_interchange(KIT)
    validator = v.compile_layout(REJECTIONS)
    assert validator(["2", "=1+1", "", "E00", "-x"])[1] == ()


def test_compiled_validators_are_cached_per_layout() -> None:
    assert v.compile_layout(KIT) is v.compile_layout(KIT)
    clone = Layout(KIT.name, KIT.title, KIT.direction, KIT.columns)
    assert v.compile_layout(clone) is not v.compile_layout(KIT)


# --- the fast path only ever accepts what the column checks accept ---------------------------------

SAFE_CLASS = re.compile(f"[{v._SAFE}]")


def test_fast_path_characters_are_never_controls_or_private_use() -> None:
    from jutaku.domain.japanese import has_control_chars

    for code in range(0x110000):
        ch = chr(code)
        if SAFE_CLASS.match(ch):
            assert not has_control_chars(ch) and not v._PRIVATE_USE.match(ch), hex(code)


def test_fast_first_character_is_never_formula_like() -> None:
    from jutaku.domain.japanese import is_formula_like

    first = re.compile(f"[{v._SAFE_FIRST}]")
    assert not any(first.match(ch) and is_formula_like(ch) for ch in map(chr, range(0x10000)))


cell = st.one_of(
    st.text(max_size=25),
    st.text(alphabet="0123456789", max_size=13),
    st.sampled_from(["", "1", "01", "S450123", "19700229", "20260401", "昭和45年1月23日", "=1", "{}", "０"]),
)


@FAST
@given(layout=st.sampled_from(list(LAYOUTS.values())), data=st.data())
def test_fast_path_agrees_with_the_column_checks(layout: Layout, data: st.DataObject) -> None:
    cells = data.draw(st.lists(cell, min_size=len(layout.columns), max_size=len(layout.columns)))
    validator = v.compile_layout(layout)
    _, errors = validator(cells)
    assert errors == validator.errors(cells)


@FAST
@given(value=st.text(max_size=80))
def test_text_check_properties(value: str) -> None:
    from jutaku.domain.free_text import contains_my_number
    from jutaku.domain.japanese import has_control_chars, is_formula_like

    code = codes_of(KIT, make_kit_row(氏名=value)).get("氏名")
    if value == "":
        assert code == "F_REQUIRED"
    elif contains_my_number(value):
        assert code == "F_MY_NUMBER"
    elif len(value) > 60:
        assert code == "F_WIDTH"
    elif has_control_chars(value) or v._PRIVATE_USE.search(value):
        assert code == "F_CHARS"
    elif is_formula_like(value):
        assert code == "F_FORMULA"
    else:
        assert code is None


@FAST
@given(value=st.text(max_size=14))
def test_digits_check_properties(value: str) -> None:
    code = codes_of(KIT, make_kit_row(個人ID=value)).get("個人ID")
    ok = len(value) == 10 and all(c in "0123456789" for c in value)
    assert (code is None) == ok


@FAST
@given(value=st.text(max_size=20))
def test_date_check_properties(value: str) -> None:
    import datetime as dt

    code = codes_of(KIT, make_kit_row(受付日=value)).get("受付日")
    try:
        ok = len(value) == 8 and value.isascii() and value.isdigit() and bool(dt.date.fromisoformat(
            f"{value[:4]}-{value[4:6]}-{value[6:]}"))
    except ValueError:
        ok = False
    assert (code is None) == ok


@FAST
@given(value=st.text(max_size=3))
def test_code_check_properties(value: str) -> None:
    assert (codes_of(KIT, make_kit_row(性別=value)).get("性別") is None) == (value in {"0", "1", "2", "9"})


@pytest.mark.timeout(10)
@pytest.mark.parametrize("layout", [KIT, PORTAL, INQUIRY_RESULT_LAYOUT])
def test_adversarial_long_cells_are_cheap(layout: Layout) -> None:
    """VAL-07: every validator caps length first; 100 rows of 64 Ki-character hostile cells stay fast."""
    hostile = ["a" * 65_536, "1" * 65_536, "\x00" * 65_536, "{" * 65_536, "=" * 65_536, "昭" * 65_536,
               ("a" * 1000 + "\x1f") * 60, " " * 65_536]
    validator = v.compile_layout(layout)
    start = time.perf_counter()
    for filler in hostile:
        for _ in range(12):
            validator([filler] * len(layout.columns))
    assert time.perf_counter() - start < 5


def test_columns_without_width_are_capped() -> None:
    layout = Layout("t", "t", "import", (Column("x", "text"),))
    validator = v.compile_layout(layout, max_field_chars=10)
    assert validator(["x" * 10])[1] == ()
    assert [e.code for e in validator(["x" * 11])[1]] == ["F_WIDTH"]


def test_has_bad_chars() -> None:
    assert not v.has_bad_chars("都営 太郎　ハナコ")
    assert v.has_bad_chars("\ue000") and v.has_bad_chars("a\u200bb") and v.has_bad_chars("\U000f0000")
    assert not v.has_bad_chars("\u3000")


def test_unknown_file_rejection_codes_are_a_programming_error() -> None:
    from jutaku.formats.errors import FileRejected

    with pytest.raises(ValueError):
        FileRejected("R_NOPE")
    text = str(FileRejected("R_CSV", "record 3"))
    # What happened, what to do (Japanese first), then the English (ADR 0028).
    assert text.startswith("[R_CSV] CSVの構造が不正です。") and text.endswith("。 / malformed CSV structure (record 3)")
