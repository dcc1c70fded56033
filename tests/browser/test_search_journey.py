"""Journey (issue 14 item 10): a registrar looks a resident up as staff think — 氏名（漢字） typed with the
standard form (高橋) while the register holds the variant (髙橋), and the birth date in 和暦 (S45.3.1) — finds
exactly that person among namesakes, sees how the date was understood, and opens the person. No name or
birth date goes into any URL the browser requests; a bad 和暦 date is explained in Japanese.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import data
from tests.browser.conftest import Console, Live, fits, shot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

#: Namesakes added to a synthetic world: only the first is 髙橋 born 昭和45年3月1日.
NAMESAKES = {
    "1900000001": ("髙橋 澄子", "S450301"),
    "1900000002": ("高橋 澄江", "19700302"),
    "1900000003": ("鈴木 澄子", "19700301"),
}


def add_namesakes(tmp: Path) -> None:
    from jutaku.accounts.actor import SYSTEM
    from jutaku.formats.csvio import write_csv
    from jutaku.formats.layouts import TARGETS
    from jutaku.registry.targets import import_targets

    rows = [{"個人ID": pid, "区分": "1", "世帯番号": f"9{pid[1:]}", "続柄": "01", "住宅区分": "1", "住宅コード": "A9",
             "申込番号": "", "氏名": name, "氏名カナ": "タカハシ スミコ", "生年月日": birth, "性別": "2", "郵便番号": "",
             "住所": "東京都新宿区西新宿二丁目8番1号", "状態": "1", "状態日付": ""} for pid, (name, birth) in NAMESAKES.items()]
    write_csv(tmp / "namesakes.csv", TARGETS, rows)
    import_targets(tmp / "namesakes.csv", actor=SYSTEM, progress=False)


def test_a_kanji_variant_and_a_wareki_birth_date_find_the_resident(page: Any, live: Live, people: Any,
                                                                     console: Console, tmp_path: Path) -> None:
    world = data.world(tmp_path / "world", persons=40, seed=31)
    data.registered(world)
    add_namesakes(tmp_path)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, live, people("registrar"))

    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="対象者検索").click()
    page.get_by_label("氏名（漢字）").fill("高橋")
    page.get_by_label("生年月日").fill("S45.3.1")
    page.get_by_role("button", name="検索", exact=True).click()
    results = page.get_by_test_id("person-results")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("髙橋 澄子")
    expect(page.get_by_test_id("birth-date-understood")).to_have_text(
        "生年月日は 1970年3月1日（昭和45年3月1日） として検索しました。")
    expect(page.get_by_label("氏名（漢字）")).to_have_value("高橋")  # the form keeps what was typed
    fits(page)
    shot(page, "28-person-search-variant-wareki")
    assert data.leaked(page.content(), world) == []

    # The era boundary: 昭和64年1月8日 does not exist (it is 平成元年1月8日); the message says why, in Japanese.
    page.get_by_label("生年月日").fill("昭和64年1月8日")
    page.get_by_role("button", name="検索", exact=True).click()
    expect(page.get_by_test_id("search-error")).to_have_text(
        "生年月日を確認してください。元号の期間外の日付です（昭和は1926年12月25日から1989年1月7日まで）。")
    expect(page.get_by_test_id("person-results")).to_have_count(0)
    shot(page, "29-person-search-wareki-error")

    page.get_by_label("生年月日").fill("昭和45年3月1日")
    page.get_by_role("button", name="検索", exact=True).click()
    page.get_by_test_id("person-results").get_by_role("link", name="1900000001").click()
    expect(page.get_by_role("heading", name=re.compile("対象者詳細"))).to_contain_text("1900000001")
    expect(page.locator("main")).to_contain_text("髙橋 澄子")

    typed = ("高橋", "髙橋", "%E9%AB%98", "S45", "1970", "%E6%98%AD%E5%92%8C")  # 高 and 昭和 percent-encoded
    assert [url for url in requested if any(t in url for t in typed)] == []
    console.assert_clean()
