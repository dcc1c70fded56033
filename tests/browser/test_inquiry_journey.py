"""Journey 2 (inquirer): the income-declaration inquiry cycle through ファイル作成 and ファイル取込 — the
linkage request file, the simulated linkage server's answer imported, the inquiry file for 収入の申告
2026, the simulated answers imported with their 届出勧奨リスト — then 対象者検索 and 対象者詳細, where
the number is shown masked only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import data
from tests.browser.conftest import Console, Live, download, fits, shot, sign_in, task_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def create_page(page: Any, live: Live) -> None:
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="ファイル作成").click()
    expect(page.get_by_role("heading", name="ファイル作成", level=1)).to_be_visible()


def import_answer(page: Any, live: Live, key: str, file: Path) -> None:
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="ファイル取込").click()
    form = page.get_by_test_id(f"import-{key}")
    form.get_by_label("ファイル").set_input_files(str(file))
    form.get_by_role("button", name="取込開始").click()
    task_finished(page)


def outcome(page: Any, code: str) -> int:
    row = page.get_by_test_id("outcome-table").locator("tbody tr").filter(
        has=page.locator("td", has_text=re.compile(f"^{code}$")))
    return int(row.locator("td.num").inner_text().replace(",", ""))


def test_the_income_declaration_cycle_and_a_masked_person_file(page: Any, live: Live, people: Any,
                                                               console: Console, tmp_path: Path) -> None:
    from jutaku.linkage.models import IntegratedNumber
    from jutaku.sim.linkage import answer_inquiries, answer_linkage, plaintext

    world = data.world(tmp_path / "world", persons=120, seed=29)
    data.registered(world)
    sign_in(page, live, people("inquirer"))

    create_page(page, live)
    linkage = page.get_by_test_id("create-linkage")
    linkage.get_by_label("暗号化しない").check()
    shot(page, "20-files-create")
    linkage.get_by_role("button", name="作成開始").click()
    task_finished(page)
    requests = download(page, "統合利用番号取得要求ファイル", tmp_path)
    assert requests.suffix == ".csv" and len(data.rows_of(requests)) > 0
    shot(page, "21-linkage-request-created")
    answered = answer_linkage(world, requests, tmp_path / "link-ans.csv")
    import_answer(page, live, "linkage", tmp_path / "link-ans.csv")
    assert outcome(page, "OK") == IntegratedNumber.objects.count() > 0
    assert sum(answered.values()) == len(data.rows_of(requests))
    fits(page)
    shot(page, "22-linkage-answer-imported")

    create_page(page, live)
    inquiry = page.get_by_test_id("create-inquiry")
    inquiry.get_by_label("手続").select_option(data.INCOME)
    inquiry.get_by_label("照会年度").fill("2026")
    inquiry.get_by_role("button", name="作成開始").click()
    task_finished(page)
    asked = download(page, "情報照会要求ファイル", tmp_path)
    assert asked.name.endswith(".enc")  # integrated numbers: encrypted by default (issue 12 item 3)
    assert len(data.rows_of(plaintext(asked).read())) > 0  # the linkage server holds the media key
    shot(page, "23-inquiry-file-created")
    answer_inquiries(world, asked, tmp_path / "inq-ans.csv")
    changed = data.renamed(tmp_path / "inq-ans.csv")  # one answer the register disagrees with
    import_answer(page, live, "inquiry", tmp_path / "inq-ans.csv")
    assert outcome(page, "OK") > 0
    fits(page)
    shot(page, "24-inquiry-answers-imported")
    notices = data.rows_of(download(page, "届出勧奨リスト", tmp_path))
    assert changed in {r["個人ID"] for r in notices}
    assert data.leaked("\n".join(",".join(r.values()) for r in notices), world) == []

    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="対象者検索").click()
    page.get_by_label("個人ID（10桁）").fill(changed)
    page.get_by_role("button", name="検索", exact=True).click()
    results = page.get_by_test_id("person-results")
    expect(results.locator("tbody tr")).to_have_count(1)
    fits(page)
    shot(page, "25-person-search")
    results.get_by_role("link", name=changed).click()
    expect(page.get_by_role("heading", name=re.compile("対象者詳細"))).to_contain_text(changed)
    expect(page.get_by_test_id("masked-number")).to_have_text(re.compile(r"^\*{8}[0-9]{4}$"))
    expect(page.get_by_test_id("follow-up")).to_contain_text("氏名変更が届出されていません")
    expect(page.get_by_test_id("inquiries").locator("tbody tr")).not_to_have_count(0)
    body = page.content()
    assert data.valid_numbers_in(body) == [] and data.leaked(body, world) == []
    assert page.get_by_role("button", name="個人番号を表示する").count() == 0  # an inquirer may not unmask
    fits(page)
    shot(page, "26-person-detail")

    from django.core.cache import cache

    from jutaku.linkage.models import InquiryResult
    from jutaku.registry.models import Person

    cache.clear()  # as if the minute the dashboard caches its counts for had passed
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="ダッシュボード").click()
    expect(page.get_by_test_id("count-1")).to_have_text(f"{Person.objects.count()} 人")
    expect(page.get_by_test_id("count-5")).to_have_text(
        f"{InquiryResult.objects.exclude(discrepancy='').count()} 件")
    expect(page.get_by_test_id("count-5")).not_to_have_text("0 件")
    recent = page.get_by_role("region", name="最近の処理").locator("tbody tr")
    expect(recent).to_have_count(4)  # the four tasks of this journey, newest first
    expect(recent.first).to_contain_text("情報照会結果の取込")
    assert data.leaked(page.content(), world) == []
    fits(page)
    shot(page, "27-dashboard")
    console.assert_clean()
