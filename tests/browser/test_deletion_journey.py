"""Journey 3: a bulk deletion under dual control. The registrar makes the candidates and requests the
deletion with that list; a different user, a supervisor in a browser of their own, opens it from 承認待ち,
sees the persons it affects and approves it (the step-up asked on the way continues the approval); the
registrar runs it (step-up again, which continues the run; a confirmation dialog) and is offered the 削除記録,
which names the persons deleted and holds no number. Journey 4 (auditor): the hash-chain verification of
監査 run from the screen, on the trail these journeys wrote.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import data
from tests.browser.conftest import Console, Live, download, fits, shot, sign_in, step_up, task_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def menu(page: Any, label: str) -> None:
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", name=label, level=1)).to_be_visible()


def confirm_and_click(page: Any, button: Any, expected: str) -> None:
    """Press a button whose form asks for confirmation (data-confirm) and accept the dialog."""
    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    button.click()
    page.wait_for_load_state()
    assert asked and expected in asked[0], asked


def test_a_deletion_requested_approved_by_another_supervisor_and_run(page: Any, tab: Any, live: Live,
                                                                     people: Any, console: Console,
                                                                     tmp_path: Path) -> None:
    from jutaku.registry.models import MyNumberRecord

    world = data.world(tmp_path / "world", persons=120, seed=71)
    data.registered(world)
    moved = data.moved_out(world, tmp_path)
    assert len(moved) >= 5 and MyNumberRecord.objects.filter(person__person_id__in=moved).count() == len(moved)
    clerk, boss = people("registrar"), people("supervisor")

    sign_in(page, live, clerk)
    menu(page, "削除")
    fits(page)
    shot(page, "30-deletion")
    page.get_by_role("button", name="削除候補の作成").click()
    task_finished(page)
    proposal = download(page, "削除候補リスト", tmp_path)
    assert {r["個人ID"] for r in data.rows_of(proposal)} >= moved
    shot(page, "31-deletion-candidates")

    menu(page, "削除")
    page.get_by_label("削除リスト（CSV）").set_input_files(str(proposal))
    page.get_by_label("依頼理由").fill("退去者の個人番号削除")
    page.get_by_role("button", name="削除を依頼する").click()
    task_finished(page)
    menu(page, "削除")
    request_row = page.get_by_test_id("deletion-requests").locator("tbody tr").first
    expect(request_row).to_contain_text("承認待ち")
    expect(request_row).to_contain_text(clerk.username)
    number = re.search(r"#(\d+)", request_row.inner_text())
    assert number is not None
    approval = number.group(1)
    assert page.get_by_role("button", name="削除を実行").count() == 0  # not approved yet
    shot(page, "32-deletion-requested")

    other = tab()  # the supervisor, in a browser of their own
    sign_in(other, live, boss)
    menu(other, "承認待ち")
    pending = other.get_by_test_id("pending").locator("tbody tr").filter(has_text=f"#{approval}")
    expect(pending).to_contain_text("個人番号の一括削除")
    expect(pending).to_contain_text(f"対象: {len(data.rows_of(proposal))} 人")
    fits(other)
    shot(other, "33-approvals-pending")
    pending.get_by_role("link", name="対象者を確認して判断").click()  # who is affected, before deciding
    expect(other.get_by_test_id("affected-rows").locator("tbody tr")).to_have_count(len(data.rows_of(proposal)))
    confirm_and_click(other, other.get_by_role("button", name="承認"), f"承認依頼 #{approval}")
    step_up(other, boss, screenshot="34-step-up")
    assert other.url == live.at(f"/approvals/{approval}/")  # the approval done: its result, not the list
    expect(other.get_by_role("status")).to_contain_text(f"承認依頼 #{approval}")
    expect(other.get_by_test_id("approval-state")).to_have_text("承認済み")
    shot(other, "35-approved")
    menu(other, "承認待ち")
    expect(other.get_by_test_id("decided").locator("tbody tr").filter(has_text=f"#{approval}")).to_contain_text(
        boss.username)

    page.reload()
    run = page.get_by_role("button", name="削除を実行")
    confirm_and_click(page, run, "元に戻せません")
    step_up(page, clerk)  # the run goes on after the step-up: the task's page
    task_finished(page)
    assert not MyNumberRecord.objects.filter(person__person_id__in=moved).exists()
    fits(page)
    shot(page, "36-deletion-run")
    record = data.rows_of(download(page, "削除記録", tmp_path))
    assert moved <= {r["個人ID"] for r in record}
    assert all(r["依頼者"] == clerk.username and r["承認者"] == boss.username for r in record)
    assert data.leaked("\n".join(",".join(r.values()) for r in record), world) == []

    menu(page, "削除")
    records = page.get_by_test_id("deletion-records").locator("tbody tr")
    expect(records).to_have_count(1)
    expect(records.first).to_contain_text("退去")
    expect(records.first).to_contain_text(boss.username)
    assert data.leaked(page.content(), world) == []
    fits(page)
    shot(page, "37-deletion-records")
    console.assert_clean()
