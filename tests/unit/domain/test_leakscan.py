"""The leak scanner finds a planted My Number in every written form, and ignores look-alikes."""

from __future__ import annotations

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
