"""Journey: a new colleague's first sign-in (issue 14 item 14). The security administrator creates the account
on 利用者管理 and the new user enrols the authenticator app from the QR page's key; at the first sign-in the
password the administrator typed leads to パスワードの変更 and nowhere else (no menu, the dashboard's address
comes back to it); a weak new password is refused in Japanese; the user's own one opens the dashboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, Live, Person, fits, shot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
INITIAL = "an initial passphrase typed by the administrator"
OWN = "a passphrase only tanaka knows"


def test_first_sign_in_changes_the_administrators_password_before_the_dashboard(
        page: Any, tab: Any, live: Live, people: Any, console: Console) -> None:
    admin = people("security_admin")
    sign_in(page, live, admin)
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="利用者管理").click()
    page.get_by_role("link", name="利用者を作成").click()
    page.get_by_label("利用者名").fill("tanaka.h")
    page.get_by_label("氏名").fill("田中 花")
    page.get_by_label("職員番号（委託先は従事者番号）").fill("B2001")
    page.get_by_label("番号登録担当", exact=True).check()
    page.get_by_label("初期パスワード", exact=True).fill(INITIAL)
    page.get_by_label("初期パスワード（確認）").fill(INITIAL)
    expect(page.get_by_text("初期パスワードは本人が初回サインインで自分のパスワードに変更します。")).to_be_visible()
    page.get_by_role("button", name="作成する").click()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    tanaka = Person("tanaka.h", secret, INITIAL)

    mine = tab()
    mine.goto(live.at("/login/"))
    mine.get_by_label("利用者名").fill(tanaka.username)
    mine.get_by_label("パスワード").fill(INITIAL)
    mine.get_by_label("ワンタイムコード").fill(tanaka.code())
    mine.get_by_role("button", name="ログイン").click()
    mine.wait_for_url(re.compile(r".*/password/\?next=%2F$"))
    expect(mine.get_by_role("heading", name="パスワードの変更", level=1)).to_be_visible()
    expect(mine.get_by_test_id("password-change-required")).to_contain_text("初回サインインです")
    expect(mine.get_by_role("navigation", name="メニュー").get_by_role("link")).to_have_count(0)
    fits(mine)
    shot(mine, "47-first-sign-in-password")

    mine.goto(live.at("/persons/"))  # any other page: back to the password page
    mine.wait_for_url(re.compile(r".*/password/\?next=%2Fpersons%2F$"))
    mine.get_by_label("現在のパスワード").fill(INITIAL)
    mine.get_by_label("新しいパスワード", exact=True).fill("password1234")
    mine.get_by_label("新しいパスワード（確認）").fill("password1234")
    mine.get_by_role("button", name="パスワードを変更する").click()
    expect(mine.get_by_role("alert").filter(has_text="このパスワードは一般的すぎます")).to_be_visible()

    mine.get_by_label("現在のパスワード").fill(INITIAL)
    mine.get_by_label("新しいパスワード", exact=True).fill(OWN)
    mine.get_by_label("新しいパスワード（確認）").fill(OWN)
    mine.get_by_role("button", name="パスワードを変更する").click()
    mine.wait_for_url(live.at("/persons/"))
    expect(mine.get_by_role("status").filter(has_text="パスワードを変更しました。")).to_be_visible()
    mine.get_by_role("navigation", name="メニュー").get_by_role("link", name="ダッシュボード").click()
    mine.wait_for_url(live.at("/"))
    expect(mine.get_by_test_id("current-user")).to_have_text("tanaka.h")
    shot(mine, "48-first-sign-in-dashboard")

    mine.get_by_role("button", name="ログアウト").click()
    sign_in(mine, live, Person("tanaka.h", secret, OWN, steps=tanaka.steps))  # straight to the dashboard now

    from jutaku.accounts.models import User
    from jutaku.audit.models import AuditRecord

    assert not User.objects.get(username="tanaka.h").password_must_change
    assert AuditRecord.objects.filter(event="auth:password_change", username="tanaka.h").count() == 1
    console.assert_clean()
