"""Pure parts of the audit trail: the canonical serialisation and the 個人番号 guard (LOG-02, LOG-04)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from jutaku.audit import chain, guard
from jutaku.domain import my_number

FIELDS = {
    "seq": 7, "at": "2026-11-27T01:02:03.000004Z", "username": "職員01", "terminal": "10.0.0.1",
    "event": "person:import", "objects": "P1,P2", "outcome": "ok", "job_id": 12,
    "detail": '{"reason":"転居\\n\\"x\\""}', "prev_hash": "a" * 64,
}
VALID = my_number.from_body("12345678901")


def wrong_check_digit(number: str) -> str:
    return number[:11] + str((int(number[11]) + 1) % 10)


@pytest.mark.parametrize("job_id", [12, None])
def test_canonical_form_is_sorted_compact_utf8_json(job_id: int | None) -> None:
    fields = {**FIELDS, "job_id": job_id}
    expected = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert chain.canonical(**fields) == expected  # type: ignore[arg-type]
    assert chain.record_hash(**fields) == hashlib.sha256(expected).hexdigest()


def test_every_field_changes_the_hash() -> None:
    base = chain.record_hash(**FIELDS)
    for name, value in FIELDS.items():
        changed = value + 1 if isinstance(value, int) else f"{value}x"
        assert chain.record_hash(**{**FIELDS, name: changed}) != base, name


def test_canonical_time_is_utc_with_microseconds_from_either_driver() -> None:
    jst = timezone(timedelta(hours=9))
    assert chain.canonical_at(datetime(2026, 1, 1, 9, 0, tzinfo=jst)) == "2026-01-01T00:00:00.000000Z"
    assert chain.canonical_at("2026-01-01 00:00:00") == "2026-01-01T00:00:00.000000Z"
    assert chain.canonical_at("2026-01-01 00:00:00.5") == "2026-01-01T00:00:00.500000Z"
    assert chain.canonical_at(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000000Z"


def test_canonical_detail() -> None:
    assert chain.canonical_detail(None) == "{}"
    assert chain.canonical_detail({"b": 1, "a": "名"}) == '{"a":"名","b":1}'


FULLWIDTH = VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@pytest.mark.parametrize("text", [
    VALID,
    f"{VALID[:4]}-{VALID[4:8]}-{VALID[8:]}",
    f"{VALID[:4]} {VALID[4:8]} {VALID[8:]}",
    FULLWIDTH,
    f"{FULLWIDTH[:4]}－{FULLWIDTH[4:8]}－{FULLWIDTH[8:]}",
    f"番号{VALID}です",
    f"person={VALID}",
    f"2026-01-01 {VALID}",
    f"P {VALID}",                           # a separate token
    f"ab-{VALID}",
])
def test_guard_refuses_a_valid_my_number_in_any_form(text: str) -> None:
    assert guard.contains_my_number(text)
    with pytest.raises(guard.MyNumberInAudit) as info:
        guard.check(["P1", text])
    assert VALID not in str(info.value)


@pytest.mark.parametrize("text", [
    wrong_check_digit(VALID),              # 12 digits, wrong check digit: not a 個人番号
    VALID + "3",                           # 13-digit run
    "1" + VALID,
    VALID[:11],
    "P000123",
    "sha256:" + "1" * 12 + "a" * 52,       # a file hash
    hashlib.sha256(b"x").hexdigest(),
    "sha256:a" + VALID + "bcd",            # a truncated digest (16 hex) that happens to hold a valid run
    "f" + VALID + "0a1b2c3d",              # inside a longer hex token
    f"P{VALID}",                           # glued to letters: an identifier such as a 受付番号 (ADR 0020)
    f"ab{VALID}",
    f"{VALID}caf",
    "2026-11-27",
    "",
])
def test_guard_allows_values_that_are_not_my_numbers(text: str) -> None:
    assert not guard.contains_my_number(text)


def test_guard_finds_a_number_among_many_synthetic_ones() -> None:
    numbers = [my_number.synthetic(i.to_bytes(8, "big")) for i in range(500)]
    assert all(guard.contains_my_number(n) for n in numbers)
    assert not any(guard.contains_my_number(wrong_check_digit(n)) for n in numbers)
