"""Journey 9 (issue 14 items 7 and 8): deciding with the persons in view, and a step-up that carries on.

A supervisor opens a bulk deletion from 承認待ち: the counts by 削除理由, then the persons 50 at a time
(個人ID, 氏名, カナ, 状態, 削除理由), with the approve button under them. Their earlier step-up has lapsed: 承認
asks for it again, and after the code the approval is done — they land on the request with 承認済み, they
do not press 承認 again. Then a supervisor types the reason to see a number, is asked to re-authenticate,
and after the code sees the number, the reason they had typed recorded with it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import data
from tests.browser.conftest import Console, Live, fits, shot, sign_in, step_up
from tests.browser.test_deletion_journey import confirm_and_click

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def lapse_step_up(username: str) -> None:
    """The user's last step-up was six minutes ago (the window is five)."""
    from django.utils import timezone

    from jutaku.accounts.models import AuthSession

    AuthSession.objects.filter(user__username=username, revoked_at__isnull=True).update(
        stepped_up_at=timezone.now() - timedelta(minutes=6))


def test_the_approver_sees_who_is_affected_and_approves_through_a_lapsed_step_up(
        page: Any, live: Live, people: Any, console: Console) -> None:
    from jutaku.accounts.models import Approval, User
    from jutaku.accounts.sessions import actor_for
    from jutaku.registry.models import Person
    from tests.integration.web.affected_world import deletion_request, make_persons

    clerk, boss = people("registrar"), people("supervisor")
    moved = make_persons(45, seed=91, status="2")
    dead = make_persons(15, seed=92, status="4", first_id=1_000_500_001)
    request = deletion_request([(pk, "1") for pk in moved] + [(pk, "3") for pk in dead],
                               actor=actor_for(User.objects.get(username=clerk.username), "127.0.0.1"))

    sign_in(page, live, boss)
    lapse_step_up(boss.username)  # stepped up earlier in the day, more than five minutes ago
    page.get_by_role("navigation", name="メニュー").get_by_role("link", name="承認待ち").click()
    row = page.get_by_test_id("pending").locator("tbody tr").filter(has_text=f"#{request.pk}")
    assert row.get_by_role("button", name="承認").count() == 0  # not from the list: from the persons
    row.get_by_role("link", name="対象者を確認して判断").click()

    expect(page.get_by_role("heading", name=f"承認依頼 #{request.pk}", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="対象者（60 人）")).to_be_visible()
    counts = page.get_by_test_id("affected-counts").locator("tbody tr")
    expect(counts).to_have_text(["退去45 人", "死亡15 人"])
    persons = page.get_by_test_id("affected-rows").locator("tbody tr")
    expect(persons).to_have_count(50)
    first = Person.objects.get(pk=moved[0])
    expect(persons.first).to_have_text(f"{first.person_id}{first.name}{first.name_kana}退去退去")
    fits(page)
    shot(page, "38-approval-persons")
    page.get_by_role("link", name="次のページ").click()
    expect(persons).to_have_count(10)
    last = Person.objects.get(pk=dead[-1])
    expect(persons.last).to_have_text(f"{last.person_id}{last.name}{last.name_kana}死亡死亡")
    assert page.get_by_role("link", name="次のページ").count() == 0
    page.get_by_role("link", name="前のページ").click()
    expect(persons).to_have_count(50)
    expect(persons.first).to_contain_text(first.person_id)

    confirm_and_click(page, page.get_by_role("button", name="承認"), f"承認依頼 #{request.pk}")
    expect(page.get_by_test_id("continuing")).to_contain_text(f"承認依頼 #{request.pk} の承認")
    step_up(page, boss, screenshot="39-step-up-continuing")
    assert page.url == live.at(f"/approvals/{request.pk}/")  # the approval's result, not the list
    expect(page.get_by_test_id("approval-state")).to_have_text("承認済み")
    expect(page.get_by_role("status")).to_contain_text(f"承認依頼 #{request.pk}（個人番号の一括削除）を承認しました")
    assert page.get_by_role("button", name="承認").count() == 0
    approval = Approval.objects.get(pk=request.pk)
    assert approval.state == "approved" and approval.decided_by == boss.username
    fits(page)
    shot(page, "40-approved-after-step-up")
    console.assert_clean()


def test_the_reason_typed_to_see_a_number_survives_the_step_up(page: Any, live: Live, people: Any,
                                                               console: Console, tmp_path: Path) -> None:
    from jutaku.audit.models import AuditRecord
    from jutaku.crypto.envelope import FieldCipher
    from jutaku.registry.models import MyNumberRecord

    world = data.world(tmp_path / "world", persons=40, seed=97)
    data.registered(world)
    record = MyNumberRecord.objects.select_related("person").order_by("person_id").first()
    assert record is not None
    number = FieldCipher().decrypt(record.person.person_id, "registry_mynumberrecord", "my_number",
                                   bytes(record.ciphertext)).decode()
    boss = people("supervisor")
    sign_in(page, live, boss)
    page.goto(live.at(f"/persons/{record.person.pk}/"))
    expect(page.get_by_test_id("masked-number")).not_to_have_text(number)
    reason = "本人からの電話で登録内容の確認を求められたため"
    page.get_by_label("個人番号を表示する理由").fill(reason)
    confirm_and_click(page, page.get_by_role("button", name="個人番号を表示する"), "表示は記録されます")
    expect(page.get_by_test_id("continuing")).to_contain_text("個人番号の表示")
    assert number not in page.url and number not in page.content()
    step_up(page, boss, shown_here="個人番号の表示")
    expect(page.get_by_test_id("unmasked-number")).to_have_text(number)
    unmask = AuditRecord.objects.get(event="number:unmask")
    assert unmask.username == boss.username and json.loads(unmask.detail) == {"reason": reason}
    assert number not in unmask.detail
    console.assert_clean()
