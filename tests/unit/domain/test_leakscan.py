"""The leak scanner finds a planted My Number in every written form, and ignores look-alikes."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain import leakscan, my_number

bodies = st.integers(min_value=0, max_value=10**11 - 1).map(lambda n: my_number.from_body(f"{n:011d}"))
noise = st.binary(max_size=200).map(lambda b: b.translate(bytes(range(256)).replace(b"0123456789", b"xxxxxxxxxx")))


@given(bodies, noise, noise)
def test_a_planted_number_is_found_in_every_form(number: str, before: bytes, after: bytes) -> None:
    for form in leakscan.forms_of(number):
        data = before + b" " + form + b" " + after
        assert list(leakscan.scan(data)), "scan must flag a valid number"
        assert leakscan.contains_any(data, [number]) == {number}


def test_look_alikes_are_not_flagged() -> None:
    valid = "123456789018"
    assert my_number.is_valid(valid)
    assert list(leakscan.scan(b"x 123456789010 y")) == []  # wrong check digit
    assert list(leakscan.scan(b"t=20260401093012123")) == []  # a 17-digit timestamp
    assert list(leakscan.scan(b"ab" + valid.encode() + b"cd")) == []  # inside a hex string
    assert list(leakscan.scan(b"123" + valid.encode())) == []  # inside a longer digit run
    # ... but the canary check still sees a known number inside a longer run.
    assert leakscan.contains_any(b"123" + valid.encode(), [valid]) == {valid}


def test_findings_never_show_the_number() -> None:
    (finding,) = leakscan.scan(b" 123456789018 ")
    assert "123456789018" not in repr(finding)


@given(st.binary(min_size=8, max_size=64))
def test_hex_digests_and_ids_are_never_numbers(raw: bytes) -> None:
    """A SHA-256 (or any hex id of 16+ characters) holds 12 digits in a row about once in five: never a hit."""
    for token in (raw.hex(), raw.hex().upper()):
        if not token.isdigit():
            assert list(leakscan.scan(f"sha256={token};".encode())) == []
            assert list(leakscan.scan(token.encode())) == []


@given(bodies, st.sampled_from(["P", "ID", "No", "x"]))
def test_digits_glued_to_letters_are_an_identifier_not_a_number(number: str, label: str) -> None:
    """Receipt numbers such as ``P202600000049`` hold 12 digits that pass the check digit one time in ten."""
    assert leakscan.scan_text(label + number) == [] and leakscan.scan_text(number + label) == []
    assert [f.digits for f in leakscan.scan_text(f"{label} {number}。")] == [number]  # a separate token is


@given(bodies)
def test_a_number_inside_a_longer_full_width_run_is_not_a_hit(number: str) -> None:
    fw = ("１２３" + number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for encoding in ("utf-8", "cp932"):
        assert list(leakscan.scan(fw.encode(encoding))) == []
        assert leakscan.contains_any(fw.encode(encoding), [number]) == {number}  # the canary still sees it


def test_the_digest_that_made_the_audit_export_test_flaky_is_not_a_number() -> None:
    digest = hashlib.sha256(b"179").hexdigest()  # holds "674184035643", which passes the check digit
    assert my_number.is_valid("674184035643") and "674184035643" in digest
    assert list(leakscan.scan(digest.encode())) == [] and leakscan.scan_text(f"ハッシュ {digest}") == []
