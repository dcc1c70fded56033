"""A password an administrator set must be changed at the first sign-in (issue 14 item 14), SQLite and
PostgreSQL: ``users create`` and ``users reset-password`` flag it; a session of a flagged user can do nothing
but change it (its actor holds only :data:`FIRST_SIGN_IN`); the change checks the current password (a wrong one
counts towards the lockout), the policy and that the new one differs; it clears the flag, ends the user's
other sessions, gives the asking session a new token and is audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone

from jutaku.accounts import auth, sessions
from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.bootstrap import create_first_admin
from jutaku.accounts.errors import AccessDenied, AccountsError
from jutaku.accounts.models import AuthSession, User
from jutaku.accounts.passwords import verify
from jutaku.accounts.permissions import FIRST_SIGN_IN, Permission
from jutaku.accounts.sessions import actor_for
from jutaku.accounts.users import NewUser, create_user, reset_password
from jutaku.audit.models import AuditRecord
from tests.integration.accounts.conftest import PASSWORD, MakeUser

pytestmark = pytest.mark.django_db
OWN = "a passphrase of my own choosing"
ADMIN = Actor("sec.admin", "127.0.0.1", frozenset({Permission.USERS_MANAGE}))


def created_by_admin(username: str = "tanaka.h", *roles: str) -> tuple[User, str]:
    """An account as ``users create`` makes it (the administrator typed the password)."""
    today = timezone.localdate()
    new = NewUser(username=username, full_name="田中 花", staff_id=f"S-{username}", organisation="bureau",
                  start_date=today - timedelta(days=1), end_date=today + timedelta(days=30),
                  roles=roles or ("registrar",))
    made = create_user(new, PASSWORD, actor=SYSTEM, dual_control=False)
    return made.user, made.enrolment.secret


def sign_in(user: User, secret: str, password: str = PASSWORD, *, at: float | None = None) -> sessions.OpenedSession:
    code = pyotp.TOTP(secret).at(at) if at is not None else pyotp.TOTP(secret).now()
    return auth.login(user.username, password, code, terminal="127.0.0.1", production=False, kind="web")


def live(token: str) -> sessions.LiveSession:
    return sessions.resolve_session(token, terminal="127.0.0.1", production=False)


def test_a_new_accounts_first_session_can_only_change_its_password(console: None) -> None:
    user, secret = created_by_admin()
    assert user.password_must_change
    created = AuditRecord.objects.get(event="user:create", object_ids=f"user:{user.pk}")
    assert json.loads(created.detail)["password_must_change"] is True

    opened = sign_in(user, secret)
    assert opened.password_change_required
    assert opened.actor.permissions == FIRST_SIGN_IN  # not the registrar's
    assert not opened.actor.can(Permission.REGISTRY_IMPORT)
    assert live(opened.token).password_change_required


def test_the_first_administrator_typed_their_own_password(console: None) -> None:
    today = timezone.localdate()
    made = create_first_admin("sato.k", PASSWORD, full_name="佐藤 健", staff_id="B1001", organisation="bureau",
                              start_date=today, end_date=today + timedelta(days=365), actor=SYSTEM)
    assert not made.user.password_must_change
    assert actor_for(made.user, "127.0.0.1").can(Permission.USERS_MANAGE)


def test_the_new_password_must_be_right_strong_and_new(console: None) -> None:
    user, secret = created_by_admin()
    opened = sign_in(user, secret)
    session = live(opened.token)

    def change(current: str, new: str) -> auth.PasswordRefused:
        with pytest.raises(auth.PasswordRefused) as refused:
            auth.change_password(user.username, current, new, terminal="127.0.0.1", production=False,
                                 session_id=session.session_id)
        return refused.value

    wrong = change("not the password at all", OWN)
    assert wrong.reason == "password" and str(wrong) == auth.WRONG_CURRENT
    user.refresh_from_db()
    assert user.failed_logins == 1  # counted towards the lockout, as a failed sign-in
    assert AuditRecord.objects.filter(event="auth:login_failed", username=user.username, outcome="password").exists()
    weak = change(PASSWORD, "password1234")
    assert weak.reason == "weak" and "一般的すぎます" in str(weak)
    assert change(PASSWORD, "short").reason == "weak"
    same = change(PASSWORD, PASSWORD)
    assert same.reason == "same" and str(same) == auth.SAME_PASSWORD
    user.refresh_from_db()
    assert user.password_must_change and verify(PASSWORD, user.password)
    assert not AuditRecord.objects.filter(event="auth:password_change").exists()


def test_changing_it_clears_the_flag_ends_other_sessions_and_rotates_the_token(console: None) -> None:
    user, secret = created_by_admin()
    elsewhere = sign_in(user, secret)
    here = sign_in(user, secret, at=timezone.now().timestamp() + 30)  # the next code: codes are single use
    asking = live(here.token)

    token = auth.change_password(user.username, PASSWORD, OWN, terminal="127.0.0.1", production=False,
                                 session_id=asking.session_id)

    assert token and token != here.token
    user.refresh_from_db()
    assert not user.password_must_change and verify(OWN, user.password) and not verify(PASSWORD, user.password)
    with pytest.raises(sessions.NoSession):
        live(here.token)  # the old token of the asking session stops working
    with pytest.raises(sessions.NoSession):
        live(elsewhere.token)
    assert AuthSession.objects.get(token_hash=sessions.token_hash(elsewhere.token)).revoked_reason == "password_change"
    now = live(token)
    assert not now.password_change_required and now.actor.can(Permission.REGISTRY_IMPORT)
    record = AuditRecord.objects.get(event="auth:password_change")
    assert record.username == user.username and f"session:{asking.session_id}" in record.object_ids
    assert json.loads(record.detail) == {"first_sign_in": True, "sessions_ended": 1}
    assert OWN not in record.detail and PASSWORD not in record.detail


def test_a_security_admin_resets_a_forgotten_password(console: None, make_user: MakeUser) -> None:
    clerk = make_user("", "registrar")  # a user who had chosen their own password
    opened = sign_in(clerk.user, clerk.secret)
    assert not opened.password_change_required

    with pytest.raises(AccountsError, match="パスワード"):
        reset_password(clerk.user.username, "password1234", actor=ADMIN, reason="本人確認済み")
    with pytest.raises(AccessDenied):
        reset_password(clerk.user.username, "a new initial passphrase", actor=Actor("x", "127.0.0.1"),
                       reason="本人確認済み")
    reset_password(clerk.user.username, "a new initial passphrase", actor=ADMIN, reason="本人確認済み（窓口）")

    clerk.user.refresh_from_db()
    assert clerk.user.password_must_change and verify("a new initial passphrase", clerk.user.password)
    with pytest.raises(sessions.NoSession):
        live(opened.token)  # every session ends at once
    record = AuditRecord.objects.get(event="user:password_reset")
    assert record.username == "sec.admin" and record.object_ids == f"user:{clerk.user.pk}"
    assert json.loads(record.detail) == {"reason": "本人確認済み（窓口）", "sessions_ended": 1}
    again = sign_in(clerk.user, clerk.secret, "a new initial passphrase", at=timezone.now().timestamp() + 30)
    assert again.password_change_required


def test_an_administrator_changes_their_own_password_themselves(console: None, make_user: MakeUser) -> None:
    admin = make_user("", "security_admin")
    me = actor_for(admin.user, "127.0.0.1")
    with pytest.raises(AccountsError, match="jutaku password"):
        reset_password(admin.user.username, "a new initial passphrase", actor=me, reason="自分")
