"""A step-up continues the action it interrupted (issue 14 item 7, ADR 0024). SQLite and PostgreSQL.

An approver whose step-up has lapsed presses 承認: the step-up page says what it will continue, and after
the password and a new code the approval is decided and they land on its result — not on the list, not
pressing 承認 again. The same for 却下, running a deletion, unmasking a number with the reason already typed,
and changing roles. What is kept is single-use, expires with the step-up window, belongs to one session,
cannot be altered, is continued only through a CSRF-checked step-up POST and only as the user may act *now*.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from jutaku.accounts import approvals
from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.models import Approval, ApprovalState, AuthSession, RoleGrant, User
from jutaku.accounts.sessions import actor_for
from jutaku.audit.models import AuditRecord
from jutaku.domain import my_number
from jutaku.jobs.models import Task
from jutaku.linkage.export import request_export
from jutaku.registry.models import Person
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.retention.deletion import KIND as DELETION
from jutaku.sim.faults import FaultRates
from jutaku.sim.world import WorldSpec, build_world
from jutaku.web import pending
from jutaku.web.models import PendingAction
from tests.integration.accounts.conftest import PASSWORD, MakeUser
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = pytest.mark.django_db
PROCEDURE = "JT99000000530001"


def actor_of(browser: Browser) -> Actor:
    return actor_for(browser.made.user, "127.0.0.1")


@pytest.fixture
def export(signed_in: SignedIn) -> Approval:
    inquirer = signed_in("inquirer")
    return request_export(PROCEDURE, 2026, actor=actor_of(inquirer), reason="家賃算定のため")


def interrupted(browser: Browser, url: str, data: dict[str, object] | None = None, *, at: str = "/approvals/") -> str:
    """POST an action without a fresh step-up: sent to the step-up page with a key; returns the key."""
    response = browser.post(url, data, form=at, HTTP_REFERER=f"http://testserver{at}")
    assert response.status_code == 302, response.content.decode()[:300]
    location = urlsplit(response["Location"])
    assert location.path == "/step-up/"
    query = parse_qs(location.query)
    assert query["next"] == [at]
    return query["action"][0]


def step_up(browser: Browser, key: str, *, next_: str = "/approvals/", client: Client | None = None,
            csrf: bool = True) -> object:
    """Answer the step-up page with the key. Each answer takes a new code: the device is told the last one
    was this time step (as if the user came back 30 seconds later), so the next code is fresh."""
    TOTPDevice.objects.filter(user=browser.made.user).update(last_t=int(time.time()) // 30)
    browser.steps_used = 0
    data = {"password": PASSWORD, "code": browser.next_code(), "next": next_, "action": key}
    if csrf:
        return browser.post("/step-up/", data, form=f"/step-up/?action={key}")
    return (client or browser.client).post("/step-up/", data)


def state(approval: Approval) -> str:
    return str(Approval.objects.get(pk=approval.pk).state)


def denials(why: str) -> int:
    return sum(json.loads(r.detail).get("why") == why
               for r in AuditRecord.objects.filter(event="access:denied", outcome="pending_action"))


# ------------------------------------------------------------------------------------------------ approve


def test_an_approval_interrupted_by_the_step_up_is_decided_after_it_and_lands_on_its_result(
        signed_in: SignedIn, export: Approval) -> None:
    boss = signed_in("supervisor")
    key = interrupted(boss, f"/approvals/{export.pk}/approve/", at=f"/approvals/{export.pk}/")
    assert state(export) == ApprovalState.PENDING  # nothing decided without the step-up
    page = boss.get(f"/step-up/?next=/approvals/{export.pk}/&action={key}").content.decode()
    assert f"「承認依頼 #{export.pk} の承認」を行います" in page and f'name="action" value="{key}"' in page
    response = step_up(boss, key, next_=f"/approvals/{export.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/approvals/{export.pk}/"  # type: ignore[attr-defined]
    approval = Approval.objects.get(pk=export.pk)
    assert approval.state == ApprovalState.APPROVED and approval.decided_by == boss.username
    assert AuditRecord.objects.filter(event="approval:approve", username=boss.username).count() == 1
    result = boss.get(f"/approvals/{export.pk}/").content.decode()
    assert "承認しました" in result and 'data-testid="approval-state">承認済み<' in result
    assert PendingAction.objects.get().sealed == ""  # used, and nothing of it kept


def test_a_rejection_is_continued_too(signed_in: SignedIn, export: Approval) -> None:
    boss = signed_in("supervisor")
    key = interrupted(boss, f"/approvals/{export.pk}/reject/")
    response = step_up(boss, key)
    assert response["Location"] == f"/approvals/{export.pk}/"  # type: ignore[index]
    assert state(export) == ApprovalState.REJECTED


def test_a_step_up_lapsed_since_the_last_one_is_asked_again_and_then_continues(signed_in: SignedIn,
                                                                               export: Approval) -> None:
    boss = signed_in("supervisor")
    step_up(boss, "")
    AuthSession.objects.filter(user=boss.made.user).update(stepped_up_at=timezone.now() - timedelta(minutes=6))
    key = interrupted(boss, f"/approvals/{export.pk}/approve/")
    assert step_up(boss, key)["Location"] == f"/approvals/{export.pk}/"  # type: ignore[index]
    assert state(export) == ApprovalState.APPROVED


# ------------------------------------------------------------------------------------------------ safety


def test_the_kept_action_is_single_use(signed_in: SignedIn, export: Approval) -> None:
    boss = signed_in("supervisor")
    key = interrupted(boss, f"/approvals/{export.pk}/approve/")
    step_up(boss, key)
    again = step_up(boss, key)  # the same key once more (a resubmitted form, a replayed request)
    assert again.status_code == 302 and again["Location"] == "/approvals/"  # type: ignore[attr-defined]
    assert "続けられないため実行していません" in boss.get("/approvals/").content.decode()
    assert AuditRecord.objects.filter(event="approval:approve").count() == 1
    assert denials("used") == 1


def test_the_kept_action_expires_with_the_step_up_window(signed_in: SignedIn, export: Approval) -> None:
    boss = signed_in("supervisor")
    key = interrupted(boss, f"/approvals/{export.pk}/approve/")
    past = timezone.now() - timedelta(minutes=6)
    PendingAction.objects.update(created_at=past - timedelta(minutes=5), expires_at=past)
    assert "を行います" not in boss.get(f"/step-up/?action={key}").content.decode()  # not offered any more
    response = step_up(boss, key)
    assert response.status_code == 302 and response["Location"] == "/approvals/"  # type: ignore[attr-defined]
    assert state(export) == ApprovalState.PENDING
    assert "有効期限（5分）を過ぎたため実行していません" in boss.get("/approvals/").content.decode()
    # The step-up itself counted: pressing 承認 now decides at once.
    assert boss.post(f"/approvals/{export.pk}/approve/", form="/approvals/")["Location"] == f"/approvals/{export.pk}/"
    assert state(export) == ApprovalState.APPROVED


def test_another_users_kept_action_is_refused_and_stays_theirs(signed_in: SignedIn, export: Approval) -> None:
    boss, other = signed_in("supervisor"), signed_in("supervisor")
    key = interrupted(boss, f"/approvals/{export.pk}/approve/")
    assert "を行います" not in other.get(f"/step-up/?action={key}").content.decode()
    response = step_up(other, key)
    assert response.status_code == 302 and response["Location"] == "/approvals/"  # type: ignore[attr-defined]
    assert state(export) == ApprovalState.PENDING and denials("other_session") == 1
    rec = AuditRecord.objects.get(event="access:denied", outcome="pending_action")
    assert rec.username == other.username
    # Its owner still continues it, as themself.
    step_up(boss, key)
    assert Approval.objects.get(pk=export.pk).decided_by == boss.username


def test_continuing_needs_a_csrf_token_and_keeping_one_needs_it_too(signed_in: SignedIn, export: Approval) -> None:
    boss = signed_in("supervisor")
    forged = boss.client.post(f"/approvals/{export.pk}/approve/")  # no CSRF token: refused, nothing kept
    assert forged.status_code == 403 and not PendingAction.objects.exists()
    key = interrupted(boss, f"/approvals/{export.pk}/approve/")
    assert step_up(boss, key, csrf=False).status_code == 403  # type: ignore[attr-defined]
    assert state(export) == ApprovalState.PENDING
    assert PendingAction.objects.get().used_at is None
    step_up(boss, key)
    assert state(export) == ApprovalState.APPROVED


def test_an_altered_or_made_up_key_is_refused_and_audited(signed_in: SignedIn, export: Approval) -> None:
    boss = signed_in("supervisor")
    key = interrupted(boss, f"/approvals/{export.pk}/approve/")
    row = PendingAction.objects.get()
    row.view_name = "web:approval-reject"  # the database row altered: the seal no longer matches
    row.save()
    assert step_up(boss, key)["Location"] == "/approvals/"  # type: ignore[index]
    assert state(export) == ApprovalState.PENDING and denials("tampered") == 1
    assert step_up(boss, "A" * 43)["Location"] == "/approvals/"  # type: ignore[index]
    assert denials("unknown") == 1


def test_the_user_must_still_hold_the_permission_when_it_continues(signed_in: SignedIn, export: Approval) -> None:
    boss = signed_in("supervisor", "inquirer")
    key = interrupted(boss, f"/approvals/{export.pk}/approve/")
    RoleGrant.objects.filter(user=boss.made.user, role="supervisor").delete()  # moved meanwhile
    response = step_up(boss, key)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert state(export) == ApprovalState.PENDING
    assert AuditRecord.objects.filter(event="access:denied", outcome="permission", username=boss.username).exists()


def test_no_open_redirect_when_an_action_lapses(signed_in: SignedIn, export: Approval) -> None:
    boss = signed_in("supervisor")
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = step_up(boss, "B" * 43, next_=target)
        assert response["Location"] == "/"  # type: ignore[index]
        assert "続けられないため実行していません" in boss.get("/").content.decode()


def test_what_is_kept_is_the_form_without_its_csrf_token_and_never_a_my_number(signed_in: SignedIn,
                                                                               export: Approval) -> None:
    boss = signed_in("supervisor")
    interrupted(boss, f"/approvals/{export.pk}/approve/", {"note": "急ぎ"})
    row = PendingAction.objects.get()
    kept = signing.loads(row.sealed, salt=pending.SALT)
    assert kept["v"] == "web:approval-approve" and kept["k"] == {"approval_id": export.pk}
    assert kept["f"] == {"note": ["急ぎ"]}  # no csrfmiddlewaretoken
    assert kept["u"] == boss.username and row.expires_at - row.created_at == timedelta(minutes=5)
    row.delete()
    response = boss.post(f"/approvals/{export.pk}/approve/", {"note": "1234 5678 9018"}, form="/approvals/",
                         HTTP_REFERER="http://testserver/approvals/")
    assert response.status_code == 302 and "action=" not in response["Location"]  # not kept: done again
    assert not PendingAction.objects.exists()


def test_an_unexpected_error_in_the_continued_action_does_not_sign_the_user_out(
        signed_in: SignedIn, export: Approval, monkeypatch: pytest.MonkeyPatch) -> None:
    boss = signed_in("supervisor")
    key = interrupted(boss, f"/approvals/{export.pk}/approve/")

    def broken(*args: object, **kwargs: object) -> Approval:
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr(approvals, "approve", broken)
    response = step_up(boss, key)
    assert response.status_code == 500 and "処理できませんでした" in response.content.decode()  # type: ignore[attr-defined]
    assert boss.get("/approvals/").status_code == 200  # the rotated session's cookie came with the answer
    assert state(export) == ApprovalState.PENDING


# ------------------------------------------------------------------------------------------------ the other actions


@pytest.fixture
def numbered(tmp_path: Path) -> tuple[Person, str]:
    """A person with a registered My Number (synthetic world) and that number."""
    out = tmp_path / "world"
    build_world(WorldSpec(persons=20, seed=31, rates=FaultRates.uniform(0.0, benign=0.0), kit_share=1.0,
                          portal_share=0.0, truth=False), out)
    import_targets(out / "targets.csv", actor=SYSTEM, progress=False)
    register_numbers(out / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    with (out / "kit.csv").open(encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    return Person.objects.get(person_id=row["個人ID"]), my_number.normalise(row["個人番号"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("home_keys")
def test_an_unmask_with_its_reason_typed_is_shown_after_the_step_up(signed_in: SignedIn,
                                                                   numbered: tuple[Person, str]) -> None:
    person, number = numbered
    boss = signed_in("supervisor")
    at = f"/persons/{person.pk}/"
    key = interrupted(boss, f"{at}unmask/", {"reason": "本人からの電話での問合せ"}, at=at)
    row = PendingAction.objects.get()
    assert number not in row.sealed and number not in str(row.back)
    assert "「個人番号の表示」を行います" in boss.get(f"/step-up/?action={key}").content.decode()
    response = step_up(boss, key, next_=at)
    html = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 200 and f'data-testid="unmasked-number">{number}<' in html  # type: ignore[attr-defined]
    assert response["Cache-Control"] == "no-store"  # type: ignore[index]
    rec = AuditRecord.objects.get(event="number:unmask")
    assert rec.username == boss.username and json.loads(rec.detail) == {"reason": "本人からの電話での問合せ"}
    assert PendingAction.objects.get().sealed == ""
    # The key is spent: submitting the step-up again shows nothing more.
    again = step_up(boss, key, next_=at)
    assert again.status_code == 302 and AuditRecord.objects.filter(event="number:unmask").count() == 1  # type: ignore[attr-defined]


@pytest.mark.usefixtures("home_keys")
def test_running_an_approved_deletion_is_continued_to_its_task(signed_in: SignedIn) -> None:
    clerk, boss = signed_in("registrar"), signed_in("supervisor")
    request = approvals.request_approval(DELETION, {"persons": 0}, actor=actor_of(clerk), reason="退去者")
    approvals.approve(request.pk, actor=actor_of(boss))
    key = interrupted(clerk, f"/deletion/{request.pk}/run/", at="/deletion/")
    assert f"「削除依頼 #{request.pk} の実行」を行います" in clerk.get(f"/step-up/?action={key}").content.decode()
    response = step_up(clerk, key, next_="/deletion/")
    task = Task.objects.get(username=clerk.username)
    assert response["Location"] == f"/tasks/{task.pk}/"  # type: ignore[index]
    assert task.params == {"approval_id": request.pk}


def test_a_role_change_is_continued_to_the_users_page(signed_in: SignedIn, make_user: MakeUser) -> None:
    clerk = make_user("", "registrar")
    admin = signed_in("security_admin")
    at = f"/users/{clerk.user.pk}/"
    key = interrupted(admin, f"{at}roles/", {"roles": ["inquirer"], "reason": "異動"}, at=at)
    assert User.objects.get(pk=clerk.user.pk).roles == ["registrar"]
    response = step_up(admin, key, next_=at)
    assert response["Location"] == at  # type: ignore[index]
    assert User.objects.get(pk=clerk.user.pk).roles == ["inquirer"]
    assert "の役割を変更しました" in admin.get(at).content.decode()
