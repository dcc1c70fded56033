"""Sign-in (AUTH-02..05, AUTH-10): password + TOTP, lockout, terminal throttle, no enumeration; a user's own
password change (:func:`change_password`: at the first sign-in after an administrator set it, or any time).

:func:`login` is the one entry point for every pathway (CLI now, web later). Every failure raises
:class:`AuthFailed` with the same message, after the same work (an Argon2 check is run even for an
unknown user), whatever the cause: unknown user, wrong password or code, disabled, locked, expired,
not yet started, or a throttled terminal. The cause goes only to the audit trail.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jutaku.accounts import passwords, sessions, terminals, totp
from jutaku.accounts.actor import Actor, anonymous
from jutaku.accounts.cliterminal import Binding
from jutaku.accounts.models import AuthSession, LoginFailure, User
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record

FAILED = ("サインインできませんでした。利用者名・パスワード・ワンタイムコードを確認してください。"
          "続けて失敗するとアカウントはロックされます（解除はセキュリティ管理者へ）。")
#: Outcomes that count towards the lockout (the credentials themselves were wrong).
_COUNTED = frozenset({"password", "otp"})


#: A wrong current password when changing it: counted towards the lockout like a failed sign-in.
WRONG_CURRENT = ("現在のパスワードが正しくありません。続けて間違えるとアカウントはロックされます"
                 "（解除はセキュリティ管理者へ）。")
SAME_PASSWORD = "新しいパスワードは、今のパスワードと違うものにしてください。"  # noqa: S105 - a message


class PasswordRefused(Exception):
    """The new password was not set; ``str()`` says why (Japanese) and ``reason`` is for tests and audit."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class AuthFailed(Exception):
    """Sign-in refused. ``str()`` is always :data:`FAILED`; ``reason`` is for tests and audit only."""

    def __init__(self, reason: str) -> None:
        super().__init__(FAILED)
        self.reason = reason


def login(username: str, password: str, code: str, *, terminal: str, production: bool, kind: str = "cli",
          now: datetime | None = None, binding: Binding | None = None) -> sessions.OpenedSession:
    """Authenticate and open a session, or raise :class:`AuthFailed` (its record is committed first).
    ``binding``: the OS user and login session of a CLI sign-in, which the session is bound to (ADR 0018)."""
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        reason = _check(user, password, code, terminal=terminal, production=production, now=now)
        if reason is None:
            assert user is not None  # noqa: S101 - _check returns a reason for a missing user
            return _succeed(user, terminal=terminal, kind=kind, now=now, binding=binding)
        _fail(user, username, reason, terminal=terminal, now=now)
    raise AuthFailed(reason)


def step_up(session: sessions.LiveSession, password: str, code: str, *, production: bool,
            now: datetime | None = None) -> str:
    """Re-authenticate the signed-in user (AUTH-09): password and a fresh TOTP code again. Returns the
    session's new token (rotated); raises :class:`AuthFailed` — a wrong answer counts towards the
    lockout like a failed sign-in, so a stolen session cannot guess for ever."""
    now = now or timezone.now()
    terminal = session.actor.terminal
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=session.actor.username).first()
        reason = _check(user, password, code, terminal=terminal, production=production, now=now)
        if reason is None:
            assert user is not None  # noqa: S101 - _check returns a reason for a missing user
            token = sessions.rotate(session.session_id, stepped_up_at=now)
            record(AuditEvent.AUTH_STEP_UP, actor=session.actor, objects=[f"user:{user.pk}",
                                                                           f"session:{session.session_id}"])
            return token
        _fail(user, session.actor.username, reason, terminal=terminal, now=now)
    raise AuthFailed(reason)


def _check(user: User | None, password: str, code: str, *, terminal: str, production: bool,
           now: datetime) -> str | None:
    """The reason to refuse, or None. Always spends one password check."""
    if user is None:
        passwords.burn(password)
        return "unknown_user"
    password_ok = passwords.verify(password, user.password)
    if not terminals.is_allowed(terminal):
        return "terminal"
    if _terminal_throttled(terminal, now):
        return "terminal_throttled"
    state = sessions.account_state(user, timezone.localdate(now), production=production)
    if state is not None:
        return state
    if not password_ok:
        return "password"
    if not totp.verify(user, code):
        return "otp"
    return None


