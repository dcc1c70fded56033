"""Every domain text function answers quickly on hostile input (ReDoS / quadratic-time safety)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from jutaku.domain import japanese, my_number, wareki

FUNCTIONS: list[Callable[[str], object]] = [
    japanese.kana_key, japanese.kanji_key, japanese.normalise_name, japanese.has_control_chars,
    japanese.is_formula_like, wareki.parse_date, wareki.parse_birth_date, wareki.parse_timestamp,
    wareki.parse_typed_date,
    my_number.normalise, my_number.validate, my_number.is_valid, my_number.mask,
]
HOSTILE = [
    "ア" * 100_000, "ー" * 100_000, "ｶﾞ" * 50_000, " " * 100_000, "オ" * 100_000, "々" * 100_000,
    "1" * 100_000, "昭和" + "1" * 100_000 + "年", "\ufdfa" * 100_000, "a\u0301" * 50_000, "\x00" * 100_000,
    "ト\u3099" * 50_000, "１２３" * 33_333, "=" + "A" * 99_999, "\u3000" * 99_999 + "1",
    "髙\U000e0100" * 50_000, "S" + "." * 99_999, "令和元年" * 25_000,
]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_hostile_input_is_answered_quickly(function: Callable[[str], object]) -> None:
    for text in HOSTILE:
        started = time.perf_counter()
        with contextlib.suppress(ValueError):
            function(text)
        assert time.perf_counter() - started < 0.5, f"{function.__name__} slow on {text[:3]!r}…"
