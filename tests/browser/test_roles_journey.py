"""Journey 5: the wrong role gets the Japanese 403 page (and an access:denied record), and the menu shows
only what the user can use. Journey 4 (auditor): 監査 — the refusal found in the trail, the hash-chain
verification run from the screen. Journey 7: the CSP check of every journey catches an inline script or
style (it is shown to fail when one is injected).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, Live, fits, shot, sign_in, task_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
NOTHING_TO_DO = re.compile(r"できるファイルはありません（権限がありません）")


def refused(page: Any, live: Live, console: Console, path: str, screenshot: str) -> None:
    console.allow(403, path)
    response = page.goto(live.at(path))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="権限がありません", level=1)).to_be_visible()
    expect(page.get_by_text("この画面・操作の権限がありません。")).to_be_visible()
    expect(page.get_by_role("link", name="ダッシュボードへ戻る")).to_be_visible()
    fits(page)
    shot(page, screenshot)


def menu_entries(page: Any, live: Live) -> dict[str, str]:
    page.goto(live.at("/"))
    links = page.get_by_role("navigation", name="メニュー").get_by_role("link")
    return {link.inner_text(): str(link.get_attribute("href")) for link in links.all()}


def unusable_entries(page: Any, live: Live, console: Console) -> list[str]:
    """Every menu entry left out is a screen the user may not open (403), and every entry shown opens
    (200) at 1366 px; returns the entries shown whose page says there is nothing for this user to do."""
    from django.urls import reverse

    from jutaku.web.context import MENU

    shown = menu_entries(page, live)
    for label, name, _ in MENU:
        if label not in shown:
            path = reverse(name)
            console.allow(403, path)
            response = page.goto(live.at(path))
            assert response is not None and response.status == 403, label
    useless = []
    for label, path in shown.items():
        response = page.goto(live.at(path))
        assert response is not None and response.status == 200, label
        fits(page)
        if page.get_by_text(NOTHING_TO_DO).count():
            useless.append(label)
    return useless


def test_the_wrong_role_is_refused_in_japanese_and_the_menu_offers_only_usable_screens(
        page: Any, tab: Any, live: Live, people: Any, console: Console) -> None:
    from jutaku.audit.models import AuditRecord

    inquirer, auditor, registrar, admin = people("inquirer"), people("auditor"), people("registrar"), \
        people("security_admin")
    sign_in(page, live, inquirer)
    assert "利用者管理" not in menu_entries(page, live)
    refused(page, live, console, "/users/", "40-forbidden-users")
    assert AuditRecord.objects.filter(event="access:denied", username=inquirer.username).exists()

    auditor_page = tab()
    sign_in(auditor_page, live, auditor)
    assert "対象者検索" not in menu_entries(auditor_page, live)
    refused(auditor_page, live, console, "/persons/", "41-forbidden-persons")
    assert AuditRecord.objects.filter(event="access:denied", username=auditor.username).exists()

    admin_page = tab()
    sign_in(admin_page, live, admin)
    admin_page.get_by_role("navigation", name="メニュー").get_by_role("link", name="利用者管理").click()
    expect(admin_page.get_by_role("heading", name="利用者管理", level=1)).to_be_visible()
    expect(admin_page.get_by_role("main")).to_contain_text(registrar.username)
    fits(admin_page)
    shot(admin_page, "46-users")
    assert unusable_entries(admin_page, live, console) == []

    clerk = tab()
    sign_in(clerk, live, registrar)
    shown = menu_entries(clerk, live)
    assert {"対象者検索", "ファイル取込", "削除"} <= set(shown)
    assert not {"利用者管理", "監査", "統計"} & set(shown)
    # No menu entry leads to a page that offers the user nothing.
    assert unusable_entries(clerk, live, console) == []
    assert unusable_entries(auditor_page, live, console) == []
    console.assert_clean()


def test_the_auditor_finds_a_refusal_in_the_trail_and_verifies_the_hash_chain(
        page: Any, tab: Any, live: Live, people: Any, console: Console) -> None:
    inquirer, auditor = people("inquirer"), people("auditor")
    other = tab()
    sign_in(other, live, inquirer)
    console.allow(403, "/audit/")
    response = other.goto(live.at("/audit/"))
    assert response is not None and response.status == 403

    sign_in(page, live, auditor)
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="監査").click()
    expect(page.get_by_role("heading", name="監査（操作履歴）")).to_be_visible()
    expect(page.get_by_text("検証の記録はまだありません。")).to_be_visible()
    shot(page, "42-audit")
    page.get_by_label("利用者", exact=True).fill(inquirer.username)
    page.get_by_label("操作", exact=True).select_option("access:denied")
    page.get_by_role("button", name="検索", exact=True).click()
    rows = page.get_by_test_id("audit-results").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("audit-event")).to_have_text("アクセスの拒否")  # by name, not access:denied
    rows.first.locator("details summary").click()  # the detail is folded
    expect(rows.first.locator("details dl")).to_contain_text("audit:search")  # the permission the inquirer lacked
    fits(page)
    shot(page, "43-audit-search")
    # Every record, at 1366×768: long object lists and details wrap or stay folded, names in Japanese.
    page.get_by_label("利用者", exact=True).fill("")
    page.get_by_label("操作", exact=True).select_option("")
    page.get_by_role("button", name="検索", exact=True).click()
    events = page.get_by_test_id("audit-results").get_by_test_id("audit-event")
    expect(events.first).to_be_visible()
    shown = set(events.all_inner_texts())
    assert {"操作記録の検索", "ログイン"} <= shown and all(not name.isascii() for name in shown), shown
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    fits(page)
    areas = page.locator("#f-event optgroup").evaluate_all("groups => groups.map(g => g.label)")
    assert {"個人番号", "住基ネット", "監査"} <= set(areas)

    page.get_by_role("button", name="ハッシュチェーン検証").click()
    task_finished(page)
    expect(page.get_by_role("status")).to_contain_text("監査証跡は完全です")
    facts = page.locator("dl.facts").last
    expect(facts).to_contain_text("正常")
    counted = page.get_by_test_id("outcome-table").locator("tr", has_text="検証した記録").locator("td.num")
    checked = int(counted.inner_text().replace(",", ""))
    from jutaku.audit.models import AuditRecord

    assert 0 < checked <= AuditRecord.objects.count()
    fits(page)
    shot(page, "44-audit-verified")
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="監査").click()
    last = page.get_by_test_id("last-verify")
    expect(last).to_contain_text(auditor.username)
    expect(last.locator(".badge")).to_have_text("正常")
    shot(page, "45-audit-last-verification")
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="ダッシュボード").click()
    expect(page.get_by_text(re.compile(r"最終の監査ログ検証: .*（正常）"))).to_be_visible()
    console.assert_clean()


def test_the_csp_forbids_inline_script_and_style_and_the_check_catches_them(page: Any, live: Live,
                                                                          console: Console) -> None:
    response = page.goto(live.at("/login/"))
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    console.assert_clean()
    seen = page.evaluate("""() => new Promise(resolve => {
        const blocked = [];
        document.addEventListener("securitypolicyviolation", e => {
            blocked.push(e.effectiveDirective);
            if (blocked.length === 2) { setTimeout(() => resolve(blocked.sort()), 0); }
        });
        const s = document.createElement("script"); s.textContent = "window.inlineRan = true;";
        document.body.appendChild(s);
        const st = document.createElement("style"); st.textContent = "body { background: red; }";
        document.head.appendChild(st);
    })""")
    assert seen == ["script-src-elem", "style-src-elem"]
    assert page.evaluate("window.inlineRan === undefined")  # the inline script never ran
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    reported = "\n".join(console.problems)
    assert "script-src" in reported and "style-src" in reported, reported
    console.problems.clear()  # what this test injected on purpose


def test_the_statistics_charts_load_side_by_side(page: Any, live: Live, people: Any, console: Console) -> None:
    sign_in(page, live, people("auditor"))
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="統計").click()
    expect(page.get_by_role("heading", name="統計", level=1)).to_be_visible()
    charts = page.get_by_test_id("chart")
    expect(charts).to_have_count(2)
    urls = [str(chart.get_attribute("src")) for chart in charts.all()]
    statuses = page.evaluate("""urls => Promise.all([0, 1, 2].flatMap(() => urls.map(
        url => fetch(url, {credentials: "same-origin"}).then(r => r.status))))""", urls)
    page.wait_for_function("Array.from(document.querySelectorAll('img.chart')).every(i => i.complete)")
    fits(page)
    shot(page, "47-stats")
    console.assert_clean()
    assert statuses == [200] * 6  # drawn side by side, three times over
    assert page.evaluate("Array.from(document.querySelectorAll('img.chart')).every(i => i.naturalWidth > 0)")
