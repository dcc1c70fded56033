"""Dates and timestamps of the interface files: ``YYYYMMDD``, 和暦 ``GYYMMDD``, ``YYYYMMDDhhmmssSSS`` (JST);
dates as staff type them into a search (:func:`parse_typed_date`: 西暦 or 和暦, ``S45.3.1``, ``R1.5.1`` …).

Sources: interfaces.md "Conventions"; JIS X 0301 (era letters M/T/S/H/R and ``GYYMMDD``); 元号法
(昭和54年法律第43号) and the era ordinances (明治改元の詔 慶応4年9月8日, 大正 1912-07-30, 昭和 1926-12-25,
平成 (昭和64年政令第1号) 1989-01-08, 令和 (平成31年政令第143号) 2019-05-01).

明治 starts on 1868-01-25 (= 慶応4年1月1日 in the Gregorian calendar): the 改元 of 慶応4年9月8日
applied from the first day of that year. Until 明治5年12月2日 Japan used the lunisolar calendar
(改暦: 明治5年太政官布告第337号), so for 明治1–5 the month and day are converted as if they were
Gregorian; the same convention as ``jutaku.sim.dates`` and common 和暦 converters. No living person
is affected.

Errors never repeat the input (a birth date is personal data).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Final, NamedTuple

#: Japan Standard Time; Japan has no daylight saving time since 1951, so a fixed offset is exact.
JST: Final = dt.timezone(dt.timedelta(hours=9), "JST")

#: Longest date or timestamp text we look at (``令和元年12月31日`` with spaces fits easily).
MAX_INPUT_LENGTH: Final = 32

_DATE_LENGTH: Final = 8
_WAREKI_LENGTH: Final = 7
_TIMESTAMP_LENGTH: Final = 17


class InvalidDate(ValueError):
    """Not a valid date or timestamp in the expected form, or outside its era."""


class Era(NamedTuple):
    letter: str
    name: str
    first_day: dt.date


#: Eras, oldest first (JIS X 0301 letters).
ERAS: Final = (
    Era("M", "明治", dt.date(1868, 1, 25)),
    Era("T", "大正", dt.date(1912, 7, 30)),
    Era("S", "昭和", dt.date(1926, 12, 25)),
    Era("H", "平成", dt.date(1989, 1, 8)),
    Era("R", "令和", dt.date(2019, 5, 1)),
)
_BY_LETTER: Final = {era.letter: i for i, era in enumerate(ERAS)}
_BY_NAME: Final = {era.name: i for i, era in enumerate(ERAS)}
_FIRST_YEAR: Final = "元"
_MAX_ERA_YEAR: Final = 99
_OUTSIDE_ERA: Final = "元号の期間外の日付です"


def _is_digits(text: str, length: int) -> bool:
    return len(text) == length and text.isascii() and text.isdigit()


def _date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidDate("存在しない日付です") from None


def parse_date(text: str) -> dt.date:
    """``YYYYMMDD`` (ASCII digits, a real calendar date) -> date; otherwise :class:`InvalidDate`."""
    if not _is_digits(text, _DATE_LENGTH):
        raise InvalidDate("日付は YYYYMMDD の8桁で指定してください")
    return _date(int(text[:4]), int(text[4:6]), int(text[6:]))


def format_date(day: dt.date) -> str:
    """``YYYYMMDD``. A datetime is refused: convert it to a JST date first (:func:`jst_date`)."""
    if isinstance(day, dt.datetime):
        raise TypeError("a date is expected, not a datetime")
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def jst_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Japan of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is expected")
    return moment.astimezone(JST).date()


def _era_index(day: dt.date) -> int:
    for i in range(len(ERAS) - 1, -1, -1):
        if day >= ERAS[i].first_day:
            return i
    raise InvalidDate("明治より前の日付は和暦にできません")


def _from_era(index: int, era_year: int, month: int, day: int) -> dt.date:
    """The date of 元号 ``ERAS[index]`` year ``era_year``; :class:`InvalidDate` outside that era."""
    if not 1 <= era_year <= _MAX_ERA_YEAR:
        raise InvalidDate("和暦の年が範囲外です")
    era = ERAS[index]
    result = _date(era.first_day.year + era_year - 1, month, day)
    if result < era.first_day or (index + 1 < len(ERAS) and result >= ERAS[index + 1].first_day):
        raise InvalidDate(_OUTSIDE_ERA)
    return result


def to_wareki(day: dt.date) -> str:
    """和暦 ``GYYMMDD`` (JIS X 0301): 1970-01-23 -> ``S450123``; 元年 is ``01``."""
    era = ERAS[_era_index(day)]
    era_year = day.year - era.first_day.year + 1
    if era_year > _MAX_ERA_YEAR:
        raise InvalidDate("和暦の年が2桁を超えます")
    return f"{era.letter}{era_year:02d}{day.month:02d}{day.day:02d}"


def to_wareki_long(day: dt.date) -> str:
    """和暦 in words: 1989-01-08 -> ``平成元年1月8日``."""
    era = ERAS[_era_index(day)]
    era_year = day.year - era.first_day.year + 1
    year = _FIRST_YEAR if era_year == 1 else str(era_year)
    return f"{era.name}{year}年{day.month}月{day.day}日"


def _parse_gyymmdd(text: str) -> dt.date:
    index = _BY_LETTER.get(text[0].upper())
    if index is None or not _is_digits(text[1:], _WAREKI_LENGTH - 1):
        raise InvalidDate("和暦は GYYMMDD (G は M/T/S/H/R) で指定してください")
    return _from_era(index, int(text[1:3]), int(text[3:5]), int(text[5:]))


def _split_number(text: str, unit: str) -> tuple[int, str]:
    """``'45年1月…'`` with unit ``年`` -> (45, ``'1月…'``); 1–2 digits, or 元 for the year."""
    head, sep, rest = text.partition(unit)
    if sep and unit == "年" and head == _FIRST_YEAR:
        return 1, rest
    if not sep or not (1 <= len(head) <= 2) or not head.isascii() or not head.isdigit():
        raise InvalidDate("和暦は 昭和45年1月23日 の形で指定してください")
    return int(head), rest


def _parse_long(text: str) -> dt.date:
    """``昭和45年1月23日`` / ``平成元年1月8日``."""
    index = _BY_NAME.get(text[:2])
    if index is None:
        raise InvalidDate("生年月日は YYYYMMDD, GYYMMDD または 昭和45年1月23日 の形で指定してください")
    era_year, rest = _split_number(text[2:], "年")
    month, rest = _split_number(rest, "月")
    day, rest = _split_number(rest, "日")
    if rest:
        raise InvalidDate("和暦は 昭和45年1月23日 の形で指定してください")
    return _from_era(index, era_year, month, day)


def parse_birth_date(text: str, *, today: dt.date | None = None) -> dt.date:
    """A birth date as the import files may carry it (interfaces.md "Conventions").

    Accepted: ``YYYYMMDD``; 和暦 ``GYYMMDD`` with G in M/T/S/H/R (``S450123`` = 1970-01-23); the long
    form ``昭和45年1月23日``, ``平成元年1月8日`` (元年 = 1). Full-width digits and letters, spaces
    around the value, and the era ligatures ㍾㍽㍼㍻㋿ are accepted (NFKC). A 和暦 date must lie in its
    era (S640107 is valid, S640108 is not). With ``today`` a date after it is refused.
    """
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidDate("生年月日が長すぎます")
    if today is None and _is_digits(text, _DATE_LENGTH):
        return parse_date(text)  # the common case, without the NFKC pass
    value = "".join(unicodedata.normalize("NFKC", text).split())
    if not value:
        raise InvalidDate("生年月日が空です")
    if _is_digits(value, _DATE_LENGTH):
        result = parse_date(value)
    elif len(value) == _WAREKI_LENGTH and value[0].isascii():
        result = _parse_gyymmdd(value)
    else:
        result = _parse_long(value)
    if today is not None and result > today:
        raise InvalidDate("生年月日が未来の日付です")
    return result


# --------------------------------------------------------------------------------------------------
# Dates as staff type them (the search form): more forms than the interface files, same eras.

#: One-character era abbreviations staff write (昭45.3.1).
_BY_ABBREVIATION: Final = {era.name[0]: i for i, era in enumerate(ERAS)}
#: ``Y.M.D``, ``Y/M/D``, ``Y-M-D`` (full-width forms are folded by NFKC first) and ``Y年M月D日``.
_TYPED_SEPARATORS: Final = frozenset({"..", "//", "--", "年月", "年月日"})
_ISO_YEAR_LENGTH: Final = 4
_ERA_DIGITS_LENGTH: Final = 6
TYPED_FORMS: Final = "1970-03-01、19700301、昭和45年3月1日、S45.3.1、R1.5.1"
_UNREADABLE: Final = f"生年月日を読み取れません。{TYPED_FORMS} のように入力してください。"


def _split_typed(text: str, *, era: bool) -> tuple[str, str, str]:
    """``'45.3.1'`` -> ('45', '3', '1'): three numbers with one separator style; 元 only as an era's year."""
    parts: list[str] = []
    separators: list[str] = []
    current = ""
    for ch in text:
        if (ch.isascii() and ch.isdigit()) or (era and ch == _FIRST_YEAR and not parts and not current):
            current += ch
        elif current and len(parts) < 3:
            parts.append(current)
            separators.append(ch)
            current = ""
        else:
            raise InvalidDate(_UNREADABLE)
    if current:
        parts.append(current)
    if len(parts) != 3 or "".join(separators) not in _TYPED_SEPARATORS:
        raise InvalidDate(_UNREADABLE)
    return parts[0], parts[1], parts[2]


