"""No 個人番号 in free text or identifiers: the one rule for every value that is not a number field.

A My Number may be written only where the system asks for one (the 個人番号 column of an import, the
new number of ``numbers change``, the search box for a number), and there only to be encrypted or
compared (番号法 第12条 安全管理措置; security checklist LOG-02, VAL-08). Every other value — free text
(reasons, notes, error texts, addresses, names), identifiers (受付番号, 申込番号, 媒体ID) and the audit
trail's contents — is refused when it *holds a written My Number* (issue 13 item 1; ADR 0020).

The rule (:func:`find`). A value holds a written My Number when twelve digits appear in it, read left
to right, such that

- each is a decimal digit of any script (Unicode ``Nd``: ASCII ``0-9``, full-width ``０-９``, …),
  read by its value;
- between two of them stand only *separators* (:data:`SEPARATORS`): white space of any kind (ASCII,
  ideographic, no-break, tab, line ends), the hyphens, dashes, minus signs and prolonged sound marks the
  個人番号 field itself ignores (:data:`jutaku.domain.my_number.normalise`), and characters a reader does
  not see (soft hyphen, zero-width spaces and joiners, BOM);
- they are whole *groups* (maximal runs of digits): a run of 13 or more digits is not a number
  (timestamps ``YYYYMMDDhhmmssSSS``, 15-digit integrated numbers), and neither is a part of one;
- they are not glued to a Latin letter (ASCII or full-width) before the first or after the last digit:
  such a token is an identifier — a 受付番号 ``K202600000049`` or ``P202600000049``, a hex digest or key
  id — whose digits pass the check digit one time in ten by chance, exactly as
  :mod:`jutaku.domain.leakscan` reads them;
- the twelve pass the check digit of 総務省令 平成26年第85号 第5条 (:func:`jutaku.domain.my_number.is_valid`).

So ``123456789018``, ``1234-5678-9018``, ``１２３４　５６７８　９０１８``, ``番号:123456789018です`` and
``TEL 03-1234 123456789018`` hold one; ``K123456789018``, ``1234567890185``, ``2026-04-01`` and a
SHA-256 digest do not. Dots, commas, slashes, colons and brackets are not separators: they are how dates,
amounts, times and versions are written, and counting them would refuse ordinary text far more often than
they would hide a number. Numbers in kanji numerals (一二三…) are out of scope.

Inputs check with :func:`check`, which raises with a Japanese message naming the field and never the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from jutaku.domain import my_number

#: Characters allowed between the digits of a written number (module docstring).
SEPARATORS: Final = frozenset(
    "\u0020\u3000\u00a0\t\n\r\v\f\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u0085"  # every Unicode white space
    "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # invisible: soft hyphen, zero-width space/joiners, BOM
) | my_number._SEPARATORS
_SEP_CLASS: Final = "[" + re.escape("".join(sorted(SEPARATORS))) + "]"
#: A run of digit groups joined by separators (``\d`` is every Unicode decimal digit on ``str``).
_RUN: Final = re.compile(rf"\d+(?:{_SEP_CLASS}+\d+)*")
_GROUP: Final = re.compile(r"\d+")
_LETTERS: Final = "A-Za-z\uff21-\uff3a\uff41-\uff5a"
_LETTER: Final = re.compile(f"[{_LETTERS}]")
#: Where a written number could begin: a digit that starts a group and is not glued to a letter, then
#: eleven more digits with only separators between. Every hit of :func:`find` matches it (a superset):
#: the cheap first test, also for the import validator's fast path.
MAY_START: Final = re.compile(rf"(?<![\d{_LETTERS}])\d(?:{_SEP_CLASS}*\d){{{my_number.LENGTH - 1}}}")


class MyNumberInText(ValueError):
    """A free-text or identifier value holds a written My Number. The message never quotes the value."""


#: What a user is told when a value reached the audit writer's guard (a missing input check: ADR 0020).
REFUSED_LATE: Final = ("入力に個人番号（またはそれと同じ形の12桁の番号）が含まれているため、処理を中止しました。"
                       "変更は取り消されています。番号を除いて操作し直してください。")


def message(field: str) -> str:
    """The refusal in Japanese, naming the field (``理由``, ``受付番号`` …), never the value."""
    return (f"{field}に個人番号（またはそれと同じ形の12桁の番号）が含まれています。"
            "個人番号はこの項目に入力できません。番号を除いて入力し直してください。")


def _ascii(digits: str) -> str:
    return digits if digits.isascii() else "".join(str(int(d)) for d in digits)


def _glued(value: str, at: int) -> bool:
    return 0 <= at < len(value) and _LETTER.match(value, at) is not None


def find(value: str) -> tuple[int, int] | None:
    """The span ``(start, end)`` in ``value`` of the first written My Number (module docstring), or ``None``."""
    if len(value) < my_number.LENGTH or MAY_START.search(value) is None:
        return None
    for run in _RUN.finditer(value):
        groups = [(g.start() + run.start(), g.end() + run.start(), _ascii(g.group()))
                  for g in _GROUP.finditer(run.group())]
        for i in range(len(groups)):
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j][2]
                if len(digits) >= my_number.LENGTH:
                    break
            if len(digits) != my_number.LENGTH or not my_number.is_valid(digits):
                continue
            start, end = groups[i][0], groups[j][1]
            if not (_glued(value, start - 1) or _glued(value, end)):
                return start, end
    return None


def contains_my_number(value: str) -> bool:
    """True when ``value`` holds a written My Number (module docstring)."""
    return find(value) is not None


#: Shown and recorded instead of a name (a file's) that holds a written My Number.
WITHHELD: Final = "（個人番号らしき番号を含むため表示しません）"


def shown(value: str) -> str:
    """``value``, or :data:`WITHHELD` when it holds a written My Number (file names in ledgers and lists)."""
    return WITHHELD if contains_my_number(value) else value


def refill(value: str) -> str:
    """What a refused form shows again in a field: the value, or nothing when it holds a written My Number."""
    return "" if contains_my_number(value) else value


def check(value: str, field: str, error: Callable[[str], Exception] = MyNumberInText) -> str:
    """``value`` unchanged, or raise ``error(message(field))`` when it holds a written My Number.

    ``error`` lets a service raise its own refusal class, so the CLI and the web show the refusal the
    way they show the service's other refusals.
    """
    if contains_my_number(value):
        raise error(message(field))
    return value
