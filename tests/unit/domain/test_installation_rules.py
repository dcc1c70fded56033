"""The installation window rule (jutaku.domain.installation, ADR 0015)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.installation import (
    MAX_DAYS,
    REASON_LABELS,
    REQUIRED_ADMINS,
    STATE_LABELS,
    CloseReason,
    Window,
    WindowError,
    WindowState,
    admits,
    closes_after,
    deadline_after,
    due_reason,
    state,
)

OPENED = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def window(days: int = 14, *, closed: bool = False, latched: bool = False) -> Window:
    return Window(OPENED, deadline_after(OPENED, days), OPENED + timedelta(hours=1) if closed else None, latched)


def test_the_deadline_is_fixed_at_opening_and_bounded() -> None:
    assert deadline_after(OPENED, 14) == OPENED + timedelta(days=14)
    assert deadline_after(OPENED, MAX_DAYS) == OPENED + timedelta(days=MAX_DAYS)
    for days in (0, -1, MAX_DAYS + 1):
        with pytest.raises(WindowError, match="設置期間は1日から"):
            deadline_after(OPENED, days)


def test_a_window_is_open_only_while_unclosed_unlatched_and_before_its_deadline() -> None:
    just_after = OPENED + timedelta(minutes=1)
    assert state(None, now=just_after) is WindowState.NONE
    assert state(window(), now=just_after) is WindowState.OPEN
    assert state(window(closed=True), now=just_after) is WindowState.CLOSED
    assert state(window(latched=True), now=just_after) is WindowState.CLOSED  # a restored database
    assert state(window(1), now=OPENED + timedelta(days=1)) is WindowState.CLOSED  # the deadline itself
    assert state(window(1), now=OPENED + timedelta(days=1) - timedelta(seconds=1)) is WindowState.OPEN


def test_a_passed_deadline_is_a_closure_to_record_once() -> None:
    later = OPENED + timedelta(days=15)
    assert due_reason(window(), now=later) is CloseReason.DEADLINE
    assert due_reason(window(), now=OPENED) is None
    assert due_reason(window(closed=True), now=later) is None  # already recorded
    assert due_reason(None, now=later) is None


def test_only_the_missing_security_admin_passes_an_open_window() -> None:
    assert admits(WindowState.OPEN, role_is_security_admin=True, active_admins=0)
    assert admits(WindowState.OPEN, role_is_security_admin=True, active_admins=1)
    assert not admits(WindowState.OPEN, role_is_security_admin=True, active_admins=REQUIRED_ADMINS)
    assert not admits(WindowState.OPEN, role_is_security_admin=False, active_admins=1)  # supervisor
    for closed in (WindowState.CLOSED, WindowState.NONE):
        assert not admits(closed, role_is_security_admin=True, active_admins=0)


def test_the_window_closes_when_dual_control_becomes_possible() -> None:
    assert not closes_after(1) and closes_after(2) and closes_after(3)


def test_every_state_and_reason_has_a_japanese_label() -> None:
    assert set(STATE_LABELS) == set(WindowState) and set(REASON_LABELS) == set(CloseReason)
    assert all(not label.isascii() for label in [*STATE_LABELS.values(), *REASON_LABELS.values()])


EVENTS = st.lists(st.sampled_from(["grant_admin", "grant_supervisor", "disable_admin", "day_passes"]), max_size=40)


@given(EVENTS, st.integers(min_value=1, max_value=MAX_DAYS))
def test_whatever_happens_the_window_admits_at_most_two_admins_and_nothing_after_it_closed(
        events: list[str], days: int) -> None:
    """A home driven by the rule the way the accounts service drives it: a grant the window does not admit
    waits for a second approver (never counted here); closure is irreversible."""
    win = window(days)
    now, admins, through_window, closed_at = OPENED, 0, 0, None
    for event in events:
        current = state(Window(win.opened_at, win.deadline, closed_at), now=now)
        if event == "day_passes":
            now += timedelta(days=1)
        elif event == "disable_admin":
            admins = max(0, admins - 1)
        elif admits(current, role_is_security_admin=event == "grant_admin", active_admins=admins):
            assert event == "grant_admin" and current is WindowState.OPEN and now < win.deadline
            admins, through_window = admins + 1, through_window + 1
            if closes_after(admins):
                closed_at = now
        if closed_at is not None:
            assert state(Window(win.opened_at, win.deadline, closed_at), now=now) is WindowState.CLOSED
    assert through_window <= REQUIRED_ADMINS + events.count("disable_admin")
    if closed_at is not None:  # once closed, no event reopens it
        assert state(Window(win.opened_at, win.deadline, closed_at), now=OPENED) is WindowState.CLOSED