def _typed_number(text: str, most: int, *, exact: bool = False) -> int:
    if text == _FIRST_YEAR:
        return 1
    if not text.isdigit() or (len(text) != most if exact else len(text) > most):
        raise InvalidDate(_UNREADABLE)
    return int(text)


def _typed_era(text: str) -> tuple[int, str] | None:
    """(era index, the rest) when ``text`` starts with an era: 昭和, 昭 or S (any case); else None."""
    if text[:2] in _BY_NAME:
        return _BY_NAME[text[:2]], text[2:]
    if text[0] in _BY_ABBREVIATION:
        return _BY_ABBREVIATION[text[0]], text[1:]
    if text[0].upper() in _BY_LETTER:
        return _BY_LETTER[text[0].upper()], text[1:]
    return None


def parse_typed_date(text: str, *, today: dt.date | None = None) -> dt.date:
    """A date typed by staff (the 生年月日 of the person search), 西暦 or 和暦.

    西暦: ``1970-03-01``, ``1970/3/1``, ``1970.3.1``, ``19700301``, ``1970年3月1日``. 和暦: the era as
    its name (昭和), its first character (昭) or its JIS X 0301 letter (S, s), then ``45年3月1日``,
    ``45.3.1``, ``45/3/1``, ``45-3-1`` or ``450301``; the first year is 1 or 元 (``R1.5.1``, ``令和元年5月1日``).
    Full-width digits, separators and the era ligatures are folded (NFKC), spaces ignored. A 和暦 date
    must lie in its era (昭和64年1月7日 is 1989-01-07; 昭和64年1月8日 does not exist: it is 平成元年1月8日).
    With ``today`` a later date is refused. Errors never quote the input.
    """
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidDate("生年月日が長すぎます")
    value = "".join(unicodedata.normalize("NFKC", text).split())
    if not value:
        raise InvalidDate("生年月日が空です")
    era = _typed_era(value)
    if era is not None:
        index, rest = era
        if len(rest) == _ERA_DIGITS_LENGTH and rest.isascii() and rest.isdigit():
            year, month, day = rest[:2], rest[2:4], rest[4:]
        else:
            year, month, day = _split_typed(rest, era=True)
        try:
            result = _from_era(index, _typed_number(year, 2), _typed_number(month, 2), _typed_number(day, 2))
        except InvalidDate as exc:
            raise InvalidDate(f"{exc}（{era_span(index)}）" if str(exc) == _OUTSIDE_ERA else str(exc)) from None
    else:
        if _is_digits(value, _DATE_LENGTH):
            year, month, day = value[:4], value[4:6], value[6:]
        else:
            year, month, day = _split_typed(value, era=False)
        result = _date(_typed_number(year, _ISO_YEAR_LENGTH, exact=True), _typed_number(month, 2),
                       _typed_number(day, 2))
    if today is not None and result > today:
        raise InvalidDate("生年月日が未来の日付です")
    return result


