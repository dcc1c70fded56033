"""Server-side sessions (AUTH-07), shared by the CLI and the web.

A session is a 256-bit random token held by the client (CLI: a 0600 file, :mod:`.tokenfile`; web: a
cookie); the database stores only its SHA-256. Every use checks: not revoked, same terminal, idle and
absolute timeouts (settings ``JUTAKU_SESSION_IDLE_MINUTES`` / ``JUTAKU_SESSION_ABSOLUTE_HOURS``), and
that the account may still sign in (not disabled, locked or past its end date). A session that fails
a check is revoked at once and audited.

A CLI session is also bound to the OS user (real uid and audit login uid) and to the login session of the
terminal it was opened in (:class:`jutaku.accounts.cliterminal.Binding`, ADR 0018); a web session to none.
A token presented anywhere else — copied into another account's home, used from another login session, on
the other pathway, or from another address — is refused, the session revoked (the token is known to
others now) and the refusal audited as ``auth:session_refused`` with what was bound and what was presented.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jutaku.accounts.actor import Actor
from jutaku.accounts.cliterminal import Binding
from jutaku.accounts.models import AuthSession, User
from jutaku.accounts.permissions import FIRST_SIGN_IN, permissions_of
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record

LOGIN_REQUIRED = "ログインしてください（jutaku login --user 利用者名）。"
#: Every refusal of a session whose password an administrator set, on every pathway (issue 14 item 14).
PASSWORD_CHANGE_REQUIRED = (
    "パスワードの変更が必要です。管理者が設定したパスワードのままでは、パスワードの変更とサインアウトのほかは何もできません。")  # noqa: S105 - a message
#: Reasons that mean the token was presented where it was not issued: refused, not merely expired.
MISPLACED = frozenset({"terminal_changed", "os_user_changed", "login_session_changed", "pathway_changed"})


class NoSession(Exception):
    """No live session: the caller must sign in again. The message is the same whatever the cause."""

    def __init__(self, reason: str = "none") -> None:
        super().__init__(LOGIN_REQUIRED)
        self.reason = reason


@dataclass(frozen=True)
class OpenedSession:
    token: str
    actor: Actor
    expires_at: datetime
    password_change_required: bool = False  # the password is one an administrator set

    def __repr__(self) -> str:
        return f"OpenedSession(actor={self.actor.username!r}, expires_at={self.expires_at!r})"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def account_state(user: User, today: date, *, production: bool) -> str | None:
    """Why ``user`` may not sign in or keep a session now, or None when they may."""
    if user.disabled:
        return "disabled"
    if user.locked_at is not None:
        return "locked"
    if today > user.end_date:
        return "expired"
    if today < user.start_date:
        return "not_started"
    if user.demo and production:
        return "demo_in_production"
    return None


def actor_for(user: User, terminal: str) -> Actor:
    """The user's actor: their roles' permissions, or only :data:`FIRST_SIGN_IN`'s while the password is one an
    administrator set (a second line behind the pathways' own refusal, which says why)."""
    granted = permissions_of(user.roles)
    if user.password_must_change:
        granted &= FIRST_SIGN_IN
    return Actor(username=user.username, terminal=terminal, permissions=granted)


def open_session(user: User, *, terminal: str, kind: str = "cli", now: datetime | None = None,
                 binding: Binding | None = None) -> OpenedSession:
    """Create a session for a user who has just authenticated (call inside the login transaction).
    ``binding``: the OS user and login session of a CLI sign-in (None on the web)."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=settings.JUTAKU_SESSION_ABSOLUTE_HOURS)
    bound: dict[str, Any] = {} if binding is None else {
        "os_uid": binding.uid, "os_loginuid": binding.loginuid, "os_login": binding.login}
    AuthSession.objects.create(token_hash=token_hash(token), user=user, kind=kind, terminal=terminal,
                               created_at=now, last_seen_at=now, expires_at=expires, **bound)
    return OpenedSession(token=token, actor=actor_for(user, terminal), expires_at=expires,
                         password_change_required=user.password_must_change)


def resolve(token: str | None, *, terminal: str, production: bool, now: datetime | None = None,
            binding: Binding | None = None) -> Actor:
    """The actor of a live session, or raise :class:`NoSession` (after revoking a dead one)."""
    return resolve_session(token, terminal=terminal, production=production, now=now, binding=binding).actor


@dataclass(frozen=True)
class LiveSession:
    """A resolved session as the web UI needs it (the token itself is not kept)."""

    actor: Actor
    session_id: int
    last_seen_at: datetime
    expires_at: datetime
    stepped_up_at: datetime | None
    password_change_required: bool = False  # the password is one an administrator set: change it first

    def fresh(self, now: datetime, minutes: int) -> bool:
        """Re-authenticated within ``minutes`` (AUTH-09)."""
        return self.stepped_up_at is not None and now - self.stepped_up_at <= timedelta(minutes=minutes)


def resolve_session(token: str | None, *, terminal: str, production: bool, now: datetime | None = None,
                    touch: bool = True, binding: Binding | None = None) -> LiveSession:
    """Like :func:`resolve`. ``touch=False`` (a progress poll, not a user's action) does not count as
    activity: the idle timeout still runs. ``binding``: the CLI's OS user and login session (None on the
    web); it must be the one the session was opened with."""
    if not token:
        raise NoSession("none")
    now = now or timezone.now()
    with transaction.atomic():
        session = (AuthSession.objects.select_for_update().select_related("user")
                   .filter(token_hash=token_hash(token), revoked_at__isnull=True).first())
        if session is None:
            raise NoSession("unknown")
        reason = _misplaced(session, terminal, binding) or _dead(session, now, production)
        if reason is None:
            if touch:
                session.last_seen_at = now
                session.save(update_fields=["last_seen_at"])
            return LiveSession(actor_for(session.user, terminal), session.pk, session.last_seen_at,
                               session.expires_at, session.stepped_up_at, session.user.password_must_change)
        _end(session, reason, now, terminal, binding)
    raise NoSession(reason)


def rotate(session_id: int, *, stepped_up_at: datetime | None = None) -> str:
    """Give a live session a new token (AUTH-07: rotated at step-up); the old token stops working.
    Call inside the transaction that records why."""
    token = secrets.token_urlsafe(32)
    fields: dict[str, Any] = {"token_hash": token_hash(token)}
    if stepped_up_at is not None:
        fields["stepped_up_at"] = stepped_up_at
    if AuthSession.objects.filter(pk=session_id, revoked_at__isnull=True).update(**fields) != 1:
        raise NoSession("unknown")
    return token


def _misplaced(session: AuthSession, terminal: str, binding: Binding | None) -> str | None:
    """Why the token is not where it was issued, or None."""
    if (session.os_uid is None) != (binding is None):
        return "pathway_changed"
    if binding is not None and (session.os_uid, session.os_loginuid) != (binding.uid, binding.loginuid):
        return "os_user_changed"
    if binding is not None and session.os_login != binding.login:
        return "login_session_changed"
    if session.terminal != terminal:
        return "terminal_changed"
    return None


def _dead(session: AuthSession, now: datetime, production: bool) -> str | None:
    if now >= session.expires_at:
        return "absolute_timeout"
    if now - session.last_seen_at > timedelta(minutes=settings.JUTAKU_SESSION_IDLE_MINUTES):
        return "idle_timeout"
    return account_state(session.user, timezone.localdate(now), production=production)


def _end(session: AuthSession, reason: str, now: datetime, terminal: str, binding: Binding | None) -> None:
    session.revoked_at, session.revoked_reason = now, reason[:32]
    session.save(update_fields=["revoked_at", "revoked_reason"])
    actor = Actor(session.user.username, terminal)
    if reason not in MISPLACED:
        record(AuditEvent.AUTH_SESSION_END, actor=actor, objects=[f"session:{session.pk}"], outcome=reason)
        return
    bound = {"terminal": session.terminal, "kind": session.kind, "uid": _text(session.os_uid),
             "loginuid": _text(session.os_loginuid), "login": session.os_login or "-"}
    presented = {"terminal": terminal, **(binding.describe() if binding is not None else {"kind": "web"})}
    detail: dict[str, str | bool] = {f"bound_{k}": v for k, v in bound.items()}
    detail.update({f"presented_{k}": v for k, v in presented.items()}, revoked=True)
    record(AuditEvent.AUTH_SESSION_REFUSED, actor=actor, objects=[f"session:{session.pk}"], outcome=reason,
           detail=detail)


def _text(value: int | None) -> str:
    return "-" if value is None else str(value)


def revoke(token: str, *, actor: Actor, reason: str = "logout") -> bool:
    """End one session (logout). True when a live session was revoked."""
    now = timezone.now()
    with transaction.atomic():
        session = (AuthSession.objects.select_for_update().select_related("user")
                   .filter(token_hash=token_hash(token), revoked_at__isnull=True).first())
        if session is None:
            return False
        session.revoked_at, session.revoked_reason = now, reason
        session.save(update_fields=["revoked_at", "revoked_reason"])
        record(AuditEvent.AUTH_LOGOUT, actor=Actor(session.user.username, actor.terminal),
               objects=[f"session:{session.pk}"])
    return True


def revoke_all(user: Any, *, reason: str, now: datetime | None = None) -> int:
    """End every live session of ``user`` (disable, lock, role change). Call inside a transaction."""
    return int(AuthSession.objects.filter(user=user, revoked_at__isnull=True)
               .update(revoked_at=now or timezone.now(), revoked_reason=reason[:32]))
