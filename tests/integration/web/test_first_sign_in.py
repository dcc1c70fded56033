"""The first sign-in on the web with a password an administrator set (issue 14 item 14), SQLite and PostgreSQL:
the sign-in leads to パスワードの変更, every other page leads back there (a POST is refused, saying why, and
recorded), the new password follows the policy, and after the change the dashboard and the menu are there. The
security administrator's 「パスワードを再設定」 on the account's page flags it again and ends its sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from jutaku.accounts.actor import SYSTEM
from jutaku.accounts.models import User
from jutaku.accounts.passwords import verify
from jutaku.accounts.users import NewUser, create_user
from jutaku.audit.models import AuditRecord
from tests.integration.web.conftest import CSRF, PASSWORD, Browser, Made, SignedIn, sign_in

pytestmark = pytest.mark.django_db
OWN = "a passphrase of my own choosing"


def new_account(username: str = "tanaka.h") -> Made:
    """An account as 「利用者の作成」 makes it: the administrator typed its initial password."""
    today = timezone.localdate()
    new = NewUser(username=username, full_name="田中 花", staff_id=f"S-{username}", organisation="bureau",
                  start_date=today - timedelta(days=1), end_date=today + timedelta(days=30), roles=("registrar",))
    made = create_user(new, PASSWORD, actor=SYSTEM, dual_control=False)
    return Made(made.user, made.enrolment.secret)


def form_token(client: Client, url: str) -> str:
    found = CSRF.search(client.get(url).content.decode())
    assert found, url
    return found.group(1)


def change(client: Client, current: str, new: str, again: str | None = None, next_: str = "/") -> Any:
    return client.post("/password/", {"csrfmiddlewaretoken": form_token(client, "/password/"), "password": current,
                                      "new_password": new, "new_password2": new if again is None else again,
                                      "next": next_})


def test_the_first_sign_in_leads_to_the_password_page_and_nowhere_else(console: None) -> None:
    made = new_account()
    client = Client(enforce_csrf_checks=True)
    signed = sign_in(client, made)
    assert signed.status_code == 302 and signed["Location"] == "/password/?next=%2F"

    page = client.get("/password/?next=%2F").content.decode()
    assert "初回サインインです。管理者が設定したパスワードのままでは、ほかの画面は使えません。" in page
    assert 'href="/persons/"' not in page  # no menu yet
    for path in ("/", "/persons/", "/audit/jobs/", "/step-up/?next=/"):
        moved = client.get(path)
        assert moved.status_code == 302 and moved["Location"].startswith("/password/?next="), path
    refused = client.post("/persons/lookup/", {"csrfmiddlewaretoken": form_token(client, "/password/"),
                                               "my_number": "123456789018"})
    assert refused.status_code == 403
    assert "パスワードの変更が必要です。管理者が設定したパスワードのままでは" in refused.content.decode()
    denied = AuditRecord.objects.filter(event="access:denied", username="tanaka.h", outcome="password_change")
    assert denied.count() == 5
    assert not AuditRecord.objects.filter(event="number:search").exists()  # the lookup never ran
    keepalive = client.post("/session/keepalive/", {"csrfmiddlewaretoken": form_token(client, "/password/")})
    assert keepalive.status_code == 200  # the idle-timeout warning still works on the password page


def test_the_new_password_follows_the_policy_then_the_dashboard_opens(console: None) -> None:
    made = new_account()
    client = Client(enforce_csrf_checks=True)
    sign_in(client, made)
    for current, new, again, error in (
            ("not the password", OWN, None, "現在のパスワードが正しくありません"),
            (PASSWORD, OWN, OWN + "x", "新しいパスワードが確認欄と一致しません"),
            (PASSWORD, "password1234", None, "このパスワードは一般的すぎます"),
            (PASSWORD, PASSWORD, None, "今のパスワードと違うもの")):
        answer = change(client, current, new, again)
        assert answer.status_code == 200 and error in answer.content.decode(), error
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    done = change(client, PASSWORD, OWN)
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != cookie  # a new session token (AUTH-07)
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    text = dashboard.content.decode()
    assert "パスワードを変更しました。" in text and 'href="/persons/"' in text
    user = User.objects.get(username="tanaka.h")
    assert not user.password_must_change and verify(OWN, user.password) and user.failed_logins == 1
    assert AuditRecord.objects.filter(event="auth:password_change", username="tanaka.h").count() == 1


def test_a_signed_in_user_changes_their_password_from_the_header(signed_in: SignedIn) -> None:
    clerk: Browser = signed_in("registrar")
    page = clerk.get("/").content.decode()
    assert 'href="/password/"' in page
    form = clerk.get("/password/").content.decode()
    assert "初回サインインです" not in form
    done = change(clerk.client, PASSWORD, OWN, next_="/persons/")
    assert done.status_code == 302 and done["Location"] == "/persons/"
    assert verify(OWN, User.objects.get(username=clerk.username).password)


def test_the_security_admin_resets_a_password_and_the_next_sign_in_changes_it(signed_in: SignedIn) -> None:
    admin = signed_in("security_admin")
    clerk_browser = signed_in("registrar")
    clerk = User.objects.get(username=clerk_browser.username)
    page = admin.get(f"/users/{clerk.pk}/").content.decode()
    assert "本人が設定済み" in page and "パスワードを再設定" in page
    reset = f"/users/{clerk.pk}/reset-password/"
    mismatch = admin.post(reset, {"password": "a new initial passphrase", "password2": "another one entirely",
                                  "reason": "本人確認済み"}, form=f"/users/{clerk.pk}/")
    assert mismatch.status_code == 302
    assert not User.objects.get(pk=clerk.pk).password_must_change
    done = admin.post(reset, {"password": "a new initial passphrase", "password2": "a new initial passphrase",
                              "reason": "本人確認済み（窓口）"}, form=f"/users/{clerk.pk}/")
    assert done.status_code == 302
    shown = admin.get(f"/users/{clerk.pk}/").content.decode()
    assert "パスワードを再設定しました" in shown and "初回サインイン時に本人が変更" in shown
    assert AuditRecord.objects.filter(event="user:password_reset", username=admin.username).count() == 1

    assert clerk_browser.get("/").status_code == 302  # the clerk's session ended: to the sign-in page
    client = Client(enforce_csrf_checks=True)
    token = form_token(client, "/login/")
    again = client.post("/login/", {"csrfmiddlewaretoken": token, "username": clerk.username,
                                    "password": "a new initial passphrase", "code": clerk_browser.next_code()})
    assert again.status_code == 302 and again["Location"].startswith("/password/")
    own = admin.get(f"/users/{User.objects.get(username=admin.username).pk}/").content.decode()
    assert "パスワードを再設定" not in own.split("<h2>役割の変更</h2>")[0]  # one's own: jutaku password
