"""The installation window of a new home (issue 14 item 1, ADR 0015; AUTHZ-06), through the accounts services
the CLI and the web screens call, on SQLite and PostgreSQL: it admits the second security administrator
and nothing else, closes itself (second administrator or deadline), is audited, cannot be reopened by an
UPDATE, and stays closed when a restored database says it was open (the closure ledger)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from jutaku.accounts import installation
from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.approvals import ApprovalError, approve
from jutaku.accounts.auth import change_password
from jutaku.accounts.bootstrap import create_first_admin
from jutaku.accounts.errors import AccessDenied, AccountsError
from jutaku.accounts.models import Approval, Installation, RoleGrant, User
from jutaku.accounts.sessions import actor_for
from jutaku.accounts.users import Created, NewUser, create_user, disable, set_roles
from jutaku.audit.models import AuditRecord
from jutaku.domain.installation import WindowState
from tests.integration.accounts.conftest import PASSWORD, MakeUser

pytestmark = pytest.mark.django_db
INSTALLER = Actor("os:installer", "127.0.0.1")
Commit = Callable[..., Any]


@pytest.fixture(autouse=True)
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own closure ledger (the home's is shared by the whole test run)."""
    path = tmp_path / "ledger" / installation.LEDGER_NAME
    monkeypatch.setattr(installation, "ledger_path", lambda: path)
    return path


def first_admin(days: int = 14) -> Actor:
    today = timezone.localdate()
    created = create_first_admin("sato.k", PASSWORD, full_name="佐藤 健", staff_id="B1001", organisation="bureau",
                                 start_date=today, end_date=today + timedelta(days=365), actor=INSTALLER,
                                 window_days=days)
    return actor_for(created.user, "127.0.0.1")


def new(username: str, role: str, staff_id: str) -> NewUser:
    today = timezone.localdate()
    return NewUser(username=username, full_name=f"試験 {staff_id}", staff_id=staff_id, organisation="bureau",
                   start_date=today, end_date=today + timedelta(days=365), roles=(role,))


def events(name: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(event=name).order_by("seq"))


def window_state() -> WindowState:
    return installation.status(actor=SYSTEM).state


def test_init_opens_the_window_and_the_second_security_admin_closes_it(
        console: None, django_capture_on_commit_callbacks: Commit, ledger: Path) -> None:
    sato = first_admin()
    assert window_state() is WindowState.OPEN and [e.username for e in events("install:open")] == ["os:installer"]
    with django_capture_on_commit_callbacks(execute=True):
        second = create_user(new("kato.r", "security_admin", "B1002"), PASSWORD, actor=sato)
    assert second.installed == ("security_admin",) and second.window_closed and second.approval is None
    assert User.objects.get(username="kato.r").roles == ["security_admin"]
    status = installation.status(actor=SYSTEM)
    assert status.state is WindowState.CLOSED and status.close_reason == "second_admin" and status.admins == 2
    assert status.reason_label == "2人目のセキュリティ管理者の付与" and status.closed_by == "sato.k"
    grants = events("install:grant")
    assert [(g.username, g.detail) for g in grants][-1] == (
        "sato.k", '{"role":"security_admin","security_admins":2,"username":"kato.r"}')
    assert len(grants) == 2 and len(events("install:close")) == 1  # sato.k at init, kato.r
    assert Installation.objects.get().token in ledger.read_text(encoding="utf-8")
    assert oct(ledger.stat().st_mode & 0o777) == "0o600"

    third = create_user(new("ota.h", "security_admin", "B1003"), PASSWORD, actor=sato)
    assert third.installed == () and third.approval is not None and not third.window_closed
    assert User.objects.get(username="ota.h").roles == []


def test_a_supervisor_always_waits_for_the_second_security_admin(console: None) -> None:
    sato = first_admin()
    asked = create_user(new("takahashi.y", "supervisor", "B1101"), PASSWORD, actor=sato)
    assert asked.installed == () and asked.approval is not None and window_state() is WindowState.OPEN
    with pytest.raises(ApprovalError):
        approve(asked.approval.pk, actor=sato)  # nobody approves their own request, window or not
    created = create_user(new("kato.r", "security_admin", "B1002"), PASSWORD, actor=sato)
    change_password("kato.r", PASSWORD, "kato's own synthetic passphrase", terminal="127.0.0.1",
                    production=False)  # the first sign-in: sato.k set the password, kato.r sets their own
    created.user.refresh_from_db()
    approve(asked.approval.pk, actor=actor_for(created.user, "127.0.0.1"))
    assert RoleGrant.objects.get(user__username="takahashi.y").granted_by == "sato.k"
    assert Approval.objects.get(pk=asked.approval.pk).decided_by == "kato.r"


def test_the_deadline_closes_the_window_and_the_next_grant_records_it(console: None) -> None:
    sato = first_admin(days=1)
    past = timezone.now() - timedelta(days=3)
    Installation.objects.filter(pk=1).update(opened_at=past, deadline=past + timedelta(days=1))
    assert window_state() is WindowState.CLOSED
    late = create_user(new("kato.r", "security_admin", "B1002"), PASSWORD, actor=sato)
    assert late.installed == () and late.approval is not None  # the home needs a new installation now
    [closed] = events("install:close")
    assert '"reason":"deadline"' in closed.detail
    assert Installation.objects.get().close_reason == "deadline"


