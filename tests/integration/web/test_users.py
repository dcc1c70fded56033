"""利用者管理 screens (issue 7 item 3.2; AUTH-01, AUTH-10, AUTHZ-06, NET-01): create a user and show the
TOTP enrolment once, disable (sessions end at once), unlock, MFA reset, roles behind step-up and dual
control, terminals, the annual access review. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from jutaku.accounts.models import Approval, Terminal, User
from jutaku.audit.models import AuditRecord
from jutaku.jobs.models import Task
from jutaku.jobs.worker import run_pending
from jutaku.web.tasks import all_kinds
from tests.integration.web.conftest import PASSWORD, Made, MakeUser, SignedIn, sign_in

pytestmark = pytest.mark.django_db

QR = re.compile(r'<img class="qr" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7=]+)<')


def new_user(**changes: Any) -> dict[str, Any]:
    today = timezone.localdate()
    form = {"username": "yamada.t", "full_name": "山田 太郎", "staff_id": "B3001", "organisation": "bureau",
            "roles": ["registrar"], "start_date": today.isoformat(), "end_date": (today + timedelta(days=90)).isoformat(),
            "password": PASSWORD, "password2": PASSWORD, "reason": "新規採用"}
    return {**form, **changes}


def enrolment(page: str) -> str:
    qr = QR.search(page)
    assert qr, "no QR code image on the page"
    assert base64.b64decode(qr.group(1)).lstrip().startswith((b"<?xml", b"<svg"))
    secret = SECRET.search(page)
    assert secret
    return secret.group(1)


def test_a_new_user_gets_a_qr_code_once_and_can_sign_in_with_it(signed_in: SignedIn) -> None:
    admin = signed_in("security_admin")
    assert admin.get("/users/new/").status_code == 200
    response = admin.post("/users/new/", new_user(), form="/users/new/")
    assert response.status_code == 200
    secret = enrolment(response.content.decode())
    user = User.objects.get(username="yamada.t")
    assert user.roles == ["registrar"] and user.created_by == admin.username
    assert AuditRecord.objects.filter(event="user:create", username=admin.username,
                                      object_ids=f"user:{user.pk}").exists()
    client = Client(enforce_csrf_checks=True)
    signed = sign_in(client, Made(user, secret), pyotp.TOTP(secret).now())
    assert signed.status_code == 302 and signed["Location"].startswith("/password/")  # the admin's password
    page = client.get(signed["Location"]).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    changed = client.post("/password/", {"csrfmiddlewaretoken": token.group(1), "password": PASSWORD,
                                         "new_password": "yamada's own passphrase", "new_password2":
                                         "yamada's own passphrase", "next": "/"})
    assert changed.status_code == 302 and client.get("/").status_code == 200
    for r in AuditRecord.objects.all():  # the seed is never on the trail
        assert secret not in r.detail and secret not in r.object_ids and secret.lower() not in r.detail
    listed = admin.get("/users/").content.decode()
    assert re.search(r">yamada\.t</a></td><td>山田 太郎</td><td>住宅政策本部</td><td>番号登録担当</td><td><span[^>]*>有効<", listed)
    assert SECRET.search(admin.get(f"/users/{user.pk}/").content.decode()) is None  # shown once only


def test_dual_control_roles_become_an_approval_request(signed_in: SignedIn) -> None:
    admin = signed_in("security_admin")
    page = admin.post("/users/new/", new_user(roles=["supervisor"]), form="/users/new/").content.decode()
    approval = Approval.objects.get(kind="role_grant", payload__username="yamada.t")
    assert f"承認依頼 #{approval.pk}" in page and approval.state == "pending"
    assert User.objects.get(username="yamada.t").roles == []


def test_a_refused_creation_shows_the_form_again_without_the_password(signed_in: SignedIn) -> None:
    admin = signed_in("security_admin")
    page = admin.post("/users/new/", new_user(password2="something else entirely"), form="/users/new/")
    assert page.status_code == 200 and "一致しません" in page.content.decode()
    assert PASSWORD not in page.content.decode()
    page = admin.post("/users/new/", new_user(roles=["auditor", "registrar"]), form="/users/new/")
    assert "兼務できません" in page.content.decode() and "山田 太郎" in page.content.decode()
    assert not User.objects.filter(username="yamada.t").exists()


def test_disabling_a_user_ends_their_live_session_at_the_next_request(signed_in: SignedIn) -> None:
    victim = signed_in("registrar")
    assert victim.get("/").status_code == 200
    admin = signed_in("security_admin")
    response = admin.post(f"/users/{victim.made.user.pk}/disable/", {"reason": "退職"}, form=f"/users/{victim.made.user.pk}/")
    assert response.status_code == 302
    assert victim.get("/")["Location"].startswith("/login/")
    assert User.objects.get(pk=victim.made.user.pk).disabled
    record = AuditRecord.objects.get(event="user:disable", username=admin.username)
    assert '"sessions_ended":1' in record.detail and "退職" in record.detail
    assert 'data-testid="user-state">無効<' in admin.get(f"/users/{victim.made.user.pk}/").content.decode()
    admin.post(f"/users/{victim.made.user.pk}/enable/", {"reason": "復職"}, form=f"/users/{victim.made.user.pk}/")
    assert not User.objects.get(pk=victim.made.user.pk).disabled
    assert AuditRecord.objects.filter(event="user:enable", username=admin.username).exists()


def test_an_action_needs_a_reason_and_an_admin_cannot_disable_themselves(signed_in: SignedIn) -> None:
    admin = signed_in("security_admin")
    me = admin.made.user.pk
    admin.post(f"/users/{me}/disable/", {"reason": ""}, form=f"/users/{me}/")
    assert "理由を入力してください" in admin.get(f"/users/{me}/").content.decode()
    admin.post(f"/users/{me}/disable/", {"reason": "試し"}, form=f"/users/{me}/")
    assert "自分自身は無効化できません" in admin.get(f"/users/{me}/").content.decode()
    assert not User.objects.get(pk=me).disabled


def test_unlock_and_mfa_reset(signed_in: SignedIn, make_user: MakeUser) -> None:
    locked = make_user("", "registrar")
    User.objects.filter(pk=locked.user.pk).update(locked_at=timezone.now(), failed_logins=5)
    admin = signed_in("security_admin")
    url = f"/users/{locked.user.pk}/"
    assert "ロック" in admin.get("/users/").content.decode()
    admin.post(url + "unlock/", {"reason": "本人確認済み"}, form=url)
    assert User.objects.get(pk=locked.user.pk).locked_at is None
    assert AuditRecord.objects.filter(event="auth:unlock", username=admin.username).exists()
    page = admin.post(url + "reset-mfa/", {"reason": "端末紛失"}, form=url).content.decode()
    fresh = enrolment(page)
    assert fresh != locked.secret
    assert sign_in(Client(enforce_csrf_checks=True), locked, pyotp.TOTP(fresh).now()).status_code == 302
    # The old device's codes no longer work (a wrong code: the same page again, no session).
    assert sign_in(Client(enforce_csrf_checks=True), locked, locked.code(time.time() + 30)).status_code == 200
    assert AuditRecord.objects.filter(event="user:mfa_reset", username=admin.username).exists()


def test_changing_roles_needs_a_step_up_and_dual_control_roles_wait_for_approval(
        signed_in: SignedIn, make_user: MakeUser) -> None:
    clerk = make_user("", "registrar")
    admin = signed_in("security_admin")
    url = f"/users/{clerk.user.pk}/"
    response = admin.post(url + "roles/", {"roles": ["inquirer"], "reason": "異動"}, form=url, HTTP_REFERER=url)
    assert response.status_code == 302 and response["Location"].startswith("/step-up/")
    assert User.objects.get(pk=clerk.user.pk).roles == ["registrar"]
    admin.step_up()
    response = admin.post(url + "roles/", {"roles": ["inquirer", "supervisor"], "reason": "異動"}, form=url)
    assert response.status_code == 302 and response["Location"] == url
    assert User.objects.get(pk=clerk.user.pk).roles == ["inquirer"]
    approval = Approval.objects.get(kind="role_grant", payload__username=clerk.user.username)
    page = admin.get(url).content.decode()
    assert f"承認依頼 #{approval.pk}" in page and 'data-testid="user-roles">照会担当<' in page
    assert AuditRecord.objects.filter(event="user:roles", username=admin.username).exists()


def test_registrars_and_supervisors_are_refused_the_user_screens(signed_in: SignedIn) -> None:
    for role in ("registrar", "supervisor"):
        browser = signed_in(role)
        for url in ("/users/", "/users/new/", f"/users/{browser.made.user.pk}/", "/users/terminals/", "/users/review/"):
            assert browser.get(url).status_code == 403, (role, url)
        assert browser.post(f"/users/{browser.made.user.pk}/disable/", {"reason": "x"}).status_code == 403
        assert not User.objects.get(pk=browser.made.user.pk).disabled


def test_a_made_up_user_id_is_not_found(signed_in: SignedIn) -> None:
    admin = signed_in("security_admin")
    assert admin.get("/users/999999/").status_code == 404
    assert admin.post("/users/999999/disable/", {"reason": "x"}).status_code == 404


def test_posts_need_csrf_and_actions_refuse_get(signed_in: SignedIn, make_user: MakeUser) -> None:
    clerk = make_user("", "registrar")
    admin = signed_in("security_admin")
    assert admin.client.post(f"/users/{clerk.user.pk}/disable/", {"reason": "x"}).status_code == 403
    assert admin.get(f"/users/{clerk.user.pk}/disable/").status_code == 405
    assert admin.get("/users/terminals/add/").status_code == 405
    assert not User.objects.get(pk=clerk.user.pk).disabled


def test_terminals_are_added_and_removed_with_audit_records(signed_in: SignedIn) -> None:
    admin = signed_in("security_admin")
    admin.post("/users/terminals/add/", {"name": "kanri-01", "address": "10.1.2.0/24"}, form="/users/terminals/")
    terminal = Terminal.objects.get(name="kanri-01")
    assert terminal.network == "10.1.2.0/24" and terminal.active
    assert "kanri-01" in admin.get("/users/terminals/").content.decode()
    assert AuditRecord.objects.filter(event="terminal:add", username=admin.username,
                                      object_ids=f"terminal:{terminal.pk}").exists()
    admin.post("/users/terminals/remove/", {"name": "kanri-01"}, form="/users/terminals/")
    assert not Terminal.objects.get(name="kanri-01").active
    assert AuditRecord.objects.filter(event="terminal:remove", username=admin.username).exists()
    admin.post("/users/terminals/add/", {"name": "bad", "address": "not an address"}, form="/users/terminals/")
    assert not Terminal.objects.filter(name="bad").exists()
    assert "読めません" in admin.get("/users/terminals/").content.decode()


def test_the_access_review_lists_every_active_account_and_offers_the_report(
        signed_in: SignedIn, make_user: MakeUser) -> None:
    make_user("", "inquirer", organisation="kosha")
    auditor = signed_in("auditor")
    page = auditor.get("/users/review/").content.decode()
    table = page.split('data-testid="review-table"', 1)[1]
    for user in User.objects.filter(disabled=False):
        assert f"<td>{user.username}</td>" in table
    assert "委託先" in table
    assert AuditRecord.objects.filter(event="access:review", outcome="viewed", username=auditor.username).exists()
    response = auditor.post("/users/review/report/", form="/users/review/")
    assert run_pending(all_kinds()) == 1
    task = Task.objects.get(pk=int(response["Location"].split("/")[2]))
    assert task.state == "done" and len(task.result["downloads"]) == 2, task.error
    links = re.findall(r'href="(/downloads/[^"]+/)"', auditor.get(response["Location"]).content.decode())
    report = b"".join(auditor.get(links[0]).streaming_content).decode("utf-8-sig")
    assert all(u in report for u in User.objects.values_list("username", flat=True))
    assert AuditRecord.objects.filter(event="access:review", outcome="ok", username=auditor.username).exists()


def test_the_access_review_report_as_a_pdf_lists_every_account_with_the_sign_off_box(
        signed_in: SignedIn, make_user: MakeUser) -> None:
    """ADR 0022: the same rows as the CSV, printable, the Japanese font embedded; flagged accounts marked."""
    from tests.reports_support import assert_japanese_font_embedded, flat, pdf_text

    make_user("", "inquirer", organisation="kosha")
    auditor = signed_in("auditor")
    response = auditor.post("/users/review/report/", {"format": "pdf"}, form="/users/review/")
    assert run_pending(all_kinds()) == 1
    task = Task.objects.get(pk=int(response["Location"].split("/")[2]))
    assert task.state == "done" and len(task.result["downloads"]) == 2, task.error
    page = auditor.get(response["Location"]).content.decode()
    links = dict(re.findall(r'href="(/downloads/[^"]+/)" data-testid="download">([^<]+)<', page))
    pdf_url = next(url for url, label in links.items() if label.startswith("アクセス権限確認（報告書 PDF）"))
    assert any(label.startswith("アクセス権限確認（CSV）") for label in links.values())
    data = b"".join(auditor.get(pdf_url).streaming_content)
    assert data.startswith(b"%PDF")
    assert_japanese_font_embedded(data)
    text = flat(pdf_text(data))
    assert "アクセス権限確認（年次）" in text and "確認者（所属・氏名）" in text and "監査担当" in text
    for user in User.objects.all():
        assert user.username in text and user.full_name.replace(" ", "") in text.replace(" ", "")
    assert "委託先" in text and "はい" in text  # the contractor's account, flagged
    assert AuditRecord.objects.filter(event="access:review", outcome="ok", username=auditor.username).exists()
