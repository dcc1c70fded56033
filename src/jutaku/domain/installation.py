"""The installation window of a new home (ADR 0015, amending ADR 0007; checklist AUTHZ-06), pure.

Granting ``security_admin`` or ``supervisor`` needs a second security administrator's approval. A new
home has one security administrator, so that approval cannot exist: without an exception nothing
needing dual control could ever be granted, and no export or deletion could ever be approved.

The exception is as narrow as the deadlock. From ``jutaku init --admin`` until the window closes,
a grant of ``security_admin`` is applied at once — while the home has fewer than
:data:`REQUIRED_ADMINS` security administrators (not disabled). Nothing else passes: ``supervisor`` and
every later grant wait for the second administrator like any other. The window closes, irreversibly,

- in the transaction that makes the second security administrator (:func:`closes_after`), or
- at its deadline, fixed when it opened (:func:`deadline_after`; at most :data:`MAX_DAYS` days),

and a closure ledger outside the database keeps it closed when an older backup is restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

#: Security administrators needed before dual control of role grants is possible (requester ≠ approver).
REQUIRED_ADMINS: Final = 2
DEFAULT_DAYS: Final = 14
MAX_DAYS: Final = 30


class WindowState(StrEnum):
    NONE = "none"  # never opened (a home from before ADR 0015, or without users yet)
    OPEN = "open"
    CLOSED = "closed"


class CloseReason(StrEnum):
    SECOND_ADMIN = "second_admin"
    DEADLINE = "deadline"


STATE_LABELS: Final = {
    WindowState.NONE: "なし",
    WindowState.OPEN: "設置期間中",
    WindowState.CLOSED: "終了",
}
REASON_LABELS: Final = {
    CloseReason.SECOND_ADMIN: "2人目のセキュリティ管理者の付与",
    CloseReason.DEADLINE: "期限の到来",
}


class WindowError(ValueError):
    """An installation window that cannot be opened as asked."""


@dataclass(frozen=True)
class Window:
    """What the home records about its window; ``latched``: the closure ledger outside the database names it."""

    opened_at: datetime
    deadline: datetime
    closed_at: datetime | None
    latched: bool = False


def deadline_after(opened_at: datetime, days: int) -> datetime:
    """The fixed deadline of a window opened at ``opened_at`` for ``days`` days (1 to :data:`MAX_DAYS`)."""
    if not 1 <= days <= MAX_DAYS:
        raise WindowError(f"設置期間は1日から{MAX_DAYS}日までです（指定: {days}日）")
    return opened_at + timedelta(days=days)


def state(window: Window | None, *, now: datetime) -> WindowState:
    """Open only if recorded open, not named in the closure ledger, and before its deadline."""
    if window is None:
        return WindowState.NONE
    if window.closed_at is not None or window.latched or now >= window.deadline:
        return WindowState.CLOSED
    return WindowState.OPEN


def due_reason(window: Window | None, *, now: datetime) -> CloseReason | None:
    """Why an unrecorded closure should now be recorded (deadline passed), else None."""
    if window is None or window.closed_at is not None:
        return None
    return CloseReason.DEADLINE if now >= window.deadline else None


def admits(current: WindowState, *, role_is_security_admin: bool, active_admins: int) -> bool:
    """May this grant skip the second approver? Only ``security_admin``, only while the window is open
    and the home has fewer than :data:`REQUIRED_ADMINS` security administrators."""
    return current is WindowState.OPEN and role_is_security_admin and active_admins < REQUIRED_ADMINS


def closes_after(active_admins: int) -> bool:
    """The window closes as soon as dual control is possible."""
    return active_admins >= REQUIRED_ADMINS
