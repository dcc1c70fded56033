"""The installation window of a home (ADR 0015): opened by `jutaku init --admin`, it lets the first
security administrator name the second one without a second approver, then closes for good.

The rule is :mod:`jutaku.domain.installation`; this module keeps its state (:class:`.models.Installation`,
one row), audits every step in the same transaction (``install:open``, ``install:grant``,
``install:close``) and keeps a **closure ledger** outside the database (``<home>/ledger/installation.jsonl``,
0600, one JSON line per closed window: its token, when, why). A window named in the ledger is closed
whatever the database says, so restoring a backup taken while the window was open does not reopen it; the
ledger can only close a window, never open one. A trigger refuses any change to a closed row
(:mod:`.guards`).

:func:`.users.create_user` and :func:`.users.set_roles` call :func:`lock`, :func:`admitted` and
:func:`granted` inside their transaction, so the CLI and the web screens follow the same rule.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from django.db import IntegrityError, transaction
from django.utils import timezone

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import AccountsError, require
from jutaku.accounts.models import Installation, RoleGrant
from jutaku.accounts.permissions import DUAL_CONTROL_ROLES, Permission, Role
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import installation as rule

LEDGER_NAME: Final = "installation.jsonl"
OBJECT: Final = "installation:1"


@dataclass(frozen=True)
class Status:
    """The window as the screens and `jutaku install status` show it."""

    state: rule.WindowState
    opened_at: datetime | None = None
    opened_by: str = ""
    deadline: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str = ""
    close_reason: str = ""
    admins: int = 0  # security administrators (not disabled)
    latched: bool = False  # named in the closure ledger outside the database

    @property
    def label(self) -> str:
        return rule.STATE_LABELS[self.state]

    @property
    def reason_label(self) -> str:
        if self.close_reason:
            return rule.REASON_LABELS[rule.CloseReason(self.close_reason)]
        if self.state is not rule.WindowState.CLOSED:
            return ""
        return ("閉鎖台帳による（リストアされたデータベース）" if self.latched
                else rule.REASON_LABELS[rule.CloseReason.DEADLINE])


def ledger_path() -> Path:
    return config.get().home / "ledger" / LEDGER_NAME


def _latched(token: str) -> bool:
    path = ledger_path()
    if not path.exists():
        return False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            if json.loads(line).get("token") == token:
                return True
        except (ValueError, AttributeError):
            return True  # an unreadable ledger closes the window (fail closed)
    return False


def _latch(row: Installation) -> None:
    """Append the closed window to the closure ledger (once; fsync'd)."""
    if row.closed_at is None or _latched(row.token):
        return
    path = ledger_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    line = {"token": row.token, "closed_at": row.closed_at.isoformat(), "reason": row.close_reason}
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _window(row: Installation | None) -> rule.Window | None:
    if row is None:
        return None
    return rule.Window(row.opened_at, row.deadline, row.closed_at, latched=_latched(row.token))


def active_admins() -> int:
    """Security administrators whose account is not disabled."""
    return RoleGrant.objects.filter(role=Role.SECURITY_ADMIN, user__disabled=False).count()


def open_window(*, actor: Actor, days: int = rule.DEFAULT_DAYS, now: datetime | None = None) -> Installation:
    """Open the window of a new home (call in the transaction that creates its first security_admin)."""
    require(actor, Permission.USERS_MANAGE)
    now = now or timezone.now()
    try:
        deadline = rule.deadline_after(now, days)
    except rule.WindowError as exc:
        raise AccountsError(str(exc)) from None
    if Installation.objects.exists():
        raise AccountsError("このホームの設置期間は既に開始されています（やり直しはできません）")
    try:
        with transaction.atomic():
            row = Installation.objects.create(token=secrets.token_hex(16), opened_at=now, opened_by=actor.username,
                                              deadline=deadline)
    except IntegrityError:
        raise AccountsError("このホームの設置期間は既に開始されています（やり直しはできません）") from None
    record(AuditEvent.INSTALL_OPEN, actor=actor, objects=[OBJECT],
           detail={"deadline": deadline.isoformat(), "days": days})
    return row


def deadline() -> datetime | None:
    """When the window closes at the latest (None: the home has none)."""
    return Installation.objects.filter(pk=1).values_list("deadline", flat=True).first()


def lock(*, actor: Actor, now: datetime) -> Installation | None:
    """The window row, locked for this transaction; a closure that is due (deadline) is recorded now."""
    row = Installation.objects.select_for_update().filter(pk=1).first()
    if row is not None and rule.due_reason(_window(row), now=now) is not None:
        _close(row, rule.CloseReason.DEADLINE, actor=actor, now=now)
    return row


def admitted(row: Installation | None, roles: Iterable[str], *, now: datetime) -> list[str]:
    """The dual-control roles among ``roles`` that the open window grants without a second approver."""
    current = rule.state(_window(row), now=now)
    if current is not rule.WindowState.OPEN:
        return []
    admins = active_admins()
    return [r for r in roles if r in DUAL_CONTROL_ROLES
            and rule.admits(current, role_is_security_admin=r == Role.SECURITY_ADMIN, active_admins=admins)]


def granted(row: Installation | None, username: str, user_pk: int, roles: Iterable[str], *, actor: Actor,
            now: datetime) -> bool:
    """Audit the window's grants (already written); close the window once dual control is possible."""
    if row is None:
        return False
    admins = active_admins()
    for role in roles:
        record(AuditEvent.INSTALL_GRANT, actor=actor, objects=[f"user:{user_pk}", OBJECT],
               detail={"username": username, "role": role, "security_admins": admins})
    if row.closed_at is None and rule.closes_after(admins):
        _close(row, rule.CloseReason.SECOND_ADMIN, actor=actor, now=now)
        return True
    return False


def _close(row: Installation, reason: rule.CloseReason, *, actor: Actor, now: datetime) -> None:
    row.closed_at, row.closed_by, row.close_reason = now, actor.username, reason.value
    row.save(update_fields=["closed_at", "closed_by", "close_reason"])
    record(AuditEvent.INSTALL_CLOSE, actor=actor, objects=[OBJECT],
           detail={"reason": reason.value, "security_admins": active_admins(), "deadline": row.deadline.isoformat()})
    transaction.on_commit(lambda: _latch(row))


def status(*, actor: Actor, now: datetime | None = None) -> Status:
    """The window's state (a read; a closed window missing from the closure ledger is added to it)."""
    require(actor, Permission.ACCESS_REVIEW)
    row = Installation.objects.filter(pk=1).first()
    admins = active_admins()
    if row is None:
        return Status(rule.WindowState.NONE, admins=admins)
    _latch(row)
    window = _window(row)
    return Status(rule.state(window, now=now or timezone.now()), opened_at=row.opened_at,
                  opened_by=row.opened_by, deadline=row.deadline, closed_at=row.closed_at, closed_by=row.closed_by,
                  close_reason=row.close_reason, admins=admins, latched=bool(window and window.latched))
