"""Sessions (AUTH-07), account lifecycle (AUTH-01, AUTH-10), dual control (AUTHZ-06), terminals (NET-01)
and the access review, through the services every pathway uses."""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from jutaku.accounts import approvals, auth, sessions, terminals
from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.errors import AccessDenied, AccountsError
from jutaku.accounts.models import Approval, AuthSession, User
from jutaku.accounts.naming import GENERIC_NAMES
from jutaku.accounts.permissions import Permission, permissions_of
from jutaku.accounts.review import write_review
from jutaku.accounts.users import disable, set_roles
from jutaku.audit.models import AuditRecord
from tests.integration.accounts.conftest import Made, MakeUser

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def open_for(made: Made) -> str:
    return auth.login(made.user.username, made.password, made.code(), terminal="127.0.0.1", production=True).token


def resolve(token: str):
    return sessions.resolve(token, terminal="127.0.0.1", production=True)


def admin_actor(made: Made) -> Actor:
    return sessions.actor_for(made.user, "127.0.0.1")


def test_sessions_end_after_the_idle_timeout(make_user: MakeUser, settings) -> None:
    token = open_for(make_user())
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=settings.JUTAKU_SESSION_IDLE_MINUTES - 1), tick=False):
        resolve(token)
    with (time_machine.travel(start + timedelta(minutes=2 * settings.JUTAKU_SESSION_IDLE_MINUTES), tick=False),
          pytest.raises(sessions.NoSession) as dead):
        resolve(token)
    assert dead.value.reason == "idle_timeout"
    assert AuthSession.objects.get().revoked_reason == "idle_timeout"
    with pytest.raises(sessions.NoSession):
        resolve(token)


def test_sessions_end_at_the_absolute_timeout_even_when_used(make_user: MakeUser, settings) -> None:
    token = open_for(make_user())
    start = timezone.now()
    for minutes in range(20, settings.JUTAKU_SESSION_ABSOLUTE_HOURS * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            resolve(token)
    with (time_machine.travel(start + timedelta(hours=settings.JUTAKU_SESSION_ABSOLUTE_HOURS, minutes=1), tick=False),
          pytest.raises(sessions.NoSession) as dead):
        resolve(token)
    assert dead.value.reason == "absolute_timeout"


def test_an_expired_user_is_refused_and_their_live_session_killed(make_user: MakeUser) -> None:
    day = timezone.localdate()
    made = make_user("", "registrar", end=day)
    with time_machine.travel(datetime.combine(day, time(23, 50), JST), tick=False):
        token = open_for(made)
    with time_machine.travel(datetime.combine(day + timedelta(days=1), time(0, 5), JST), tick=False):
        with pytest.raises(sessions.NoSession) as dead:
            resolve(token)
        assert dead.value.reason == "expired"
        with pytest.raises(auth.AuthFailed):
            open_for(made)
    assert AuthSession.objects.get().revoked_at is not None
    assert AuditRecord.objects.filter(event="auth:session_end", outcome="expired").count() == 1


def test_disabling_a_user_kills_their_sessions_at_once(make_user: MakeUser) -> None:
    made = make_user()
    token = open_for(made)
    disable(made.user.username, actor=SYSTEM, reason="退職")
    with pytest.raises(sessions.NoSession):
        resolve(token)
    record = AuditRecord.objects.filter(event="user:disable").get()
    assert "disabled=False" in record.detail and "disabled=True" in record.detail  # before / after


def test_logout_revokes_the_session_and_a_new_login_gets_a_new_token(make_user: MakeUser) -> None:
    made = make_user()
    with time_machine.travel(timezone.now(), tick=False):
        first = open_for(made)
    assert sessions.revoke(first, actor=Actor(made.user.username, "127.0.0.1"))
    with pytest.raises(sessions.NoSession):
        resolve(first)
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        second = open_for(made)
    assert second != first and resolve(second).username == made.user.username


def test_a_session_is_bound_to_its_terminal(make_user: MakeUser) -> None:
    token = open_for(make_user())
    with pytest.raises(sessions.NoSession):
        sessions.resolve(token, terminal="127.0.0.2", production=True)


def test_role_changes_take_effect_on_the_next_use(make_user: MakeUser) -> None:
    admin = make_user("", "security_admin")
    clerk = make_user("", "registrar")
    token = open_for(clerk)
    assert resolve(token).can(Permission.NUMBERS_REGISTER)
    set_roles(clerk.user.username, ["inquirer"], actor=admin_actor(admin), reason="異動")
    actor = resolve(token)
    assert not actor.can(Permission.NUMBERS_REGISTER) and actor.can(Permission.INQUIRY_CREATE)


def test_named_accounts_only(make_user: MakeUser) -> None:
    for name in ("admin", "root", "test01", "operator", "guest", "user.1", "Tanaka", "ab"):
        with pytest.raises(AccountsError):
            make_user(name)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="admin", full_name="x", staff_id="1", organisation="bureau",
                            start_date=timezone.localdate(), end_date=timezone.localdate(), created_at=timezone.now(),
                            created_by="t")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="kato.r", full_name="", staff_id="", organisation="bureau",
                            start_date=timezone.localdate(), end_date=timezone.localdate(), created_at=timezone.now(),
                            created_by="t")


