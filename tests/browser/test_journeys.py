"""The main journeys in a real browser (issue 7, "Done when"), as the matching roles, with screenshots.

Sign-in and sign-out here; the journeys of issue 7's "Done when" in their own modules: test_files_journey
(kit upload, answer key, 差戻リスト; keyboard only at 1366 px), test_inquiry_journey (income-declaration
cycle, masked person file), test_deletion_journey (dual-control deletion with step-up), test_roles_journey
(403 pages, menus, 監査 and the hash chain, CSP). Every page of every test is watched for console errors and
CSP violations (conftest ``console``).

Runs on SQLite (the browser tier; the same views are covered on both databases by tests/integration/web)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Live, shot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_sign_in_with_totp_shows_the_dashboard_and_the_role_menu(page: Any, live: Live, people: Any) -> None:
    clerk = people("registrar")
    sign_in(page, live, clerk, screenshot="01-login")
    assert page.get_by_test_id("current-user").inner_text() == clerk.username
    menu = page.get_by_role("navigation", name="メニュー")
    assert menu.get_by_role("link", name="ダッシュボード").is_visible()
    assert menu.get_by_role("link", name="利用者管理").count() == 0  # not a security_admin
    shot(page, "02-dashboard")
    page.get_by_role("button", name="ログアウト").click()
    assert page.get_by_role("heading", name="ログアウトしました").is_visible()
    page.goto(live.at("/"))
    assert "/login/" in page.url


def test_a_wrong_code_is_refused_with_the_same_message(page: Any, live: Live, people: Any) -> None:
    clerk = people("registrar")
    page.goto(live.at("/login/"))
    page.get_by_label("利用者名").fill(clerk.username)
    page.get_by_label("パスワード").fill(clerk.password)
    page.get_by_label("ワンタイムコード").fill("000000")
    page.get_by_role("button", name="ログイン").click()
    assert page.get_by_role("alert").inner_text().startswith("サインインできませんでした")
    assert "/login/" in page.url
