"""The one rule for "this value holds a written My Number" (issue 13 item 1, ADR 0020).

Every valid number in every written form inside arbitrary text is found; digests, timestamps,
integrated numbers, identifiers glued to letters and numbers with a wrong check digit are not.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain import free_text, leakscan, my_number
from jutaku.domain.free_text import MyNumberInText, contains_my_number, find

VALID = "123456789018"
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
numbers = st.integers(min_value=0, max_value=10**11 - 1).map(lambda n: my_number.from_body(f"{n:011d}"))
#: Text around a number: Japanese, punctuation, separators, digits and letters (anything at all).
anything = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
#: A character that ends a token: neither digit nor Latin letter (a separator also ends it).
boundaries = st.sampled_from([" ", "　", "。", "、", ":", "：", "=", "(", "「", "番", "号", "-", "/", "\n", "#"])
separators = st.text(alphabet=sorted(free_text.SEPARATORS), min_size=1, max_size=3)


def wrong(number: str) -> str:
    return number[:11] + str((int(number[11]) + 1) % 10)


@st.composite
def written(draw: st.DrawFn, number: str) -> str:
    """``number`` in any written form: each digit ASCII or full-width, split into groups by separators."""
    out = []
    for i, digit in enumerate(number):
        out.append(digit.translate(FULL) if draw(st.booleans()) else digit)
        if i < 11 and draw(st.integers(min_value=0, max_value=3)) == 0:
            out.append(draw(separators))
    return "".join(out)


@given(st.data(), numbers, anything, boundaries, boundaries, anything)
def test_every_written_form_inside_any_text_is_found(data: st.DataObject, number: str, before: str, left: str,
                                                     right: str, after: str) -> None:
    form = data.draw(written(number))
    text = before + left + form + right + after
    span = find(text)
    assert span is not None and contains_my_number(text)
    with pytest.raises(MyNumberInText) as refused:
        free_text.check(text, "理由")
    assert number not in str(refused.value) and form not in str(refused.value)


@pytest.mark.parametrize("text", [
    VALID, "1234-5678-9018", "1234 5678 9018", "１２３４５６７８９０１８", "１２３４－５６７８－９０１８",
    "１２３４　５６７８　９０１８", "1234５６７８9018", f"番号{VALID}です", f"person={VALID}", f"2026-01-01 {VALID}",
    f"K-{VALID}", f"1-{VALID}", f"{VALID[:6]}\u200b{VALID[6:]}", f"{VALID[:4]}\u00a0{VALID[4:8]}\u3000{VALID[8:]}",
    f"{VALID[:4]}ー{VALID[4:8]}ー{VALID[8:]}", f"受付番号:{VALID}。", f"TEL 03-1234 {VALID}", f"({VALID})",
    f"{VALID[:4]}\n{VALID[4:8]}\n{VALID[8:]}", "١٢٣٤٥٦٧٨٩٠١٨",  # Arabic-Indic digits are digits by their value
])
def test_numbers_written_in_text(text: str) -> None:
    assert contains_my_number(text)


@pytest.mark.parametrize("text", [
    wrong(VALID),                       # wrong check digit
    VALID + "3", "1" + VALID,           # a longer run of digits
    VALID[:11],
    f"K{VALID}", f"P{VALID}", f"ab{VALID}", f"{VALID}caf", f"Ｐ{VALID.translate(FULL)}",  # identifiers
    "sha256:a" + VALID + "bcd",
    hashlib.sha256(b"179").hexdigest(),  # holds 674184035643, which passes the check digit
    "20260401093012123",                # a timestamp
    "123456789012345",                  # an integrated number
    "2026-11-27", "2026-04-01 09:30",
    f"{VALID[:4]}.{VALID[4:8]}.{VALID[8:]}", f"{VALID[:4]},{VALID[4:8]},{VALID[8:]}",  # not separators
    f"{VALID[:4]}/{VALID[4:8]}/{VALID[8:]}",
    "", "転居のため", "東京都新宿区西新宿二丁目8番1号",
])
def test_values_that_are_not_numbers(text: str) -> None:
    assert not contains_my_number(text)
    assert free_text.check(text, "理由") == text


@given(numbers, anything, anything)
def test_a_wrong_check_digit_is_never_a_number_on_its_own(number: str, before: str, after: str) -> None:
    assert not contains_my_number(wrong(number))
    assert not contains_my_number(f"{wrong(number)[:4]}-{wrong(number)[4:8]}-{wrong(number)[8:]}")


@given(st.binary(min_size=6, max_size=64), st.sampled_from(["", "sha256:", "key ", "hash="]))
def test_digests_and_hex_ids_are_never_numbers(raw: bytes, label: str) -> None:
    """A SHA-256 or key id holds 12 digits in a row about once in five; glued to its letters, never a number."""
    for token in (raw.hex(), raw.hex().upper(), hashlib.sha256(raw).hexdigest()):
        if not token.isdigit():
            assert not contains_my_number(f"{label}{token}")


@given(st.integers(min_value=0, max_value=10**17 - 1), st.integers(min_value=0, max_value=10**15 - 1))
def test_timestamps_and_integrated_numbers_are_never_numbers(stamp: int, integrated: int) -> None:
    assert not contains_my_number(f"{stamp:017d}") and not contains_my_number(f"t={stamp:017d};")
    assert not contains_my_number(f"{integrated:015d}") and not contains_my_number(f"統合番号 {integrated:015d}")


@given(numbers, st.sampled_from(["P", "K", "ID", "No", "x", "Ｐ"]))
def test_digits_glued_to_letters_are_an_identifier(number: str, label: str) -> None:
    assert not contains_my_number(label + number) and not contains_my_number(number + label)
    assert contains_my_number(f"{label} {number}")  # a separate token is a number


@given(st.text(alphabet="0123456789-ab ,.:Kx", max_size=60))
def test_whatever_the_leak_scanner_finds_the_rule_finds(text: str) -> None:
    """On ASCII text the rule reads at least every number :mod:`jutaku.domain.leakscan` reports."""
    if leakscan.scan_text(text):
        assert contains_my_number(text)


def test_the_service_can_raise_its_own_refusal() -> None:
    class Refused(ValueError):
        pass

    with pytest.raises(Refused) as refused:
        free_text.check(f"理由 {VALID}", "理由", Refused)
    assert str(refused.value).startswith("理由に個人番号") and VALID not in str(refused.value)


def test_long_adversarial_text_is_linear() -> None:
    """Long runs of digits and separators without a number cost a bounded time (no backtracking blow-up)."""
    import time

    texts = ["1 " * 50_000, "1" + " " * 100_000 + "x", ("12345678901 " * 9000), "-" * 100_000 + "1" * 11]
    started = time.perf_counter()
    for text in texts:
        contains_my_number(text)
    assert time.perf_counter() - started < 5


def test_names_holding_a_number_are_withheld_and_refused_forms_not_refilled() -> None:
    assert free_text.shown(f"kit-{VALID}.csv") == free_text.WITHHELD and free_text.shown("kit.csv") == "kit.csv"
    assert free_text.refill(f"理由 {VALID}") == "" and free_text.refill("転居のため") == "転居のため"
    assert VALID not in free_text.WITHHELD + free_text.REFUSED_LATE
