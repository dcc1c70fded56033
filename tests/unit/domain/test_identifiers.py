"""Digit-string identifiers (個人ID): ASCII digits only (issue 13 item 5).

``str.isdigit()`` accepts full-width and other scripts' digits, and ``int()`` reads them: a full-width
個人ID passed such a check and crashed a kit batch deep in the key store.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.identifiers import PERSON_ID_LENGTH, ascii_digits, is_person_id

ASCII_ID = re.compile(r"[0-9]{10}", re.ASCII)
#: Characters for which ``isdigit()`` is true but which are not ASCII digits.
UNICODE_DIGITS = "".join(ch for ch in map(chr, range(0x80, 0x20000)) if ch.isdigit())


@pytest.mark.parametrize("value", ["２０００000105", "２００００００１０５", "200000010٥", "20000001０5", "²000000105",
                                   "2000 00105", "200000010", "20000001050", "", "-200000010"])
def test_what_isdigit_would_let_through_is_not_a_person_id(value: str) -> None:
    assert not is_person_id(value)


def test_ten_ascii_digits_are_a_person_id() -> None:
    assert is_person_id("2000000105") and PERSON_ID_LENGTH == 10


@given(st.text(alphabet=st.sampled_from("0123456789" + UNICODE_DIGITS[:400] + "a -"), max_size=12))
def test_a_person_id_is_exactly_ten_ascii_digits(value: str) -> None:
    assert is_person_id(value) == (ASCII_ID.fullmatch(value) is not None)


@given(st.text(alphabet=st.sampled_from(UNICODE_DIGITS), min_size=1, max_size=20))
def test_no_other_digit_is_an_ascii_digit(value: str) -> None:
    assert value.isdigit()  # what the old checks asked
    assert not ascii_digits(value) and not ascii_digits(value, len(value))


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.integers(0, 21))
def test_ascii_digits_with_and_without_a_length(value: str, length: int) -> None:
    assert ascii_digits(value)
    assert ascii_digits(value, length) == (len(value) == length)
