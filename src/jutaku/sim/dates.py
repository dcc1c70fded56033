"""Tiny date helpers for the simulator: YYYYMMDD, 和暦 ``GYYMMDD`` (interfaces.md, "Conventions").

The simulator keeps its own converter so that its answer key does not depend on the system under test
(``jutaku.domain.wareki``); both must agree on the contract: G in M/T/S/H/R, era year 01–99.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Final

#: (letter, first day of the era), newest first.
ERAS: Final = (
    ("R", dt.date(2019, 5, 1)),
    ("H", dt.date(1989, 1, 8)),
    ("S", dt.date(1926, 12, 25)),
    ("T", dt.date(1912, 7, 30)),
    ("M", dt.date(1868, 1, 25)),
)
_START: Final = dict(ERAS)
_NEXT: Final = {ERAS[i][0]: ERAS[i - 1][1] for i in range(1, len(ERAS))}


def to_wareki(day: dt.date) -> str:
    """``S450123`` for 1970-01-23."""
    for letter, start in ERAS:
        if day >= start:
            return f"{letter}{day.year - start.year + 1:02d}{day.month:02d}{day.day:02d}"
    raise ValueError("before 明治")


@functools.lru_cache(maxsize=1 << 16)
def parse_yyyymmdd(value: str) -> dt.date | None:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


@functools.lru_cache(maxsize=1 << 16)
def parse_birth(value: str) -> dt.date | None:
    """A birth date in YYYYMMDD or 和暦 GYYMMDD; ``None`` when malformed or outside its era."""
    if len(value) == 7 and value[0] in _START:
        digits = value[1:]
        if not digits.isascii() or not digits.isdigit() or digits[:2] == "00":
            return None
        start = _START[value[0]]
        try:
            day = dt.date(start.year + int(digits[:2]) - 1, int(digits[2:4]), int(digits[4:]))
        except ValueError:
            return None
        nxt = _NEXT.get(value[0])
        if day < start or (nxt is not None and day >= nxt):
            return None
        return day
    return parse_yyyymmdd(value)


def valid_timestamp(value: str) -> bool:
    """``YYYYMMDDhhmmssSSS``."""
    if len(value) != 17 or not value.isascii() or not value.isdigit() or parse_yyyymmdd(value[:8]) is None:
        return False
    return int(value[8:10]) < 24 and int(value[10:12]) < 60 and int(value[12:14]) < 60


def ymd(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"
