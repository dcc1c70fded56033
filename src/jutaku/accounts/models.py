"""Models of jutaku.accounts: users, role grants, terminals, sessions, login failures, approvals.

ADR 0007. Each invariant that the services enforce is also a named database constraint (AUTH-01
named accounts linked to a staff record, AUTHZ-06 requester ≠ approver). Other apps refer to users
by username (a string), never by foreign key.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import F, Q

from jutaku.accounts.naming import GENERIC_NAMES
from jutaku.accounts.permissions import Role
from jutaku.domain.jst import format_day, format_time


class Organisation(models.TextChoices):
    BUREAU = "bureau", "住宅政策本部"
    KOSHA = "kosha", "東京都住宅供給公社"
    SUBCONTRACTOR = "subcontractor", "委託先"
    VENDOR = "vendor", "運用保守事業者"


#: Organisations whose staff are contractors (flagged in the access review).
CONTRACTORS = frozenset({Organisation.KOSHA, Organisation.SUBCONTRACTOR, Organisation.VENDOR})


class UserManager(BaseUserManager):  # type: ignore[misc]
    def get_by_natural_key(self, username: str) -> User:
        return self.get(username=username)


class User(AbstractBaseUser):  # type: ignore[misc]
    """A named account of one person (職員 or 委託先従事者), linked to their staff record."""

    username = models.CharField(max_length=32, unique=True)
    full_name = models.CharField(max_length=100)  # 氏名 of the staff record
    staff_id = models.CharField(max_length=32)  # 職員番号 / 従事者番号
    organisation = models.CharField(max_length=16, choices=Organisation.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    disabled = models.BooleanField(default=False)
    demo = models.BooleanField(default=False)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    #: The password was set by an administrator (``users create``, ``users reset-password``): until the
    #: user sets their own, a session of theirs can do nothing but change it (issue 14 item 14).
    password_must_change = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    class Meta:
        db_table = "accounts_user"
        constraints = (
            models.CheckConstraint(condition=~Q(username__in=sorted(GENERIC_NAMES)), name="accounts_user_not_generic"),
            models.CheckConstraint(condition=~Q(full_name="") & ~Q(staff_id=""), name="accounts_user_staff_link"),
            models.CheckConstraint(condition=Q(organisation__in=Organisation.values), name="accounts_user_organisation"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="accounts_user_dates"),
            models.UniqueConstraint(fields=("organisation", "staff_id"), name="accounts_user_one_per_staff"),
        )

    def __str__(self) -> str:
        return self.username

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return not self.disabled

    @property
    def roles(self) -> list[str]:
        return sorted(g.role for g in self.role_grants.all())


class RoleGrant(models.Model):  # type: ignore[misc]
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=32, choices=[(r.value, r.value) for r in Role])
    granted_at = models.DateTimeField()
    granted_by = models.CharField(max_length=150)

    class Meta:
        db_table = "accounts_role_grant"
        constraints = (
            models.UniqueConstraint(fields=("user", "role"), name="accounts_role_grant_once"),
            models.CheckConstraint(condition=Q(role__in=[r.value for r in Role]), name="accounts_role_known"),
        )

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role}"


class Terminal(models.Model):  # type: ignore[misc]
    """A registered terminal: one address (``/32``, ``/128``) or a network (NET-01)."""

    name = models.CharField(max_length=64, unique=True)
    network = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        db_table = "accounts_terminal"
        constraints = (models.CheckConstraint(condition=~Q(network=""), name="accounts_terminal_network"),)

    def __str__(self) -> str:
        return f"{self.name} {self.network}"


class AuthSession(models.Model):  # type: ignore[misc]
    """A server-side session. Only the SHA-256 of the token is stored (AUTH-07)."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    kind = models.CharField(max_length=8, default="cli")
    terminal = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True, default="")
    #: Last step-up re-authentication (AUTH-09): password and a fresh TOTP code again.
    stepped_up_at = models.DateTimeField(null=True, blank=True)
    #: A CLI session is bound to the OS user and their login session as well as the address (ADR 0018):
    #: real uid, audit login uid (None when the kernel has none) and ``<line>:<pid>:<time>`` of the login
    #: record. Web sessions carry none of these.
    os_uid = models.IntegerField(null=True, blank=True)
    os_loginuid = models.BigIntegerField(null=True, blank=True)
    os_login = models.CharField(max_length=96, blank=True, default="")

    class Meta:
        db_table = "accounts_session"
        constraints = (
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="accounts_session_expiry"),
            models.CheckConstraint(
                condition=Q(os_uid__isnull=True, os_loginuid__isnull=True, os_login="")
                | Q(kind="cli", os_uid__isnull=False),
                name="accounts_session_os_binding"),
        )

    def __str__(self) -> str:
        return f"session {self.pk}"


class LoginFailure(models.Model):  # type: ignore[misc]
    """One failed sign-in from a terminal, for the per-terminal throttle (AUTH-04)."""

    terminal = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        db_table = "accounts_login_failure"
        indexes = (models.Index(fields=("terminal", "at"), name="accounts_login_failure_t"),)

    def __str__(self) -> str:
        return f"{self.terminal} {format_time(self.at)}"


class ApprovalState(models.TextChoices):
    PENDING = "pending", "承認待ち"
    APPROVED = "approved", "承認済み"
    REJECTED = "rejected", "却下"
    EXECUTED = "executed", "実行済み"


class Approval(models.Model):  # type: ignore[misc]
    """A request that a second person must approve before it runs (dual control, AUTHZ-06)."""

    kind = models.CharField(max_length=64)
    payload: Any = models.JSONField(default=dict)
    reason = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=ApprovalState.choices, default=ApprovalState.PENDING)
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_approval"
        constraints = (
            models.CheckConstraint(condition=~Q(decided_by=F("requested_by")), name="accounts_approval_two_people"),
            models.CheckConstraint(condition=Q(state__in=ApprovalState.values), name="accounts_approval_state"),
            models.CheckConstraint(condition=~Q(reason=""), name="accounts_approval_reason"),
        )

    def __str__(self) -> str:
        return f"approval {self.pk} {self.kind} {self.state}"


class Installation(models.Model):  # type: ignore[misc]
    """The installation window of this home (ADR 0015): one row, opened by ``jutaku init --admin``.

    While open, a ``security_admin`` grant needs no second approver (there is none yet). Closing is
    recorded here and on the audit trail, and the row's ``token`` is appended to a closure ledger outside
    the database, so that restoring a backup taken while the window was open does not reopen it. A
    database trigger (migration ``0003``) refuses any change to a closed row.
    """

    id = models.SmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32, unique=True)
    opened_at = models.DateTimeField()
    opened_by = models.CharField(max_length=150)
    deadline = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True, default="")
    close_reason = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        db_table = "accounts_installation"
        constraints = (
            models.CheckConstraint(condition=Q(id=1), name="accounts_installation_single_row"),
            models.CheckConstraint(condition=Q(deadline__gt=F("opened_at")), name="accounts_installation_deadline"),
            models.CheckConstraint(
                condition=(Q(closed_at__isnull=True, close_reason="", closed_by="")
                           | (Q(closed_at__isnull=False) & ~Q(close_reason="") & ~Q(closed_by=""))),
                name="accounts_installation_closed_whole"),
        )

    def __str__(self) -> str:
        return f"installation {format_day(self.opened_at)} {'closed' if self.closed_at else 'open'}"
