"""承認待ち (issue 7 item 3; AUTHZ-06, AUTH-09): the dual-control queue in the browser.

A request is decided by someone other than its requester, holding the kind's decide permission, after a
fresh step-up; the decision is the service's and is audited with both names. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest

from jutaku.accounts.actor import Actor
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.sessions import actor_for
from jutaku.audit.models import AuditRecord
from jutaku.linkage.export import request_export
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = pytest.mark.django_db
QUEUE = "/approvals/"
PROCEDURE = "JT99000000530001"


def actor_of(browser: Browser) -> Actor:
    return actor_for(browser.made.user, "127.0.0.1")


@pytest.fixture
def requester(signed_in: SignedIn) -> Browser:
    """An inquirer who is also a supervisor: may request an export and decide exports, but not their own."""
    return signed_in("inquirer", "supervisor")


@pytest.fixture
def pending(requester: Browser) -> Approval:
    return request_export(PROCEDURE, 2026, actor=actor_of(requester), reason="家賃算定のため")


def approve_url(approval: Approval | int) -> str:
    return f"/approvals/{approval if isinstance(approval, int) else approval.pk}/approve/"


def detail_url(approval: Approval) -> str:
    return f"/approvals/{approval.pk}/"


def state_of(approval: Approval) -> str:
    return str(Approval.objects.get(pk=approval.pk).state)


def test_the_queue_lists_pending_requests_with_kind_summary_and_buttons_for_deciders(
        signed_in: SignedIn, pending: Approval) -> None:
    supervisor = signed_in("supervisor")
    page = supervisor.get(QUEUE)
    body = page.content.decode()
    assert page.status_code == 200
    assert f"#{pending.pk}" in body and "業務システム連携ファイルの作成" in body and "家賃算定のため" in body
    assert "<li>事務手続: 収入の申告</li><li>年度: 2026年度</li>" in body and pending.requested_by in body
    assert PROCEDURE not in body and "{" not in body.split('data-testid="pending"', 1)[1].split("</table>", 1)[0]
    # An export affects persons: the decider is sent to the request's page to see them, and decides there.
    assert approve_url(pending) not in body and "対象者を確認して判断" in body
    detail = supervisor.get(detail_url(pending)).content.decode()
    assert approve_url(pending) in detail and f"/approvals/{pending.pk}/reject/" in detail
    # A registrar may look at the queue but not decide: no buttons.
    registrar = signed_in("registrar")
    registrar_page = registrar.get(QUEUE).content.decode()
    assert f"#{pending.pk}" in registrar_page and "対象者を確認して判断" not in registrar_page
    assert approve_url(pending) not in registrar.get(detail_url(pending)).content.decode()


def test_the_requester_cannot_approve_their_own_request(requester: Browser, pending: Approval) -> None:
    assert approve_url(pending) not in requester.get(QUEUE).content.decode()  # no button on one's own
    assert approve_url(pending) not in requester.get(detail_url(pending)).content.decode()
    requester.step_up()
    response = requester.post(approve_url(pending), form=QUEUE)
    assert response.status_code == 302 and response["Location"] == detail_url(pending)
    page = requester.get(detail_url(pending)).content.decode()
    assert "自分の依頼は承認・却下できません" in page
    assert state_of(pending) == ApprovalState.PENDING
    assert not AuditRecord.objects.filter(event="approval:approve").exists()


def test_another_supervisor_is_sent_to_step_up_first_then_approves_and_it_is_audited(
        signed_in: SignedIn, requester: Browser, pending: Approval) -> None:
    supervisor = signed_in("supervisor")
    response = supervisor.post(approve_url(pending), form=QUEUE)
    assert response.status_code == 302 and response["Location"].startswith("/step-up/")
    assert state_of(pending) == ApprovalState.PENDING
    supervisor.step_up()
    response = supervisor.post(approve_url(pending), form=QUEUE)
    assert response.status_code == 302 and response["Location"] == detail_url(pending)  # the decision's result
    approval = Approval.objects.get(pk=pending.pk)
    assert approval.state == ApprovalState.APPROVED and approval.decided_by == supervisor.username
    audit = AuditRecord.objects.get(event="approval:approve")
    assert audit.username == supervisor.username and f"approval:{pending.pk}" in audit.object_ids
    assert json.loads(audit.detail)["requested_by"] == requester.username
    page = supervisor.get(detail_url(pending)).content.decode()
    assert "承認しました" in page and "承認済み" in page and approve_url(pending) not in page


def test_another_supervisor_rejects_and_it_is_audited(signed_in: SignedIn, pending: Approval) -> None:
    supervisor = signed_in("supervisor")
    supervisor.step_up()
    response = supervisor.post(f"/approvals/{pending.pk}/reject/", form=QUEUE)
    assert response.status_code == 302
    assert state_of(pending) == ApprovalState.REJECTED
    assert AuditRecord.objects.filter(event="approval:reject", username=supervisor.username).count() == 1
    # Decided once: a second decision is refused by the service, with its message.
    supervisor.post(approve_url(pending), form=QUEUE)
    assert "処理済みです" in supervisor.get(detail_url(pending)).content.decode()
    assert state_of(pending) == ApprovalState.REJECTED


def test_a_registrar_may_not_approve(signed_in: SignedIn, pending: Approval) -> None:
    registrar = signed_in("registrar")
    response = registrar.post(approve_url(pending), form=QUEUE)
    assert response.status_code == 403
    assert state_of(pending) == ApprovalState.PENDING
    assert AuditRecord.objects.filter(event="access:denied", username=registrar.username).exists()


def test_a_decider_without_the_kinds_permission_sees_no_buttons_and_is_refused(
        signed_in: SignedIn, pending: Approval) -> None:
    admin = signed_in("security_admin")  # decides role grants, not exports
    assert approve_url(pending) not in admin.get(QUEUE).content.decode()
    admin.step_up()
    assert admin.post(approve_url(pending), form=QUEUE).status_code == 403
    assert state_of(pending) == ApprovalState.PENDING


def test_a_made_up_request_is_not_found(signed_in: SignedIn) -> None:
    supervisor = signed_in("supervisor")
    supervisor.step_up()
    assert supervisor.post(approve_url(999_999), form=QUEUE).status_code == 404
    assert supervisor.post("/approvals/999999/reject/", form=QUEUE).status_code == 404


def test_the_queue_is_closed_to_roles_without_approvals_view(signed_in: SignedIn) -> None:
    assert signed_in("operations").get(QUEUE).status_code == 403


def test_decisions_need_post_and_a_csrf_token(signed_in: SignedIn, pending: Approval) -> None:
    supervisor = signed_in("supervisor")
    supervisor.step_up()
    for url in (approve_url(pending), f"/approvals/{pending.pk}/reject/"):
        assert supervisor.get(url).status_code == 405
        assert supervisor.client.post(url).status_code == 403  # no CSRF token
    assert state_of(pending) == ApprovalState.PENDING
