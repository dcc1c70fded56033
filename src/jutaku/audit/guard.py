"""Refuse audit content that could carry a 個人番号 (checklist LOG-02). Fails closed.

A value is refused when it contains a *12-digit number* with a valid check digit (番号法施行令
第8条, via :mod:`jutaku.domain.my_number`): a run of ASCII or full-width digits, optionally split
into groups by single spaces or hyphens (``1234-5678-9012``, ``１２３４５６７８９０１２``), where
some consecutive groups hold exactly 12 digits. Longer unbroken digit runs (13+ digits) and
12-digit strings with a wrong check digit are allowed: they are not 個人番号. A whole value that is
a hex digest (``[sha256:]`` + 64 hex characters) is allowed: file hashes are legitimate objects and
one in thirty would otherwise contain a valid-looking 12-digit run by chance. For the same reason a
digit run inside a longer hex token (16+ hexadecimal characters with at least one letter a–f, such as a
truncated digest ``…a123456789018f…``) is allowed; a number after punctuation, a space, Japanese text or
a non-hex letter (``ID:123456789018``, ``番号123456789018``, ``P123456789018``) is still refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from jutaku.domain import my_number

_DIGITS: Final = "0-9\uff10-\uff19"
_SEPS: Final = re.escape("".join(sorted(my_number._SEPARATORS)))  # one definition of separators
#: A digit run with single separators between digits.
_RUN: Final = re.compile(f"[{_DIGITS}](?:[{_SEPS}]?[{_DIGITS}])*")
_GROUP_SPLIT: Final = re.compile(f"[{_SEPS}]")
_DIGEST: Final = re.compile(r"(?:sha256:)?[0-9a-f]{64}")
_MIN_LEN: Final = my_number.LENGTH


class MyNumberInAudit(ValueError):
    """Audit content looked like it carries a 個人番号. Never carries the value itself."""


def contains_my_number(value: str) -> bool:
    """True when ``value`` contains a check-digit-valid 12-digit number (see module docstring)."""
    if len(value) < _MIN_LEN or _DIGEST.fullmatch(value):
        return False
    for match in _RUN.finditer(value):
        run = match.group()
        if len(run) < _MIN_LEN or (run.isascii() and run.isdigit()
                                    and _glued_to_letter(value, match.start(), match.end())):
            continue
        groups = [my_number.normalise(g) for g in _GROUP_SPLIT.split(run)]
        for start in range(len(groups)):
            total = 0
            for end in range(start, len(groups)):
                total += len(groups[end])
                if total == my_number.LENGTH:
                    if my_number.is_valid("".join(groups[start : end + 1])):
                        return True
                    break
                if total > my_number.LENGTH:
                    break
    return False


_HEX: Final = frozenset("0123456789abcdefABCDEF")
_MIN_HEX_TOKEN: Final = 16


def _glued_to_letter(value: str, start: int, end: int) -> bool:
    """True when the digit run lies inside a hex token (a digest), not in a written number."""
    left, right = start, end
    while left > 0 and value[left - 1] in _HEX:
        left -= 1
    while right < len(value) and value[right] in _HEX:
        right += 1
    token = value[left:right]
    return len(token) >= _MIN_HEX_TOKEN and not token.isdigit()


def check(values: Iterable[str]) -> None:
    """Raise :class:`MyNumberInAudit` if any value contains a 個人番号."""
    for value in values:
        if contains_my_number(value):
            raise MyNumberInAudit("監査記録に個人番号らしき値は記録できません (a My Number-like value was refused)")
