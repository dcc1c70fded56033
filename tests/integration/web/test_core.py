"""The web UI's frame (issue 7 items 1–2; AUTH-02..09, WEB-01/02, NET-01): sign-in with password and
TOTP, the same answer for every failure, cookies, sign-out, idle timeout, step-up, CSRF, methods,
terminals and security headers. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from jutaku.accounts.models import AuthSession, User
from jutaku.audit.models import AuditRecord
from tests.integration.web.conftest import CSRF, PASSWORD, MakeUser, SignedIn, sign_in

pytestmark = pytest.mark.django_db


def test_sign_in_with_password_and_totp_opens_a_web_session(make_user: MakeUser) -> None:
    made = make_user("", "registrar")
    client = Client(enforce_csrf_checks=True)
    before = client.cookies.get(settings.SESSION_COOKIE_NAME)
    response = sign_in(client, made)
    assert response.status_code == 302 and response["Location"] == "/"
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert before is None or before.value != cookie.value
    session = AuthSession.objects.get(user=made.user)
    assert session.kind == "web" and session.token_hash != cookie.value  # only the hash is stored
    page = client.get("/")
    assert page.status_code == 200 and made.user.username in page.content.decode()


def test_every_failed_sign_in_gets_the_same_answer(make_user: MakeUser) -> None:
    made = make_user("", "registrar")
    locked = make_user("", "registrar")
    User.objects.filter(pk=locked.user.pk).update(locked_at=timezone.now())
    answers = set()
    for username, password, code in [("nobody.x", PASSWORD, made.code()), (made.user.username, "wrong " * 3, made.code()),
                                     (made.user.username, PASSWORD, "000000"), (locked.user.username, PASSWORD, locked.code())]:
        client = Client()
        page = client.get("/login/")
        token = CSRF.search(page.content.decode())
        assert token
        response = client.post("/login/", {"csrfmiddlewaretoken": token.group(1), "username": username,
                                           "password": password, "code": code})
        body = CSRF.sub("", response.content.decode())
        answers.add((response.status_code, body.replace(username, "USER")))
        assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert len(answers) == 1


def test_sign_out_ends_the_session_server_side(signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    cookie = browser.client.cookies[settings.SESSION_COOKIE_NAME].value
    response = browser.post("/logout/")
    assert response.status_code == 200 and "ログアウトしました" in response.content.decode()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get("/")["Location"].startswith("/login/")
    assert AuditRecord.objects.filter(event="auth:logout", username=browser.username).exists()


def test_the_idle_timeout_ends_the_session_and_a_progress_poll_does_not_prolong_it(signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    idle = settings.JUTAKU_SESSION_IDLE_MINUTES
    with time_machine.travel(timezone.now() + timedelta(minutes=idle - 1), tick=False):
        assert browser.get("/tasks/999999/progress/").status_code == 404  # passive: not activity
    with time_machine.travel(timezone.now() + timedelta(minutes=idle + 1), tick=False):
        response = browser.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert AuthSession.objects.get(user=browser.made.user).revoked_reason == "idle_timeout"


def test_the_page_carries_the_idle_warning_settings(signed_in: SignedIn) -> None:
    page = signed_in("registrar").get("/").content.decode()
    assert f'data-idle-seconds="{settings.JUTAKU_SESSION_IDLE_MINUTES * 60}"' in page
    assert 'id="idle-warning"' in page


def test_csrf_is_required_for_every_post(signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    assert browser.client.post("/logout/").status_code == 403  # no token
    assert browser.get("/logout/").status_code == 405  # no state change on GET
    assert AuthSession.objects.get(user=browser.made.user).revoked_at is None


def test_step_up_rotates_the_token_and_is_fresh_for_a_while(signed_in: SignedIn) -> None:
    browser = signed_in("supervisor")
    old = browser.client.cookies[settings.SESSION_COOKIE_NAME].value
    browser.step_up()
    new = browser.client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new != old
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = old
    assert stale.get("/")["Location"].startswith("/login/")
    assert AuthSession.objects.get(user=browser.made.user).stepped_up_at is not None
    assert AuditRecord.objects.filter(event="auth:step_up", username=browser.username).count() == 1


def test_a_wrong_step_up_counts_towards_the_lockout(signed_in: SignedIn) -> None:
    browser = signed_in("supervisor")
    for _ in range(settings.JUTAKU_LOGIN_MAX_FAILURES):
        response = browser.post("/step-up/", {"password": "not it at all", "code": "123456", "next": "/"},
                                form="/step-up/")
        if response.status_code == 302:  # locked: the session is gone, back to the sign-in page
            break
        assert "サインインできませんでした" in response.content.decode()
    assert User.objects.get(pk=browser.made.user.pk).locked_at is not None
    assert browser.get("/")["Location"].startswith("/login/")


def test_an_unregistered_terminal_is_refused_and_audited(signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    response = browser.client.get("/", REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 403 and "登録された端末ではありません" in response.content.decode()
    assert AuditRecord.objects.filter(event="access:denied", outcome="terminal", terminal="192.0.2.10").exists()
    # A forged X-Forwarded-For from an untrusted peer is ignored: the peer is the client.
    forged = browser.client.get("/", REMOTE_ADDR="192.0.2.11", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert forged.status_code == 403


def test_a_session_cannot_move_to_another_terminal(signed_in: SignedIn, settings_patch: None) -> None:
    browser = signed_in("registrar")
    response = browser.client.get("/", REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert AuthSession.objects.get(user=browser.made.user).revoked_reason == "terminal_changed"


@pytest.fixture
def settings_patch(db: None) -> None:
    from jutaku.accounts.actor import SYSTEM
    from jutaku.accounts.terminals import add

    add("office-lan", "10.9.9.0/24", actor=SYSTEM)


def test_security_headers_on_pages_and_no_store(signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    for url in ("/", "/login/", "/tasks/"):
        response = browser.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cache-Control"] == "no-store"


def test_static_files_are_served_and_checked_against_the_terminal_registry(signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    response = browser.get("/static/web/app.css")
    assert response.status_code == 200
    assert b"--brand" in b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert browser.client.get("/static/web/app.css", REMOTE_ADDR="192.0.2.12").status_code == 403


def test_a_missing_permission_is_refused_and_audited(signed_in: SignedIn) -> None:
    browser = signed_in("operations")
    response = browser.get("/tasks/")
    assert response.status_code == 200  # every signed-in user has their own task list
    denied = browser.get("/persons/")
    assert denied.status_code == 403
    assert AuditRecord.objects.filter(event="access:denied", outcome="permission", username=browser.username).exists()


def test_anonymous_requests_go_to_the_sign_in_page_with_a_safe_next(db: None, console: None) -> None:
    client = Client()
    response = client.get("/tasks/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Ftasks%2F"
    page = client.get("/login/?next=https://evil.example/x").content.decode()
    assert "evil.example" not in page


def test_an_unexpected_error_shows_a_japanese_page_and_keeps_the_traceback_private(
        signed_in: SignedIn, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    from jutaku import config
    from jutaku.web.views import dashboard

    def broken() -> None:
        raise RuntimeError("個人番号 123456789018 を含む内部の例外")

    monkeypatch.setattr(dashboard, "counts", broken)
    browser = signed_in("registrar")
    browser.client.raise_request_exception = False
    response = browser.get("/?q=secret-kana")
    page = response.content.decode()
    assert response.status_code == 500 and "処理できませんでした" in page and "123456789018" not in page
    logged = capfd.readouterr().err
    assert "incident" in logged and "123456789018" not in logged and "secret-kana" not in logged
    incident = logged.split("incident ", 1)[1].split()[0]
    path = config.get().home / "logs" / f"incident-{incident}.log"
    assert "RuntimeError" in path.read_text(encoding="utf-8") and oct(path.stat().st_mode)[-3:] == "600"