def test_auth01_no_active_account_is_generic_or_unlinked(make_user: MakeUser) -> None:
    """The DB invariant of AUTH-01, as an auditor would run it."""
    from jutaku import config
    from jutaku.accounts.demo import create_demo_users

    create_demo_users(config.load({"JUTAKU_MODE": "demo", "JUTAKU_HOME": str(config.get().home)}))  # a new home
    make_user("", "registrar")
    bad = User.objects.filter(disabled=False).filter(
        username__in=GENERIC_NAMES) | User.objects.filter(disabled=False, full_name="") | User.objects.filter(
        disabled=False, staff_id="")
    assert bad.count() == 0 and User.objects.count() == 8


def test_demo_users_are_refused_in_production() -> None:
    from jutaku import config
    from jutaku.accounts.demo import create_demo_users

    with pytest.raises(AccountsError):
        create_demo_users(config.load({"JUTAKU_MODE": "production", "JUTAKU_HOME": "/nonexistent"}))


@pytest.mark.parametrize("roles", [("security_admin", "registrar"), ("auditor", "operations"), ("operations", "inquirer")])
def test_separated_duties_cannot_be_combined(make_user: MakeUser, roles: tuple[str, ...]) -> None:
    with pytest.raises(AccountsError):
        make_user("", *roles)


def test_vendor_staff_get_only_operations(make_user: MakeUser) -> None:
    with pytest.raises(AccountsError):
        make_user("", "registrar", organisation="vendor")
    make_user("", "operations", organisation="vendor")


def test_granting_supervisor_needs_a_second_security_admin(make_user: MakeUser) -> None:
    first, second = make_user("", "security_admin"), make_user("", "security_admin")
    clerk = make_user("", "registrar")
    request = set_roles(clerk.user.username, ["registrar", "supervisor"], actor=admin_actor(first), reason="昇任")
    assert request is not None and clerk.user.roles == ["registrar"]
    with pytest.raises(approvals.ApprovalError):
        approvals.approve(request.pk, actor=admin_actor(first))  # self-approval
    with pytest.raises(AccessDenied):
        approvals.approve(request.pk, actor=sessions.actor_for(clerk.user, "127.0.0.1"))
    approvals.approve(request.pk, actor=admin_actor(second))
    assert sorted(clerk.user.roles) == ["registrar", "supervisor"]
    request.refresh_from_db()
    assert (request.state, request.requested_by, request.decided_by) == (
        "executed", first.user.username, second.user.username)
    granted = AuditRecord.objects.filter(event="user:roles").latest("seq")
    assert first.user.username in granted.detail and granted.username == second.user.username


def test_the_database_refuses_a_self_approved_row() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(kind="role_grant", reason="x", requested_by="kato.r", decided_by="kato.r",
                                requested_at=timezone.now())


def test_a_rejected_request_cannot_be_approved(make_user: MakeUser) -> None:
    first, second = make_user("", "security_admin"), make_user("", "security_admin")
    clerk = make_user("", "registrar")
    request = set_roles(clerk.user.username, ["supervisor"], actor=admin_actor(first), reason="昇任")
    assert request is not None
    approvals.reject(request.pk, actor=admin_actor(second))
    with pytest.raises(approvals.ApprovalError):
        approvals.approve(request.pk, actor=admin_actor(second))
    assert clerk.user.roles == ["supervisor"] or clerk.user.roles == []  # registrar removed, supervisor not granted
    assert "supervisor" not in clerk.user.roles


def test_terminals_allow_addresses_and_networks_and_are_audited(console: None) -> None:
    admin = Actor("sato.k", "127.0.0.1", permissions_of(["security_admin"]))
    terminals.add("kanri-lan", "10.1.2.0/24", actor=admin)
    assert terminals.is_allowed("10.1.2.77") and not terminals.is_allowed("10.1.3.1")
    assert terminals.is_allowed("::1") and terminals.is_allowed("127.0.0.1")
    terminals.remove("kanri-lan", actor=admin)
    assert not terminals.is_allowed("10.1.2.77")
    assert AuditRecord.objects.filter(event__in=["terminal:add", "terminal:remove"]).count() == 4
    with pytest.raises(AccessDenied):
        terminals.add("x", "10.0.0.1", actor=Actor("ito.s", "127.0.0.1", permissions_of(["auditor"])))


def test_the_access_review_lists_every_account_and_flags_idle_expired_and_contractors(make_user: MakeUser,
                                                                                      tmp_path) -> None:
    active = make_user("", "registrar")
    open_for(active)
    make_user("", "inquirer", organisation="kosha")
    old = make_user("", "auditor")
    User.objects.filter(pk=old.user.pk).update(created_at=timezone.now() - timedelta(days=120))
    gone = make_user("", "registrar")
    User.objects.filter(pk=gone.user.pk).update(start_date=timezone.localdate() - timedelta(days=60),
                                                end_date=timezone.localdate() - timedelta(days=1))
    reviewer = Actor("ito.s", "127.0.0.1", permissions_of(["auditor"]))
    result = write_review(tmp_path / "review.csv", tmp_path / "review.html", actor=reviewer)
    with (tmp_path / "review.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["利用者"]: r for r in csv.DictReader(fh)}
    assert result.rows == len(rows) == 4
    assert rows[active.user.username]["要確認"] == "" and rows[active.user.username]["最終サインイン"] != "なし"
    assert "委託先" in next(r for r in rows.values() if r["所属"] == "東京都住宅供給公社")["要確認"]
    assert "90日超未使用" in rows[old.user.username]["要確認"]
    assert "終了日経過" in rows[gone.user.username]["要確認"]
    html = (tmp_path / "review.html").read_text(encoding="utf-8")
    assert "アクセス権限確認" in html and old.user.username in html and "確認者" in html
    assert AuditRecord.objects.filter(event="access:review").count() == 1
