"""What a file holds decides how it is written and carried (issue 12 items 3 and 4): the sensitivity table,
the hand-over and erasure rules of the media ledger, and the expiry of outputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain import media
from jutaku.domain.free_text import contains_my_number
from jutaku.domain.media import LedgerState, Sensitivity
from jutaku.formats.layouts import LAYOUTS

#: Interfaces written by something other than a CSV layout (reports, charts, the legal allow-list).
OTHER_INTERFACES = ("disclosure-report", "audit-report", "access-review", "statistics-chart", "allowlist")


def test_every_interface_the_system_reads_or_writes_has_an_explicit_class() -> None:
    """No writer falls back on the deny-by-default class by accident: every layout is classified."""
    assert set(LAYOUTS) | set(OTHER_INTERFACES) <= set(media.SENSITIVITY)


@pytest.mark.parametrize("name", ["kit", "portal", "linkage-request", "juki-request", "linkage-result",
                                  "inquiry-request", "inquiry-result", "juki-result", "business-export",
                                  "disclosure-report"])
def test_numbers_integrated_numbers_and_linkage_answers_are_specific(name: str) -> None:
    """The disclosure report is among them: it shows the answers held (issue 12 item 9)."""
    assert media.sensitivity(name) is Sensitivity.SPECIFIC and media.encrypted_by_default(name)


@pytest.mark.parametrize("name", ["rejections", "notice-list", "deletion-report", "deletion-targets",
                                  "audit-report", "statistics", "access-review"])
def test_staff_lists_reports_and_counts_are_written_plain(name: str) -> None:
    assert not media.encrypted_by_default(name)
    assert name in media.non_specific_interfaces()


def test_the_layouts_that_carry_a_my_number_are_all_specific() -> None:
    assert all(media.encrypted_by_default(layout.name) for layout in LAYOUTS.values() if layout.contains_my_number)


@given(st.text(min_size=1, max_size=40))
def test_an_unknown_interface_is_specific(name: str) -> None:
    if name not in media.SENSITIVITY:
        assert media.sensitivity(name) is Sensitivity.SPECIFIC and name not in media.non_specific_interfaces()


_medium_chars = st.sampled_from("ABCXYZabcxyz0123456789-_.")


@given(st.text(alphabet=_medium_chars, min_size=0, max_size=41))
def test_a_medium_id_is_a_short_label(medium: str) -> None:
    ok = 1 <= len(medium) <= 40 and medium[0].isalnum()
    if ok and contains_my_number(medium):  # digits that read as a My Number (ADR 0020)
        assert media.medium_error(medium) == "M07"
    else:
        assert (media.medium_error(medium) is None) == ok


@pytest.mark.parametrize("medium", ["USB 01", "USB/01", "媒体1", "-USB", "", "a" * 41, "USB\n01"])
def test_bad_medium_ids_are_refused(medium: str) -> None:
    assert media.medium_error(medium) == "M01"


@pytest.mark.parametrize("carrier", ["佐藤 健（指導管理課）", "東京都住宅供給公社 山田", "B1001 suzuki.m"])
def test_a_carrier_is_a_name(carrier: str) -> None:
    assert media.carrier_error(carrier) is None


@pytest.mark.parametrize("carrier", ["", "   ", "x" * 61, "山田\t太郎", "123456789010", "１２３４５６７８"])
def test_a_carrier_is_never_a_number_or_a_control_character(carrier: str) -> None:
    assert media.carrier_error(carrier) == "M02"


@pytest.mark.parametrize("value", ["123456789018", "１２３４５６７８９０１８", "山田 1234-5678-9018", "USB-123456789018"])
def test_a_my_number_is_never_a_carrier_or_a_medium_id(value: str) -> None:
    """Issue 13 item 1: the 4-4-4 form passed the old eight-digit-run check and was stored (ADR 0020)."""
    assert media.carrier_error(value) == "M07"
    if value.isascii() and " " not in value:
        assert media.medium_error(value) == "M07"


states = st.builds(LedgerState, interface=st.sampled_from(["kit", "rejections", "business-export", "statistics"]),
                   outcome=st.sampled_from(["ok", "R_HEADER"]), medium=st.sampled_from(["", "USB-1", "USB-2"]),
                   handed_over=st.booleans(), erased=st.booleans())


@given(states, st.sampled_from(["USB-1", "USB-2"]))
def test_erasure_is_confirmed_once_on_the_medium_that_carried_the_file(state: LedgerState, medium: str) -> None:
    code = media.erasure_error(state, medium)
    if state.erased:
        assert code == "M04"
    elif state.medium and state.medium != medium:
        assert code == "M03"
    else:
        assert code is None


@given(states, st.sampled_from(["USB-1", "USB-2"]))
def test_a_hand_over_is_recorded_once_before_the_erasure(state: LedgerState, medium: str) -> None:
    code = media.handover_error(state, medium, "山田 太郎")
    assert (code is None) == (not state.erased and not state.handed_over and state.medium in ("", medium))


@given(states)
def test_what_awaits_an_erasure_confirmation(state: LedgerState) -> None:
    specific_and_used = state.outcome == "ok" and media.sensitivity(state.interface) is Sensitivity.SPECIFIC
    assert media.awaits_erasure(state) == (not state.erased and (state.handed_over or specific_and_used))


def test_an_output_expires_after_its_retention() -> None:
    t = datetime(2026, 4, 1, 9, tzinfo=UTC)
    assert media.expires_at(t, 3) == t + timedelta(days=3)
    assert media.expires_at(t, 0) == t  # due at the next command
    with pytest.raises(ValueError):
        media.expires_at(t, -1)
    with pytest.raises(ValueError):
        media.expires_at(t, media.MAX_RETENTION_DAYS + 1)


def test_the_refusal_codes_are_documented() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[3] / "docs" / "outcome-codes.md").read_text(encoding="utf-8")
    for code, label in media.ERRORS.items():
        assert f"| `{code}` | {label} |" in page
