"""利用者管理 during the installation window of a new home (issue 14 item 1, ADR 0015): the screen shows the
window, creating the second security administrator there is granted at once and closes it, exactly as
`jutaku users create` does (same service); a supervisor still waits for approval. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from jutaku.accounts import installation
from jutaku.accounts.actor import Actor
from jutaku.accounts.bootstrap import create_first_admin
from jutaku.accounts.models import Approval, User
from tests.integration.web.conftest import PASSWORD, Browser, Made, sign_in
from tests.integration.web.test_users import new_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_admin(console: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Browser:
    monkeypatch.setattr(installation, "ledger_path", lambda: tmp_path / "ledger" / installation.LEDGER_NAME)
    today = timezone.localdate()
    created = create_first_admin("sato.k", PASSWORD, full_name="佐藤 健", staff_id="B1001", organisation="bureau",
                                 start_date=today, end_date=today + timedelta(days=365),
                                 actor=Actor("os:installer", "127.0.0.1"))
    made = Made(created.user, created.enrolment.secret)
    client = Client(enforce_csrf_checks=True)
    assert sign_in(client, made).status_code == 302
    return Browser(client, made)


def test_the_second_security_admin_created_on_the_screen_closes_the_window(first_admin: Browser) -> None:
    listed = first_admin.get("/users/").content.decode()
    assert 'data-testid="installation-window"' in listed and "設置期間中です" in listed
    assert "2人目のセキュリティ管理者を作成してください" in listed

    page = first_admin.post("/users/new/", new_user(username="kato.r", staff_id="B1002", full_name="加藤 涼子",
                                                    roles=["security_admin"]), form="/users/new/").content.decode()
    assert "設置期間中の付与: セキュリティ管理者 を二者承認なしで付与しました" in page and "設置期間は終了しました" in page
    assert User.objects.get(username="kato.r").roles == ["security_admin"]
    assert not Approval.objects.exists()

    listed = first_admin.get("/users/").content.decode()
    assert "設置期間: 終了" in listed and "2人目のセキュリティ管理者の付与" in listed and "設置期間中です" not in listed
    page = first_admin.post("/users/new/", new_user(username="takahashi.y", staff_id="B1101", full_name="高橋 洋子",
                                                    roles=["supervisor"]), form="/users/new/").content.decode()
    approval = Approval.objects.get(kind="role_grant", payload__username="takahashi.y")
    assert f"承認依頼 #{approval.pk}" in page and "設置期間中の付与" not in page


def test_a_supervisor_created_in_the_window_waits_for_the_second_admin(first_admin: Browser) -> None:
    page = first_admin.post("/users/new/", new_user(username="takahashi.y", staff_id="B1101", full_name="高橋 洋子",
                                                    roles=["supervisor"]), form="/users/new/").content.decode()
    assert "二者承認待ち" in page and "設置期間中の付与" not in page
    assert User.objects.get(username="takahashi.y").roles == []
    assert "設置期間中です" in first_admin.get("/users/").content.decode()
