"""Identifiers written in digits: what counts as one (interfaces.md, conventions: 個人ID is 10 digits).

A digit here is an ASCII ``0``–``9`` and nothing else. ``str.isdigit()`` is not that test: it accepts
full-width digits (``２``), superscripts (``²``) and the digits of every other script, and ``int()``
reads most of them, so ``２０００000105`` would pass ``isdigit()``, convert to ``2000000105`` and then be
refused deep inside the system, where a 10-character non-ASCII reference is not expected (issue 13,
item 5: the crash of a kit batch). Every check of a digit-string identifier goes through these
functions; a 個人ID that is not exactly ten ASCII digits is malformed (``F_DIGITS`` → ``E00``), never
normalised, because unlike the 個人番号 it is the housing system's key and is matched byte for byte.
"""

from __future__ import annotations

from typing import Final

#: 個人ID (the housing system's person id; also our 個別業務システム利用番号): exactly ten digits.
PERSON_ID_LENGTH: Final = 10


def ascii_digits(value: str, length: int | None = None) -> bool:
    """``value`` is non-empty, only ASCII ``0``–``9``, and exactly ``length`` long when one is given."""
    if length is not None and len(value) != length:
        return False
    return value.isascii() and value.isdigit()


def is_person_id(value: str) -> bool:
    """A well-formed 個人ID: exactly ten ASCII digits."""
    return ascii_digits(value, PERSON_ID_LENGTH)
