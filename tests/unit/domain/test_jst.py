"""Times as people read them (ADR 0027): JST, one format per medium, naive datetimes refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.audit.anchorfile import jst_text, utc_text
from jutaku.domain.jst import (
    JST,
    format_day,
    format_file_stamp,
    format_screen_time,
    format_time,
    parse_file_stamp,
    to_jst,
)

UTC = dt.UTC
#: 15:00 UTC is midnight in Tokyo: the moment a UTC date and a JST date differ.
BOUNDARY = dt.datetime(2026, 12, 4, 15, 0, 0, tzinfo=UTC)
JUST_BEFORE = BOUNDARY - dt.timedelta(seconds=1)
MOMENTS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31),  # noqa: DTZ001 - bounds
                       timezones=st.sampled_from([UTC, JST, dt.timezone(dt.timedelta(hours=-5))]))


def test_a_utc_time_is_shown_on_japans_clock_in_each_medium() -> None:
    moment = dt.datetime(2026, 12, 5, 3, 4, 5, 678000, tzinfo=UTC)
    assert format_time(moment) == "2026-12-05 12:04:05 JST"
    assert format_screen_time(moment) == "2026-12-05 12:04"
    assert format_screen_time(moment, seconds=True) == "2026-12-05 12:04:05"
    assert format_day(moment) == "2026-12-05"
    assert format_file_stamp(moment) == "20261205-120405"


def test_15_00_utc_is_already_the_next_day_in_japan() -> None:
    assert format_time(BOUNDARY) == "2026-12-05 00:00:00 JST"
    assert format_time(JUST_BEFORE) == "2026-12-04 23:59:59 JST"
    assert format_day(BOUNDARY) == "2026-12-05" and format_day(JUST_BEFORE) == "2026-12-04"
    assert format_screen_time(BOUNDARY) == "2026-12-05 00:00"
    assert format_file_stamp(BOUNDARY) == "20261205-000000"


def test_a_calendar_day_is_shown_as_it_is() -> None:
    assert format_day(dt.date(2027, 3, 31)) == "2027-03-31"
    assert format_day(dt.date(987, 1, 2)) == "0987-01-02"


@pytest.mark.parametrize("call", [format_time, format_screen_time, format_day, format_file_stamp, to_jst])
def test_a_naive_datetime_is_refused_not_guessed(call: object) -> None:
    with pytest.raises(ValueError, match="aware"):
        call(dt.datetime(2026, 12, 5, 3, 4, 5))  # type: ignore[operator]  # noqa: DTZ001 - the naive value is the point


def test_to_jst_wants_a_datetime() -> None:
    with pytest.raises(TypeError):
        to_jst(dt.date(2026, 12, 5))  # type: ignore[arg-type]


def test_a_missing_time_reads_as_the_placeholder_given() -> None:
    assert format_time(None) == "—" and format_time(None, none="-") == "-"
    assert format_day(None) == "—" and format_day(None, none="なし") == "なし"
    assert format_screen_time(None) == "" and format_screen_time(None, none="—") == "—"


@given(MOMENTS)
def test_the_same_instant_reads_the_same_whatever_zone_it_came_in(moment: dt.datetime) -> None:
    in_utc = moment.astimezone(UTC)
    assert format_time(moment) == format_time(in_utc)
    assert to_jst(moment) == moment and to_jst(moment).utcoffset() == dt.timedelta(hours=9)
    assert parse_file_stamp(format_file_stamp(moment)) == moment.replace(microsecond=0)


@pytest.mark.parametrize("text", ["20261205T120405Z", "2026-12-05 12:04", "20261305-120405", "２０２６1205-120405", ""])
def test_only_a_file_stamp_is_read_as_one(text: str) -> None:
    with pytest.raises(ValueError):
        parse_file_stamp(text)


@given(MOMENTS)
def test_the_stand_alone_anchor_verifier_prints_the_same_jst_as_everything_else(moment: dt.datetime) -> None:
    assert jst_text(utc_text(moment)) == format_time(moment.replace(microsecond=0))
