"""The outcome rules of linkage-result rows (jutaku.domain.linkage): lowest applicable code wins."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.linkage import LABELS, LinkageOutcome, decide

NUMBER = "123456789012345"
BASE = {"malformed": False, "result_code": "0", "number": NUMBER, "request_open": True, "same_person": True,
        "owner_is_other": False, "person_holds_other": False}

# Each fault and the code it alone gives; listed from the lowest code to the highest.
FAULTS = [
    ("malformed", {"malformed": True}, "E00"),
    ("unknown", {"request_open": None}, "L01"),
    ("answered", {"request_open": False}, "L02"),
    ("other_person", {"same_person": False}, "L03"),
    ("owner", {"owner_is_other": True}, "L04"),
    ("holds", {"person_holds_other": True}, "L05"),
]


def test_a_clean_answer_is_ok_and_server_codes_close_the_request() -> None:
    assert decide(**BASE) is LinkageOutcome.OK  # type: ignore[arg-type]
    assert decide(**BASE | {"result_code": "1", "number": ""}) is LinkageOutcome.NOT_FOUND  # type: ignore[arg-type]
    assert decide(**BASE | {"result_code": "9", "number": ""}) is LinkageOutcome.SERVER_ERROR  # type: ignore[arg-type]


@given(st.sets(st.sampled_from(range(len(FAULTS))), min_size=1))
def test_the_lowest_applicable_code_wins(chosen: set[int]) -> None:
    if 1 in chosen:
        chosen.discard(2)  # "unknown" and "answered" are two values of one field
    kwargs = dict(BASE)
    for i in chosen:
        kwargs |= FAULTS[i][1]
    expected = FAULTS[min(chosen)][2]
    assert decide(**kwargs).value == expected  # type: ignore[arg-type]


@given(st.text(max_size=20))
def test_a_found_answer_needs_fifteen_ascii_digits(number: str) -> None:
    outcome = decide(**BASE | {"number": number})  # type: ignore[arg-type]
    good = len(number) == 15 and number.isascii() and number.isdigit()
    assert (outcome is LinkageOutcome.OK) == good and (outcome is LinkageOutcome.MALFORMED) == (not good)


def test_every_outcome_has_a_japanese_label() -> None:
    assert set(LABELS) == {o.value for o in LinkageOutcome}
