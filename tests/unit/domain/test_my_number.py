"""個人番号: check digit (総務省令 平成26年第85号 第5条), normalisation, masking, synthetic numbers."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from jutaku.domain import my_number
from jutaku.domain.my_number import InvalidMyNumber

VALID = "123456789018"
digits11 = st.text(alphabet="0123456789", min_size=11, max_size=11)
valid_numbers = digits11.map(my_number.from_body)


def test_published_vector_is_valid() -> None:
    assert my_number.is_valid(VALID)
    assert my_number.validate(VALID) == VALID
    assert my_number.check_digit(VALID[:11]) == "8"


@pytest.mark.parametrize("value", ["123456789010", "12345678901", "1234567890180", "12345678901a", ""])
def test_invalid_numbers_are_rejected(value: str) -> None:
    assert not my_number.is_valid(value)
    with pytest.raises(InvalidMyNumber):
        my_number.validate(value)


@pytest.mark.parametrize("value", ["１２３４５６７８９０１８", "1234-5678-9018", "1234 5678 9018", "１２３４　５６７８　９０１８",
                                   "1234－5678－9018", " 123456789018 ", "123456789018" + " " * 60])
def test_written_forms_normalise_to_the_number(value: str) -> None:
    assert my_number.validate(value) == VALID


def test_non_ascii_digits_are_not_digits() -> None:
    assert not my_number.is_valid("١٢٣٤٥٦٧٨٩٠١٨")
    with pytest.raises(InvalidMyNumber):
        my_number.check_digit("١٢٣٤٥٦٧٨٩٠١")


@given(digits11)
def test_eleven_digits_plus_check_digit_is_valid(body: str) -> None:
    number = body + my_number.check_digit(body)
    assert my_number.is_valid(number)
    assert my_number.from_body(body) == number


@given(valid_numbers, st.integers(min_value=0, max_value=11), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_is_invalid(number: str, position: int, delta: int) -> None:
    """Holds whenever the check digit is not 0 (see the next test for why 0 is special)."""
    assume(number[11] != "0" or position == 11)
    changed = str((int(number[position]) + delta) % 10)
    mutated = number[:position] + changed + number[position + 1:]
    assert not my_number.is_valid(mutated)


def test_check_digit_zero_hides_some_single_digit_changes() -> None:
    """The ordinance maps remainders 0 and 1 both to check digit 0, so a body change that moves the
    remainder between 0 and 1 keeps the number valid: the check digit is not a perfect guard."""
    assert my_number.is_valid("674734409490")
    assert my_number.is_valid("671734409490")


_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@given(valid_numbers, st.sampled_from(["", "-", " ", "　", "－", "‐"]), st.booleans())
def test_written_forms_round_trip(number: str, separator: str, fullwidth: bool) -> None:
    written = separator.join([number[:4], number[4:8], number[8:]])
    if fullwidth:
        written = written.translate(_FULLWIDTH)
    assert my_number.normalise(written) == number
    assert my_number.validate(written) == number


@given(valid_numbers)
def test_mask_shows_only_the_last_four_digits(number: str) -> None:
    masked = my_number.mask(number)
    assert masked == "********" + number[-4:]
    assert len(masked) == my_number.LENGTH


@pytest.mark.parametrize("value", ["", "123", "1234567890123"])
def test_mask_of_anything_else_shows_nothing(value: str) -> None:
    assert my_number.mask(value) == "************"


@given(st.binary(min_size=8, max_size=16))
def test_synthetic_numbers_are_valid_and_reproducible(seed: bytes) -> None:
    assert my_number.is_valid(my_number.synthetic(seed))
    assert my_number.synthetic(seed) == my_number.synthetic(seed)


def test_synthetic_without_seed_is_valid() -> None:
    assert all(my_number.is_valid(my_number.synthetic()) for _ in range(100))


@given(st.one_of(valid_numbers.map(lambda n: n[:11] + str((int(n[11]) + 1) % 10)),
                 st.text(alphabet="0123456789０１２３４５６７８９- ", max_size=40)))
def test_errors_never_carry_the_number(value: str) -> None:
    for call in (my_number.validate, my_number.check_digit):
        try:
            call(value)
        except InvalidMyNumber as exc:
            text = str(exc) + repr(exc.args)
            assert not any(ch.isdigit() for ch in text)


def test_overlong_input_is_never_valid() -> None:
    long_value = "1" * 41 + VALID
    assert len(my_number.normalise(long_value)) == my_number.MAX_INPUT_LENGTH + 1
    with pytest.raises(InvalidMyNumber):
        my_number.validate(long_value)


@given(st.text(alphabet="0123456789０１-x ", min_size=0, max_size=14))
def test_fast_check_equals_stdnum_on_any_input(value: str) -> None:
    assert my_number.is_valid(value) == my_number.is_valid_stdnum(value)


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_fast_check_equals_stdnum_on_every_twelve_digit_number(n: int) -> None:
    value = f"{n:012d}"
    assert my_number.is_valid(value) == my_number.is_valid_stdnum(value)
