"""Refuse audit content that could carry a 個人番号 (checklist LOG-02). Fails closed.

The audit writer is the last line of defence, behind the input checks every service makes with the same
rule: :func:`jutaku.domain.free_text.contains_my_number` (a check-digit-valid 12-digit number, ASCII or
full-width, with or without separators, also inside longer text; identifiers and digests, whose digits
are glued to letters, are not numbers). A value refused here is a bug of the input check that should
have refused it first (ADR 0020), never what a user is meant to see.
"""

from __future__ import annotations

from collections.abc import Iterable

from jutaku.domain.free_text import contains_my_number

__all__ = ["MyNumberInAudit", "check", "contains_my_number"]


class MyNumberInAudit(ValueError):
    """Audit content looked like it carries a 個人番号. Never carries the value itself."""


def check(values: Iterable[str]) -> None:
    """Raise :class:`MyNumberInAudit` if any value contains a 個人番号."""
    for value in values:
        if contains_my_number(value):
            raise MyNumberInAudit("監査記録に個人番号らしき値は記録できません (a My Number-like value was refused)")