def _terminal_throttled(terminal: str, now: datetime) -> bool:
    since = now - timedelta(minutes=settings.JUTAKU_TERMINAL_FAILURE_WINDOW_MINUTES)
    recent = LoginFailure.objects.filter(terminal=terminal, at__gte=since).count()
    return bool(recent >= settings.JUTAKU_TERMINAL_MAX_FAILURES)


def _succeed(user: User, *, terminal: str, kind: str, now: datetime, binding: Binding | None) -> sessions.OpenedSession:
    user.failed_logins = 0
    user.last_login = now
    user.save(update_fields=["failed_logins", "last_login"])
    opened = sessions.open_session(user, terminal=terminal, kind=kind, now=now, binding=binding)
    record(AuditEvent.AUTH_LOGIN, actor=opened.actor, objects=[f"user:{user.pk}"],
           detail={"kind": kind, **(binding.describe() if binding is not None else {})})
    return opened


def _fail(user: User | None, attempted: str, reason: str, *, terminal: str, now: datetime) -> None:
    LoginFailure.objects.create(terminal=terminal, at=now)
    if user is None:
        digest = hashlib.sha256(attempted.encode("utf-8", "replace")).hexdigest()[:16]
        record(AuditEvent.AUTH_LOGIN_FAILED, actor=anonymous(terminal), outcome=reason,
               detail={"attempted_sha256": digest})
        return
    actor = Actor(user.username, terminal)
    if reason in _COUNTED:
        user.failed_logins += 1
    record(AuditEvent.AUTH_LOGIN_FAILED, actor=actor, objects=[f"user:{user.pk}"], outcome=reason,
           detail={"failures": user.failed_logins})
    if reason in _COUNTED and user.failed_logins >= settings.JUTAKU_LOGIN_MAX_FAILURES:
        user.locked_at = now
        sessions.revoke_all(user, reason="locked", now=now)
        record(AuditEvent.AUTH_LOCKED, actor=actor, objects=[f"user:{user.pk}"], outcome="locked",
               detail={"failures": user.failed_logins})
    user.save(update_fields=["failed_logins", "locked_at"])


def change_password(username: str, current: str, new: str, *, terminal: str, production: bool,
                    session_id: int | None = None, now: datetime | None = None) -> str | None:
    """The user ``username`` replaces their password (AUTH-06 policy: the settings' validators, Argon2id): at
    the first sign-in after an administrator set it, which clears ``password_must_change``, or any time.

    ``current`` must be the present password (a wrong one counts towards the lockout, as at sign-in) and ``new``
    must meet the policy and differ from it; else :class:`PasswordRefused` and nothing changes. Every other
    session of the user ends; the session ``session_id`` (the one asking) gets a new token, which is returned
    (AUTH-07). Audited as ``auth:password_change``.
    """
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None or sessions.account_state(user, timezone.localdate(now), production=production):
            raise PasswordRefused(FAILED, "account")
        if passwords.verify(current, user.password):
            try:
                passwords.validate(new, user)
            except passwords.WeakPassword as exc:
                raise PasswordRefused(" ".join(exc.messages), "weak") from None
            if new == current:  # ``current`` is the password: no second Argon2 check needed
                raise PasswordRefused(SAME_PASSWORD, "same")
            return _replace_password(user, new, terminal=terminal, session_id=session_id, now=now)
        _fail(user, username, "password", terminal=terminal, now=now)
    raise PasswordRefused(WRONG_CURRENT, "password")


def _replace_password(user: User, new: str, *, terminal: str, session_id: int | None, now: datetime) -> str | None:
    first = user.password_must_change
    user.password = passwords.hash_password(new)
    user.password_must_change = False
    user.save(update_fields=["password", "password_must_change"])
    others = AuthSession.objects.filter(user=user, revoked_at__isnull=True).exclude(pk=session_id)
    ended = others.update(revoked_at=now, revoked_reason="password_change")
    token = sessions.rotate(session_id) if session_id is not None else None
    record(AuditEvent.AUTH_PASSWORD_CHANGE, actor=Actor(user.username, terminal),
           objects=[f"user:{user.pk}", *([f"session:{session_id}"] if session_id is not None else [])],
           detail={"first_sign_in": first, "sessions_ended": ended})
    return token
