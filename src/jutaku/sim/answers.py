"""The reference outcome of every kit and portal row (interfaces.md, "Registration outcomes").

:func:`expected_outcomes` is an independent, deliberately plain simulation of the registration rules.
It is the answer key the system under test is graded against, so it shares no code with
``jutaku.registry``. The rules, as this reference reads them:

1. Rows are processed in the given order, file by file (a file is a run of rows with the same
   ``ファイル``), against a number store that is empty before the first row.
2. Per row, the codes that apply are collected and the lowest wins (``E00`` … ``E07``); ``I01`` or
   ``OK`` only when no E code applies.

   - ``E00``: a required field is missing, a code is not in its list, a date or timestamp is invalid,
     a digits field has a non-digit or the wrong width, a text cell has a control character or
     starts like a formula (``= + - @``), or a field other than 個人番号 holds a written My Number
     (:func:`holds_number`). Driven by the layout (``KIT`` / ``PORTAL``).
     A *missing* 個人番号 is ``E00``; a present but wrong one is ``E01``.
   - ``E01``: the 個人番号, normalised (full-width digits to ASCII, spaces and hyphens removed), is not
     12 digits with a valid check digit.
   - ``E02``: 個人ID is not in the targets.
   - ``E03``: 氏名カナ differs by matching key, or 生年月日 (YYYYMMDD or 和暦) / 性別 differ.
   - ``E04``: the number is held in the store by another person.
   - ``E05``: the person holds another number in the store.
   - ``E06``: among the rows *of the same file* that pass E00–E03 ("identified rows"), another row has
     the same person with a different number, or the same number with a different person. Every row of
     such a conflict gets ``E06`` (unless a lower code applies to it) and none is registered.
     An exact repeat (same person, same number, no different partner) is *not* a conflict: the first
     occurrence registers (``OK``) and the later one finds the number already there (``I01``).
   - ``E07``: the person's 状態 is not ``1``.
3. A row with no code registers (person, number) in the store: ``OK``; ``I01`` when the store already
   holds exactly that pair (from an earlier file or an earlier row of the same file).
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from jutaku.domain.my_number import normalise
from jutaku.formats.layouts import KIT, PORTAL, Column, Layout
from jutaku.sim.dates import parse_birth, parse_yyyymmdd, valid_timestamp
from jutaku.sim.faults import O_ROW, fast_check_digit

FILE_COLUMN: Final = "ファイル"
KIT_FILE: Final = "kit.csv"
PORTAL_FILE: Final = "portal.zip"
CODES: Final = ("OK", "I01", "E00", "E01", "E02", "E03", "E04", "E05", "E06", "E07")

_HIRA_TO_KATA: Final = {cp: cp + 0x60 for cp in range(0x3041, 0x3097)}
_DROP: Final = {ord(" "): None, ord("\u3000"): None, ord("\t"): None}
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def sim_kana_key(text: str) -> str:
    """The simulator's own kana matching key: NFKC, hiragana→katakana, no spaces, オ段+ー → オ段+ウ.

    Only as lax as the simulator needs: its benign variants map to the same key, its typos do not.
    """
    key = unicodedata.normalize("NFKC", text).translate(_HIRA_TO_KATA).translate(_DROP)
    if "ー" in key:
        key = "".join(
            "ウ" if ch == "ー" and i > 0 and key[i - 1] in O_ROW else ch for i, ch in enumerate(key)
        )
    return key


@dataclass(frozen=True, slots=True)
class TargetPerson:
    """What the register (targets.csv) says about one 個人ID, as the matching rules need it."""

    kana: str
    birth: str  # YYYYMMDD
    sex: str
    status: str


def load_targets(rows: Iterable[Mapping[str, str]]) -> dict[str, TargetPerson]:
    """Targets keyed by 個人ID from targets.csv rows (dicts by column name); later rows win (upsert)."""
    return {r["個人ID"]: TargetPerson(r["氏名カナ"], r["生年月日"], r["性別"], r["状態"]) for r in rows}


def read_targets_csv(path: Path) -> dict[str, TargetPerson]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return load_targets(csv.DictReader(fh))


def layout_for(file: str) -> Layout:
    return PORTAL if file.endswith(".zip") else KIT


Check = Callable[[str], bool]  # True when the (non-empty) value is bad

_DASHES: Final = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\u30fc\uff70\u00ad\u200b\u200c\u200d\u2060\ufeff")


def _is_letter(ch: str) -> bool:
    return (ch.isascii() and ch.isalpha()) or "Ａ" <= ch <= "Ｚ" or "ａ" <= ch <= "ｚ"


def holds_number(value: str) -> bool:
    """The simulator's own reading of "a written My Number" (ADR 0020), by brute force: from every digit
    that starts a group and is not glued to a letter, read twelve digits across spaces and dashes; the
    twelfth must end its group, not be glued to a letter, and the twelve pass the check digit."""
    if len(value) < 12 or sum(map(str.isdecimal, value)) < 12:
        return False
    for start, first in enumerate(value):
        if not first.isdecimal() or (start and (value[start - 1].isdecimal() or _is_letter(value[start - 1]))):
            continue
        digits, end = "", start
        while end < len(value) and len(digits) < 12:
            ch = value[end]
            if ch.isdecimal():
                digits += str(int(ch))
            elif not (ch.isspace() or ch in _DASHES):
                break
            end += 1
        after = value[end] if end < len(value) else " "
        if len(digits) == 12 and not (after.isdecimal() or _is_letter(after)) and number_ok(digits):
            return True
    return False


def _column_check(col: Column) -> Check:
    width, exact, kind = col.width, col.exact, col.type

    def too_long(value: str) -> bool:
        return width is not None and (len(value) > width or (exact and len(value) != width))

    if kind == "my_number":
        return lambda value: False  # judged by E01
    if col.refuses_my_number:
        rest = _type_check(col, too_long)
        return lambda value: holds_number(value) or rest(value)
    return _type_check(col, too_long)


def _type_check(col: Column, too_long: Callable[[str], bool]) -> Check:
    kind = col.type
    if kind == "digits":
        return lambda value: too_long(value) or not (value.isascii() and value.isdigit())
    if kind == "code":
        allowed = frozenset(col.codes or ())
        return lambda value: value not in allowed
    if kind == "date":
        return lambda value: parse_yyyymmdd(value) is None
    if kind == "birth_date":
        return lambda value: parse_birth(value) is None
    if kind == "timestamp":
        return lambda value: not valid_timestamp(value)
    return lambda value: too_long(value) or value.startswith(_FORMULA) or _CONTROL.search(value) is not None


_CHECKS: dict[str, tuple[tuple[str, bool, Check], ...]] = {}


def _checks(layout: Layout) -> tuple[tuple[str, bool, Check], ...]:
    checks = _CHECKS.get(layout.name)
    if checks is None:
        checks = _CHECKS[layout.name] = tuple((c.name, c.required, _column_check(c)) for c in layout.columns)
    return checks


def is_malformed(row: Mapping[str, str], layout: Layout) -> bool:
    """``E00``: a row that does not fit its layout (the 個人番号 itself is judged by ``E01``)."""
    for name, required, bad in _checks(layout):
        value = row.get(name) or ""
        if (required if not value else bad(value)):
            return True
    return False


def number_ok(raw: str) -> str | None:
    """The normalised number when it is 12 digits with a valid check digit, else ``None``."""
    number = raw if len(raw) == 12 and raw.isascii() and raw.isdigit() else normalise(raw)
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return None
    return number if fast_check_digit(number[:11]) == number[11] else None


def _stateless(
    row: Mapping[str, str], targets: Mapping[str, TargetPerson], kana_key: Callable[[str], str]
) -> str | tuple[str, str, str]:
    """E00–E03, or the identified (person id, number, status)."""
    if is_malformed(row, layout_for(row[FILE_COLUMN])):
        return "E00"
    number = number_ok(row["個人番号"])
    if number is None:
        return "E01"
    person_id = row["個人ID"]
    target = targets.get(person_id)
    if target is None:
        return "E02"
    birth = row["生年月日"]
    if (
        row["性別"] != target.sex
        or (birth != target.birth and parse_birth(birth) != parse_birth(target.birth))
        or kana_key(row["氏名カナ"]) != kana_key(target.kana)
    ):
        return "E03"
    return person_id, number, target.status


_CONFLICT: Final = ""  # sentinel in the per-file maps: more than one partner seen


def _conflict_maps(
    staged: list[str | tuple[str, str, str]], start: int, end: int
) -> tuple[dict[str, str], dict[str, str]]:
    by_person: dict[str, str] = {}
    by_number: dict[str, str] = {}
    for i in range(start, end):
        item = staged[i]
        if isinstance(item, str):
            continue
        person_id, number, _ = item
        if by_person.setdefault(person_id, number) != number:
            by_person[person_id] = _CONFLICT
        if by_number.setdefault(number, person_id) != person_id:
            by_number[number] = _CONFLICT
    return by_person, by_number


def expected_outcomes(
    targets: Mapping[str, TargetPerson],
    rows_in_processing_order: Iterable[Mapping[str, str]],
    *,
    kana_key: Callable[[str], str] = sim_kana_key,
) -> list[str]:
    """The outcome code of every row, in order (rules in the module docstring).

    Each row is a mapping of the layout's column names (``KIT`` or ``PORTAL``) plus ``ファイル``.
    """
    staged: list[str | tuple[str, str, str]] = []
    files: list[str] = []
    key = functools.lru_cache(maxsize=1 << 16)(kana_key)  # names repeat: a few thousand distinct kana
    for row in rows_in_processing_order:
        staged.append(_stateless(row, targets, key))
        files.append(row[FILE_COLUMN])
    out: list[str] = []
    person_store: dict[str, str] = {}
    number_store: dict[str, str] = {}
    start = 0
    while start < len(staged):
        end = start
        while end < len(staged) and files[end] == files[start]:
            end += 1
        by_person, by_number = _conflict_maps(staged, start, end)
        for i in range(start, end):
            item = staged[i]
            if isinstance(item, str):
                out.append(item)
                continue
            person_id, number, status = item
            if number_store.get(number, person_id) != person_id:
                out.append("E04")
            elif person_store.get(person_id, number) != number:
                out.append("E05")
            elif by_person[person_id] == _CONFLICT or by_number[number] == _CONFLICT:
                out.append("E06")
            elif status != "1":
                out.append("E07")
            elif person_id in person_store:
                out.append("I01")
            else:
                person_store[person_id] = number
                number_store[number] = person_id
                out.append("OK")
        start = end
    return out
