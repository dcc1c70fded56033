"""Times as people read them: always Japan Standard Time, in one format per medium (ADR 0027).

Stored timestamps stay UTC (the database, manifests, catalogues, the audit chain's hashed content); every
time that reaches a person is converted here, from an aware datetime, never from the process's or
Django's current time zone:

- command line, reports and files for staff (CSV, HTML): :func:`format_time` ``2026-12-05 09:05:07 JST``;
- screens: :func:`format_screen_time` ``2026-12-05 09:05`` (``seconds=True``: ``2026-12-05 09:05:07``),
  every page saying once, in its footer, that times are JST;
- a calendar day, everywhere: :func:`format_day` ``2026-12-05`` (a datetime is taken as its JST day);
- the time in a file name: :func:`format_file_stamp` ``20261205-090507``.

Interface files keep the formats of interfaces.md (``YYYYMMDD``, ``YYYYMMDDhhmmssSSS`` in JST:
:mod:`jutaku.domain.wareki`). A naive datetime is refused (ValueError): it would be guessed at.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from jutaku.domain.wareki import JST

__all__ = ["JST", "format_day", "format_file_stamp", "format_screen_time", "format_time", "parse_file_stamp",
           "to_jst"]

#: What a missing time reads as in listings and reports.
NONE: Final = "—"
_FILE_STAMP: Final = "%Y%m%d-%H%M%S"


def to_jst(moment: dt.datetime) -> dt.datetime:
    """The same instant on Japan's clock; a naive datetime is refused."""
    if not isinstance(moment, dt.datetime):
        raise TypeError("a datetime is expected")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is expected (stored times are UTC)")
    return moment.astimezone(JST)


def format_time(moment: dt.datetime | None, *, none: str = NONE) -> str:
    """Command line, reports, staff files: ``2026-12-05 09:05:07 JST``."""
    if moment is None:
        return none
    return f"{to_jst(moment):%Y-%m-%d %H:%M:%S} JST"


def format_screen_time(moment: dt.datetime | None, *, seconds: bool = False, none: str = "") -> str:
    """Screens: ``2026-12-05 09:05`` (with ``seconds``: ``2026-12-05 09:05:07``), in JST."""
    if moment is None:
        return none
    return f"{to_jst(moment):%Y-%m-%d %H:%M:%S}" if seconds else f"{to_jst(moment):%Y-%m-%d %H:%M}"


def format_day(value: dt.date | dt.datetime | None, *, none: str = NONE) -> str:
    """A calendar day: ``2026-12-05``. A date is shown as it is; a datetime as its day in Japan."""
    if value is None:
        return none
    day = to_jst(value).date() if isinstance(value, dt.datetime) else value
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def format_file_stamp(moment: dt.datetime) -> str:
    """The time in a file name the system writes: ``20261205-090507`` (JST; sorts in time order)."""
    return to_jst(moment).strftime(_FILE_STAMP)


def parse_file_stamp(text: str) -> dt.datetime:
    """``20261205-090507`` → that JST time (aware); ValueError for anything else."""
    if len(text) != len("20261205-090507") or not text.isascii():
        raise ValueError("not a YYYYMMDD-HHMMSS file stamp")
    return dt.datetime.strptime(text, _FILE_STAMP).replace(tzinfo=JST)
