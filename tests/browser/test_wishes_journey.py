"""Journey 8 (issue 12): a resident's wishes on the person screen, at 1366 px. A registrar records a 不開示
wish made at the counter; a supervisor asks for it to be cleared and a different supervisor approves the
clearing in 承認待ち after a step-up; a handled 利用停止請求 shows on the person screen as 利用停止中.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import data
from tests.browser.conftest import Console, Live, fits, shot, sign_in, step_up

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def open_person(page: Any, live: Live, pk: int) -> None:
    page.goto(live.at(f"/persons/{pk}/"))
    expect(page.get_by_role("heading", name="対象者詳細", level=1)).to_be_visible()
    fits(page)


def confirm_and_click(page: Any, button: Any) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    page.wait_for_load_state()


def test_a_counter_wish_is_set_at_once_and_cleared_only_by_two_supervisors(
        page: Any, tab: Any, live: Live, people: Any, console: Console, tmp_path: Path) -> None:
    from jutaku.accounts.actor import SYSTEM
    from jutaku.audit.models import AuditRecord
    from jutaku.registry.models import Person
    from jutaku.subjects.service import handle, record_request

    world = data.world(tmp_path / "world", persons=60, seed=83)
    data.registered(world)
    person, suspended = Person.objects.filter(status="1", non_disclosure=False).order_by("person_id")[:2]
    clerk, boss, other_boss = people("registrar"), people("supervisor"), people("supervisor")

    sign_in(page, live, clerk)
    open_person(page, live, person.pk)
    expect(page.get_by_test_id("non-disclosure")).to_contain_text("設定はありません")
    page.get_by_label("申出の内容").fill("窓口で本人から申出（支援措置）")
    confirm_and_click(page, page.get_by_role("button", name="不開示を設定する"))
    expect(page.get_by_test_id("non-disclosure")).to_contain_text("不開示コード2")
    fits(page)
    shot(page, "50-non-disclosure-set")
    assert AuditRecord.objects.filter(event="non_disclosure:set", object_ids=person.person_id).count() == 1

    supervisor = tab()
    sign_in(supervisor, live, boss)
    open_person(supervisor, live, person.pk)
    supervisor.get_by_label("解除の理由").fill("本人からの取下げの申出")
    confirm_and_click(supervisor, supervisor.get_by_role("button", name="解除を依頼する（二者承認）"))
    expect(supervisor.get_by_test_id("nd-pending")).to_be_visible()
    shot(supervisor, "51-non-disclosure-clear-pending")
    person.refresh_from_db()
    assert person.non_disclosure  # nothing changes until another supervisor approves

    approver = tab()
    sign_in(approver, live, other_boss)
    approver.get_by_role("navigation", name="メニュー").get_by_role("link", name="承認待ち").click()
    pending = approver.get_by_test_id("pending").locator("tbody tr").filter(has_text="不開示")
    expect(pending).to_be_visible()
    fits(approver)
    shot(approver, "52-non-disclosure-clear-approval")
    confirm_and_click(approver, pending.get_by_role("button", name="承認"))
    step_up(approver, other_boss)  # approving needs a fresh sign-in, as every approval does; then it is done
    expect(approver.get_by_role("status")).to_contain_text("承認依頼")
    expect(approver.get_by_test_id("approval-state")).to_have_text("実行済み")
    person.refresh_from_db()
    assert not person.non_disclosure
    assert AuditRecord.objects.filter(event="non_disclosure:clear", object_ids__contains=person.person_id).exists()

    # A handled suspension shows on the person's screen.
    request = record_request(suspended.person_id, "suspension", received_on=date(2026, 11, 20), actor=SYSTEM)
    handle(request.pk, actor=SYSTEM)
    open_person(page, live, suspended.pk)
    expect(page.get_by_test_id("suspension")).to_contain_text("利用停止中")
    shot(page, "53-person-suspended")
    console.assert_clean()
