"""Find My Numbers written in plain text inside bytes (database files, dumps, exports, logs).

Used by the tests that prove no plaintext 個人番号 is stored or exported (CRY-01, LOG-02), and usable
by operators on a backup or an export before it leaves. Three written forms are searched, each in
UTF-8 and in CP932: 12 ASCII digits, the 4-4-4 hyphenated form and full-width digits. A hit is a run
of exactly twelve digits whose check digit is valid and which is not part of a longer token: not of a
longer run of digits (timestamps, 15-digit integrated numbers), not glued to letters (receipt numbers
such as ``P202600000049``, ids) and not inside a hex token (SHA-256 digests and key ids, which hold 12
digits in a row about once in five). A full-width run counts only when it is exactly twelve digits long.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

from jutaku.domain.my_number import is_valid

_FULLWIDTH: Final = "０１２３４５６７８９"
_UTF8_FW: Final = [c.encode("utf-8") for c in _FULLWIDTH]
_CP932_FW: Final = [c.encode("cp932") for c in _FULLWIDTH]


def _digit_class(forms: list[bytes]) -> bytes:
    return b"(?:" + b"|".join(re.escape(f) for f in forms) + b")"


_ASCII: Final = re.compile(rb"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])")
_HYPHEN: Final = re.compile(rb"(?<![0-9A-Za-z-])[0-9]{4}-[0-9]{4}-[0-9]{4}(?![0-9A-Za-z-])")


def _exactly_twelve(forms: list[bytes]) -> re.Pattern[bytes]:
    digit = _digit_class(forms)
    return re.compile(rb"(?<!" + digit + rb")" + digit + rb"{12}(?!" + digit + rb")")


_FW_UTF8: Final = _exactly_twelve(_UTF8_FW)
_FW_CP932: Final = _exactly_twelve(_CP932_FW)


@dataclass(frozen=True)
class Finding:
    offset: int
    form: str  # "ascii", "hyphenated", "fullwidth-utf8", "fullwidth-cp932"
    digits: str = field(default="", repr=False, compare=False)  # in memory only, never printed

    def __repr__(self) -> str:  # never show the number itself
        return f"Finding(offset={self.offset}, form={self.form})"


def _fw_digits(raw: bytes, table: list[bytes]) -> str:
    width = len(table[0])
    return "".join(str(table.index(raw[i:i + width])) for i in range(0, len(raw), width))


def scan(data: bytes) -> Iterator[Finding]:
    """Every valid My Number written in ``data`` in one of the searched forms (module docstring)."""
    for m in _ASCII.finditer(data):
        if is_valid(digits := m.group().decode("ascii")):
            yield Finding(m.start(), "ascii", digits)
    for m in _HYPHEN.finditer(data):
        if is_valid(digits := m.group().replace(b"-", b"").decode("ascii")):
            yield Finding(m.start(), "hyphenated", digits)
    for pattern, table, form in ((_FW_UTF8, _UTF8_FW, "fullwidth-utf8"), (_FW_CP932, _CP932_FW, "fullwidth-cp932")):
        for m in pattern.finditer(data):
            if is_valid(digits := _fw_digits(m.group(), table)):
                yield Finding(m.start(), form, digits)


def scan_text(text: str) -> list[Finding]:
    """:func:`scan` of a string (a page, a message, a CSV), as UTF-8."""
    return list(scan(text.encode("utf-8")))


_RUN: Final = re.compile(rb"[0-9]{12,}")
_FW_RUN_UTF8: Final = re.compile(_digit_class(_UTF8_FW) + rb"{12,}")
_FW_RUN_CP932: Final = re.compile(_digit_class(_CP932_FW) + rb"{12,}")


def _windows(digits: str) -> Iterator[str]:
    for i in range(len(digits) - 11):
        yield digits[i:i + 12]


def digit_windows(data: bytes) -> set[str]:
    """Every 12-digit window of every digit run in ``data`` (ASCII, 4-4-4 hyphenated, full-width)."""
    found: set[str] = set()
    for m in _RUN.finditer(data):
        found.update(_windows(m.group().decode("ascii")))
    for m in _HYPHEN.finditer(data):
        found.add(m.group().replace(b"-", b"").decode("ascii"))
    for pattern, table in ((_FW_RUN_UTF8, _UTF8_FW), (_FW_RUN_CP932, _CP932_FW)):
        for m in pattern.finditer(data):
            found.update(_windows(_fw_digits(m.group(), table)))
    return found


def contains_any(data: bytes, numbers: Iterable[str]) -> set[str]:
    """The known ``numbers`` present in ``data`` in any searched form (the canary check)."""
    return digit_windows(data) & set(numbers)


def forms_of(number: str) -> list[bytes]:
    """The byte strings under which ``number`` would be found if written in plain text."""
    fw = number.translate(str.maketrans("0123456789", _FULLWIDTH))
    return [number.encode("ascii"), f"{number[:4]}-{number[4:8]}-{number[8:]}".encode("ascii"),
            fw.encode("utf-8"), fw.encode("cp932")]
