"""Dates of the interface files: YYYYMMDD, 和暦 GYYMMDD and long form (JIS X 0301), JST timestamps."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.wareki import (
    JST,
    InvalidDate,
    format_date,
    format_timestamp,
    jst_date,
    parse_birth_date,
    parse_date,
    parse_timestamp,
    to_wareki,
    to_wareki_long,
)

DATES = st.dates(min_value=dt.date(1868, 1, 25), max_value=dt.date(2100, 12, 31))


@pytest.mark.parametrize(("text", "expected"), [
    ("19700123", dt.date(1970, 1, 23)),
    ("S450123", dt.date(1970, 1, 23)),
    ("s450123", dt.date(1970, 1, 23)),
    ("Ｓ４５０１２３", dt.date(1970, 1, 23)),
    ("１９７００１２３", dt.date(1970, 1, 23)),
    (" S450123 ", dt.date(1970, 1, 23)),
    ("昭和45年1月23日", dt.date(1970, 1, 23)),
    ("昭和４５年０１月２３日", dt.date(1970, 1, 23)),
    ("平成元年1月8日", dt.date(1989, 1, 8)),
    ("㍻元年1月8日", dt.date(1989, 1, 8)),
    ("令和1年5月1日", dt.date(2019, 5, 1)),
    ("令和元年5月1日", dt.date(2019, 5, 1)),
    ("M010125", dt.date(1868, 1, 25)),
    ("M450729", dt.date(1912, 7, 29)),
    ("T010730", dt.date(1912, 7, 30)),
    ("T151224", dt.date(1926, 12, 24)),
    ("S011225", dt.date(1926, 12, 25)),
    ("S640107", dt.date(1989, 1, 7)),
    ("H010108", dt.date(1989, 1, 8)),
    ("H310430", dt.date(2019, 4, 30)),
    ("R010501", dt.date(2019, 5, 1)),
    ("H120229", dt.date(2000, 2, 29)),
])
def test_birth_date_forms(text: str, expected: dt.date) -> None:
    assert parse_birth_date(text) == expected


@pytest.mark.parametrize("text", [
    "S640108", "H010107", "M450730", "T010729", "T151225", "S011224", "H310501", "R010430", "M010124",
    "S000123", "R000501", "平成元年1月7日", "昭和64年1月8日", "大正0年1月1日",
    "20230230", "20231301", "20230100", "00000101", "S450230", "S451301",
    "S45012", "S4501234", "X450123", "1970012", "19700123x", "197O0123", "昭和45年1月23", "昭和45年1月23日生",
    "昭和四五年一月二三日", "昭和123年1月1日", "天平1年1月1日", "", "   ", "S45-01-23", "1970-01-23",
])
def test_bad_birth_dates_are_rejected(text: str) -> None:
    with pytest.raises(InvalidDate):
        parse_birth_date(text)


def test_future_birth_dates_are_rejected_when_today_is_given() -> None:
    today = dt.date(2026, 4, 1)
    assert parse_birth_date("R080401", today=today) == today
    with pytest.raises(InvalidDate):
        parse_birth_date("20260402", today=today)


@pytest.mark.parametrize("text", ["2023-01-01", "2023011", "202301011", "２０２３０１０１", "20230229", "S450123", ""])
def test_parse_date_is_strict_ascii_yyyymmdd(text: str) -> None:
    with pytest.raises(InvalidDate):
        parse_date(text)


@given(DATES)
def test_yyyymmdd_round_trip(day: dt.date) -> None:
    assert parse_date(format_date(day)) == day
    assert parse_birth_date(format_date(day)) == day


@given(DATES)
def test_wareki_round_trip(day: dt.date) -> None:
    wareki = to_wareki(day)
    assert len(wareki) == 7 and wareki[0] in "MTSHR"
    assert parse_birth_date(wareki) == day
    assert parse_birth_date(to_wareki_long(day)) == day


def test_to_wareki_examples() -> None:
    assert to_wareki(dt.date(1970, 1, 23)) == "S450123"
    assert to_wareki(dt.date(1989, 1, 7)) == "S640107"
    assert to_wareki(dt.date(1989, 1, 8)) == "H010108"
    assert to_wareki_long(dt.date(1989, 1, 8)) == "平成元年1月8日"
    assert to_wareki_long(dt.date(2019, 5, 1)) == "令和元年5月1日"


@pytest.mark.parametrize("day", [dt.date(1868, 1, 24), dt.date(1, 1, 1), dt.date(2118, 1, 1)])
def test_dates_without_a_two_digit_wareki_are_refused(day: dt.date) -> None:
    with pytest.raises(InvalidDate):
        to_wareki(day)


def test_format_date_refuses_a_datetime() -> None:
    with pytest.raises(TypeError):
        format_date(dt.datetime(2026, 4, 1, tzinfo=JST))
    assert format_date(dt.date(5, 1, 2)) == "00050102"


def test_timestamp_is_aware_jst() -> None:
    moment = parse_timestamp("20260401093012123")
    assert moment == dt.datetime(2026, 4, 1, 9, 30, 12, 123000, tzinfo=JST)
    assert moment.utcoffset() == dt.timedelta(hours=9)
    assert format_timestamp(moment) == "20260401093012123"
    assert format_timestamp(moment.astimezone(dt.UTC)) == "20260401093012123"
    assert jst_date(dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC)) == dt.date(2026, 4, 1)


@pytest.mark.parametrize("text", ["20260401243012123", "20260401096012123", "20260401093060123", "2026040109301212",
                                  "202604010930121234", "20260230093012123", "2026040109301212a", "２０２６０４０１０９３０１２１２３"])
def test_bad_timestamps_are_rejected(text: str) -> None:
    with pytest.raises(InvalidDate):
        parse_timestamp(text)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        format_timestamp(dt.datetime(2026, 4, 1))  # noqa: DTZ001 - the naive value is the point
    with pytest.raises(ValueError):
        jst_date(dt.datetime(2026, 4, 1))  # noqa: DTZ001


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001 - bounds are naive
                    timezones=st.just(JST)))
def test_timestamp_round_trip(moment: dt.datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert parse_timestamp(format_timestamp(moment)) == moment


@given(st.one_of(st.text(min_size=6, max_size=40), st.dates().map(lambda d: format_date(d) + "9"),
                 st.dates().map(lambda d: "S" + format_date(d)[2:])))
def test_errors_never_repeat_the_input(text: str) -> None:
    """A birth date is personal data: messages are fixed texts that never quote the value."""
    try:
        parse_birth_date(text)
    except InvalidDate as exc:
        assert text.strip() not in str(exc) + repr(exc.args)
