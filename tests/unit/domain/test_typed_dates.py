"""Birth dates as staff type them into the person search (issue 14 item 10): 西暦 or 和暦 in the forms staff
write — 1970-03-01, 昭和45年3月1日, S45.3.1, R1.5.1 — converted with the era boundaries (ADR 0004, 0023)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.wareki import (
    ERAS,
    InvalidDate,
    describe_date,
    era_span,
    parse_typed_date,
    to_wareki_long,
    to_wareki_short,
)

#: Every day some era names with a year of at most two digits (明治1年1月25日 … 令和99年12月31日).
WAREKI_DATES = st.dates(min_value=dt.date(1868, 1, 25), max_value=dt.date(2117, 12, 31))


@pytest.mark.parametrize(("text", "expected"), [
    ("1970-03-01", dt.date(1970, 3, 1)),
    ("1970/3/1", dt.date(1970, 3, 1)),
    ("1970.3.1", dt.date(1970, 3, 1)),
    ("19700301", dt.date(1970, 3, 1)),
    ("1970年3月1日", dt.date(1970, 3, 1)),
    ("１９７０－０３－０１", dt.date(1970, 3, 1)),
    ("昭和45年3月1日", dt.date(1970, 3, 1)),
    ("昭和 45年 3月 1日", dt.date(1970, 3, 1)),
    ("昭和45.3.1", dt.date(1970, 3, 1)),
    ("昭45.3.1", dt.date(1970, 3, 1)),
    ("㍼45年3月1日", dt.date(1970, 3, 1)),
    ("S45.3.1", dt.date(1970, 3, 1)),
    ("s45/03/01", dt.date(1970, 3, 1)),
    ("Ｓ４５．３．１", dt.date(1970, 3, 1)),
    ("S45-3-1", dt.date(1970, 3, 1)),
    ("S450301", dt.date(1970, 3, 1)),
    ("S45年3月1日", dt.date(1970, 3, 1)),
    ("R1.5.1", dt.date(2019, 5, 1)),
    ("R元.5.1", dt.date(2019, 5, 1)),
    ("令和元年5月1日", dt.date(2019, 5, 1)),
    ("令元.5.1", dt.date(2019, 5, 1)),
    ("H31.4.30", dt.date(2019, 4, 30)),
    ("S64.1.7", dt.date(1989, 1, 7)),
    ("昭和64年1月7日", dt.date(1989, 1, 7)),
    ("H1.1.8", dt.date(1989, 1, 8)),
    ("平成元年1月8日", dt.date(1989, 1, 8)),
    ("T15.12.24", dt.date(1926, 12, 24)),
    ("S1.12.25", dt.date(1926, 12, 25)),
    ("M45.7.29", dt.date(1912, 7, 29)),
    ("大正元年7月30日", dt.date(1912, 7, 30)),
    ("明治元年1月25日", dt.date(1868, 1, 25)),
])
def test_the_forms_staff_type(text: str, expected: dt.date) -> None:
    assert parse_typed_date(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("S64.1.8", "昭和は1926年12月25日から1989年1月7日まで"),
    ("昭和64年1月8日", "昭和は1926年12月25日から1989年1月7日まで"),
    ("H1.1.7", "平成は1989年1月8日から2019年4月30日まで"),
    ("平成元年1月7日", "平成は1989年1月8日から2019年4月30日まで"),
    ("R1.4.30", "令和は2019年5月1日から"),
    ("H31.5.1", "平成は"),
    ("M1.1.24", "明治は1868年1月25日から"),
    ("T15.12.25", "大正は"),
    ("R0.5.1", "和暦の年が範囲外"),
    ("S45.2.30", "存在しない日付"),
    ("19700230", "存在しない日付"),
    ("1970-13-01", "存在しない日付"),
    ("1970-3", "読み取れません"),
    ("1970-03-01-", "読み取れません"),
    ("1970-03/01", "読み取れません"),
    ("1970年3.1", "読み取れません"),
    ("70-3-1", "読み取れません"),
    ("1970-003-01", "読み取れません"),
    ("45.3.1", "読み取れません"),
    ("S45..3", "読み取れません"),
    ("S4501", "読み取れません"),
    ("S450", "読み取れません"),
    ("元.3.1", "読み取れません"),
    ("R元元.5.1", "読み取れません"),
    ("R5.元.1", "読み取れません"),
    ("昭和45年3月1日生", "読み取れません"),
    ("昭和四十五年三月一日", "読み取れません"),
    ("X45.3.1", "読み取れません"),
    ("S", "読み取れません"),
    ("", "空です"),
    ("　 ", "空です"),
    ("1" * 33, "長すぎ"),
])
def test_what_cannot_be_read_is_refused_in_japanese(text: str, message: str) -> None:
    with pytest.raises(InvalidDate, match=message):
        parse_typed_date(text)


def test_a_future_birth_date_is_refused_when_today_is_given() -> None:
    today = dt.date(2026, 4, 1)
    assert parse_typed_date("R8.4.1", today=today) == today
    with pytest.raises(InvalidDate, match="未来"):
        parse_typed_date("2026-04-02", today=today)


@given(WAREKI_DATES)
def test_round_trip_through_every_form(day: dt.date) -> None:
    short = to_wareki_short(day)
    assert short[0] in "MTSHR" and parse_typed_date(short) == day
    assert parse_typed_date(to_wareki_long(day)) == day
    assert parse_typed_date(day.isoformat()) == day
    assert parse_typed_date(f"{day.year}年{day.month}月{day.day}日") == day
    assert parse_typed_date(short.replace(".", "/")) == day


@given(WAREKI_DATES)
def test_the_description_names_the_date_both_ways(day: dt.date) -> None:
    text = describe_date(day)
    assert text.startswith(f"{day.year}年{day.month}月{day.day}日（") and text.endswith(f"{to_wareki_long(day)}）")


@pytest.mark.parametrize("boundary", [era.first_day for era in ERAS[1:]])
def test_an_era_ends_the_day_before_the_next_begins(boundary: dt.date) -> None:
    before = boundary - dt.timedelta(days=1)
    old, new = to_wareki_short(before), to_wareki_short(boundary)  # e.g. S64.1.7 and H1.1.8
    assert old[0] != new[0] and new[1:3] == "1." and to_wareki_long(boundary)[2:4] == "元年"
    assert parse_typed_date(old) == before and parse_typed_date(new) == boundary
    old_year = old[1:].split(".")[0]
    with pytest.raises(InvalidDate, match="元号の期間外"):  # 昭和64年1月8日 does not exist
        parse_typed_date(f"{old[0]}{old_year}.{boundary.month}.{boundary.day}")
    with pytest.raises(InvalidDate, match="元号の期間外"):  # nor 平成元年1月7日
        parse_typed_date(f"{new[0]}1.{before.month}.{before.day}")


def test_the_heisei_boundary_in_words() -> None:
    assert describe_date(dt.date(1989, 1, 7)) == "1989年1月7日（昭和64年1月7日）"
    assert describe_date(dt.date(1989, 1, 8)) == "1989年1月8日（平成元年1月8日）"
    assert to_wareki_short(dt.date(2019, 5, 1)) == "R1.5.1"
    assert describe_date(dt.date(1800, 1, 1)) == "1800年1月1日"  # before 明治: 西暦 only
    assert era_span(len(ERAS) - 1) == "令和は2019年5月1日から"


@given(st.one_of(st.text(min_size=6, max_size=32), WAREKI_DATES.map(lambda d: to_wareki_short(d) + "9"),
                 WAREKI_DATES.map(lambda d: d.isoformat().replace("-", "/", 1))))
def test_errors_never_repeat_the_input(text: str) -> None:
    """A birth date is personal data: messages are fixed texts (and era spans) that never quote the value."""
    try:
        parse_typed_date(text)
    except InvalidDate as exc:
        assert text.strip() not in str(exc) + repr(exc.args)