def era_span(index: int) -> str:
    """``平成は1989年1月8日から2019年4月30日まで`` for ``ERAS[index]`` (the last era has no end yet)."""
    era = ERAS[index]
    first = f"{era.name}は{era.first_day.year}年{era.first_day.month}月{era.first_day.day}日から"
    if index + 1 == len(ERAS):
        return first
    last = ERAS[index + 1].first_day - dt.timedelta(days=1)
    return f"{first}{last.year}年{last.month}月{last.day}日まで"


def to_wareki_short(day: dt.date) -> str:
    """和暦 as staff write it: 1970-03-01 -> ``S45.3.1``, 2019-05-01 -> ``R1.5.1``."""
    era = ERAS[_era_index(day)]
    return f"{era.letter}{day.year - era.first_day.year + 1}.{day.month}.{day.day}"


def describe_date(day: dt.date) -> str:
    """How a typed date was understood, both ways: ``1970年3月1日（昭和45年3月1日）``."""
    western = f"{day.year}年{day.month}月{day.day}日"
    return f"{western}（{to_wareki_long(day)}）" if day >= ERAS[0].first_day else western


def parse_timestamp(text: str) -> dt.datetime:
    """``YYYYMMDDhhmmssSSS`` in JST -> an aware datetime (tz :data:`JST`)."""
    if not _is_digits(text, _TIMESTAMP_LENGTH):
        raise InvalidDate("日時は YYYYMMDDhhmmssSSS の17桁で指定してください")
    day = parse_date(text[:8])
    try:
        clock = dt.time(int(text[8:10]), int(text[10:12]), int(text[12:14]), int(text[14:]) * 1000)
    except ValueError:
        raise InvalidDate("存在しない時刻です") from None
    return dt.datetime.combine(day, clock, tzinfo=JST)


def format_timestamp(moment: dt.datetime) -> str:
    """``YYYYMMDDhhmmssSSS`` in JST for an aware datetime (milliseconds truncated)."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is expected")
    local = moment.astimezone(JST)
    return f"{format_date(local.date())}{local:%H%M%S}{local.microsecond // 1000:03d}"