def test_roles_changed_in_the_window_follow_the_same_rule(console: None, make_user: MakeUser) -> None:
    sato = first_admin()
    clerk = make_user("tanaka.h", "registrar")
    assert set_roles(clerk.user.username, ["security_admin"], actor=sato, reason="配置換え") is None
    assert User.objects.get(username="tanaka.h").roles == ["security_admin"]
    assert window_state() is WindowState.CLOSED
    assert set_roles("tanaka.h", ["registrar"], actor=sato, reason="戻す") is None  # removal: at once
    assert set_roles("tanaka.h", ["security_admin"], actor=sato, reason="再度") is not None  # now dual control


def test_disabling_the_second_security_admin_does_not_reopen_the_window(console: None) -> None:
    sato = first_admin()
    create_user(new("kato.r", "security_admin", "B1002"), PASSWORD, actor=sato)
    disable("kato.r", actor=sato, reason="退職")
    assert installation.status(actor=SYSTEM).admins == 1 and window_state() is WindowState.CLOSED
    again = create_user(new("ota.h", "security_admin", "B1003"), PASSWORD, actor=sato)
    assert again.installed == () and again.approval is not None


def test_the_database_refuses_to_reopen_a_closed_window(console: None) -> None:
    sato = first_admin()
    create_user(new("kato.r", "security_admin", "B1002"), PASSWORD, actor=sato)
    with pytest.raises(DatabaseError), transaction.atomic():
        Installation.objects.filter(pk=1).update(closed_at=None, closed_by="", close_reason="")
    with pytest.raises(DatabaseError), transaction.atomic():
        Installation.objects.filter(pk=1).update(deadline=timezone.now() + timedelta(days=30))
    assert Installation.objects.get().closed_at is not None


def test_a_restored_database_whose_window_was_open_stays_closed_by_the_ledger(
        console: None, django_capture_on_commit_callbacks: Commit, ledger: Path) -> None:
    sato = first_admin()
    with django_capture_on_commit_callbacks(execute=True):
        create_user(new("kato.r", "security_admin", "B1002"), PASSWORD, actor=sato)
    # What a backup taken before kato.r existed holds: the same window, open, and one security administrator.
    row = Installation.objects.get()
    Installation.objects.all().delete()
    Installation.objects.create(token=row.token, opened_at=row.opened_at, opened_by=row.opened_by,
                                deadline=row.deadline)
    RoleGrant.objects.filter(user__username="kato.r").delete()
    status = installation.status(actor=SYSTEM)
    assert status.state is WindowState.CLOSED and status.latched and "閉鎖台帳" in status.reason_label
    again = create_user(new("ota.h", "security_admin", "B1003"), PASSWORD, actor=sato)
    assert again.installed == () and again.approval is not None


def test_an_unreadable_closure_ledger_closes_the_window(console: None, ledger: Path) -> None:
    first_admin()
    ledger.parent.mkdir(parents=True)
    ledger.write_text("not json\n", encoding="utf-8")
    assert window_state() is WindowState.CLOSED


def test_init_refuses_a_second_start_and_a_window_out_of_bounds(console: None) -> None:
    for days in (0, 31):
        with pytest.raises(AccountsError, match="設置期間は1日から"):
            first_admin(days=days)
    assert not User.objects.exists() and not Installation.objects.exists()  # nothing half-made
    first_admin()
    with pytest.raises(AccountsError, match="利用者が既にいます"):
        first_admin()
    with pytest.raises(AccountsError, match="既に開始"), transaction.atomic():
        installation.open_window(actor=SYSTEM)
    assert Installation.objects.count() == 1 and len(events("install:open")) == 1


def test_the_state_is_shown_to_security_admins_and_auditors_only(console: None) -> None:
    first_admin()
    registrar = Actor("yamada.t", "127.0.0.1", frozenset())
    with pytest.raises(AccessDenied):
        installation.status(actor=registrar)
    assert installation.status(actor=SYSTEM).deadline is not None


def test_a_home_without_a_window_admits_nothing(make_user: MakeUser) -> None:
    admin = actor_for(make_user("sato.k", "security_admin").user, "127.0.0.1")  # a home from before ADR 0015
    assert installation.status(actor=SYSTEM).state is WindowState.NONE
    asked: Created = create_user(new("kato.r", "security_admin", "B1002"), PASSWORD, actor=admin)
    assert asked.installed == () and asked.approval is not None


def test_the_demo_users_are_made_through_the_window(console: None) -> None:
    from jutaku import config
    from jutaku.accounts.demo import create_demo_users

    actors = create_demo_users(config.load({"JUTAKU_MODE": "demo", "JUTAKU_HOME": str(config.get().home)}))
    assert actors["security_admin"].username == "sato.k"
    status = installation.status(actor=SYSTEM)
    assert status.state is WindowState.CLOSED and status.close_reason == "second_admin" and status.admins == 2
    [grant] = Approval.objects.filter(kind="role_grant")
    assert (grant.requested_by, grant.decided_by, grant.state) == ("sato.k", "kato.r", "executed")
    assert User.objects.get(username="takahashi.y").roles == ["supervisor"]
