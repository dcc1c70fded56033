"""The closed set of permissions and the one table that maps roles to them (AUTHZ-01, ADR 0007).

Every CLI command and every view declares exactly one :class:`Permission`; a user's permissions are
the union of their roles' rows in :data:`ROLE_PERMISSIONS`. Code never compares role names: it asks
``actor.can(Permission.X)``. Values may be added, never renamed (audit records and tests refer to them).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from types import MappingProxyType
from typing import Final


class Permission(enum.StrEnum):
    # Set-up and operation (no personal data)
    SYSTEM_INIT = "system:init"
    KEYS_ROTATE = "keys:rotate"
    JOBS_VIEW = "jobs:view"
    HEALTH_VIEW = "health:view"
    BACKUP_RUN = "backup:run"
    # Audit
    AUDIT_VERIFY = "audit:verify"
    AUDIT_SEARCH = "audit:search"
    AUDIT_REPORT = "audit:report"
    # Synthetic data (never touches the database)
    SIM_RUN = "sim:run"
    # Starting the web server and the task worker: system services started from the console (no session:
    # they outlive any; the web sessions they serve are the users' own)
    SERVICE_RUN = "service:run"
    # One's own session (sign in, sign out): every role
    SESSION_SELF = "session:self"
    # Changing one's own password (every role; the only thing a session can do while the password is one an
    # administrator set, until it is changed)
    PASSWORD_CHANGE = "password:change"  # noqa: S105 - a permission name
    # Accounts and access control (no personal data)
    USERS_MANAGE = "users:manage"
    TERMINALS_MANAGE = "terminals:manage"
    ACCESS_REVIEW = "access:review"
    APPROVALS_VIEW = "approvals:view"
    APPROVALS_DECIDE = "approvals:decide"
    # Statistics without identifying individuals
    STATS_VIEW = "stats:view"
    # The media ledger: file names, counts, users (no personal data)
    MEDIA_LEDGER_VIEW = "media:view"
    # Recording that a file was carried on a medium, and its erasure from the medium (no personal data)
    MEDIA_RECORD = "media:record"
    # The files the system wrote and their retention: names, users, expiry (no personal data)
    OUTPUTS_VIEW = "outputs:view"
    OUTPUTS_PURGE = "outputs:purge"
    # The legal allow-list (rules and their legal basis; no personal data)
    ALLOWLIST_VIEW = "allowlist:view"
    ALLOWLIST_LOAD = "allowlist:load"
    # Personal data
    REGISTRY_IMPORT = "registry:import"
    PERSONS_VIEW = "persons:view"
    REJECTIONS_VIEW = "rejections:view"
    NUMBERS_REGISTER = "numbers:register"
    NUMBERS_CHANGE = "numbers:change"
    NUMBERS_UNMASK = "numbers:unmask"
    NON_DISCLOSURE_SET = "non_disclosure:set"
    NON_DISCLOSURE_CLEAR = "non_disclosure:clear"  # request and approve (dual control) the clearing
    PERSON_STATUS_CORRECT = "person_status:correct"  # a supervisor corrects a death recorded from Juki-net
    LINKAGE_RUN = "linkage:run"
    INQUIRY_CREATE = "inquiry:create"
    INQUIRY_IMPORT = "inquiry:import"
    JUKI_CREATE = "juki:create"
    JUKI_IMPORT = "juki:import"
    EXPORT_BUSINESS = "export:business"
    EXPORT_APPROVE = "export:approve"
    DELETION_REQUEST = "deletion:request"
    DELETION_APPROVE = "deletion:approve"
    DELETION_RUN = "deletion:run"
    REQUESTS_HANDLE = "requests:handle"  # 開示・訂正・利用停止請求
    REQUESTS_APPROVE = "requests:approve"  # approving the lift of a use suspension (利用停止の解除, dual control)


class StepUp(enum.StrEnum):
    """The actions that need a fresh re-authentication (AUTH-09: password and a new TOTP code within
    ``JUTAKU_STEP_UP_MINUTES``) on **every** pathway that offers them (ADR 0012, ADR 0018). A CLI command
    (``clikit.requires``) and a web view (``web.access.requires``) declare the action they perform; the
    architecture test ``tests/architecture/test_step_up_declared.py`` holds both pathways to this list."""

    ROLE_CHANGE = "role_change"  # users roles
    APPROVAL_DECISION = "approval_decision"  # approve / reject: role grants, exports, bulk deletion, 不開示 clear, lifts
    DELETION_RUN = "deletion_run"  # carrying out an approved bulk deletion
    NUMBER_CHANGE = "number_change"  # replacing a registered My Number (CLI only)
    NUMBER_UNMASK = "number_unmask"  # showing a number in full (web only)
    STATUS_CORRECTION = "status_correction"  # replacing a death recorded from Juki-net


#: The permission each step-up action is declared with (a command or view of the action names it).
STEP_UP_PERMISSIONS: Final = MappingProxyType({
    StepUp.ROLE_CHANGE: Permission.USERS_MANAGE,
    StepUp.APPROVAL_DECISION: Permission.APPROVALS_DECIDE,
    StepUp.DELETION_RUN: Permission.DELETION_RUN,
    StepUp.NUMBER_CHANGE: Permission.NUMBERS_CHANGE,
    StepUp.NUMBER_UNMASK: Permission.NUMBERS_UNMASK,
    StepUp.STATUS_CORRECTION: Permission.PERSON_STATUS_CORRECT,
})


#: Permissions that give access to personal data; never granted to security_admin, auditor, operations.
PERSONAL_DATA: Final = frozenset({
    Permission.REGISTRY_IMPORT, Permission.PERSONS_VIEW, Permission.REJECTIONS_VIEW,
    Permission.NUMBERS_REGISTER, Permission.NUMBERS_CHANGE, Permission.NUMBERS_UNMASK,
    Permission.NON_DISCLOSURE_SET, Permission.NON_DISCLOSURE_CLEAR, Permission.PERSON_STATUS_CORRECT,
    Permission.LINKAGE_RUN, Permission.INQUIRY_CREATE,
    Permission.INQUIRY_IMPORT, Permission.JUKI_CREATE, Permission.JUKI_IMPORT,
    Permission.EXPORT_BUSINESS, Permission.EXPORT_APPROVE, Permission.DELETION_REQUEST,
    Permission.DELETION_APPROVE, Permission.DELETION_RUN, Permission.REQUESTS_HANDLE,
    Permission.REQUESTS_APPROVE,
})


class Role(enum.StrEnum):
    REGISTRAR = "registrar"  # 番号登録担当
    INQUIRER = "inquirer"  # 照会担当
    SUPERVISOR = "supervisor"  # 責任者
    SECURITY_ADMIN = "security_admin"  # セキュリティ管理者
    AUDITOR = "auditor"  # 監査担当
    OPERATIONS = "operations"  # 運用保守


ROLE_LABELS: Final = MappingProxyType({
    Role.REGISTRAR: "番号登録担当", Role.INQUIRER: "照会担当", Role.SUPERVISOR: "責任者",
    Role.SECURITY_ADMIN: "セキュリティ管理者", Role.AUDITOR: "監査担当", Role.OPERATIONS: "運用保守",
})

_P = Permission
_COMMON: Final = frozenset({_P.SESSION_SELF, _P.PASSWORD_CHANGE})

#: What a session may do while its user's password is still the one an administrator set (``users create``,
#: ``users reset-password``): change it, or sign out. Everything else is refused until it is changed.
FIRST_SIGN_IN: Final = frozenset({_P.SESSION_SELF, _P.PASSWORD_CHANGE})

#: THE table. System set-up (SYSTEM_INIT) and the simulator (SIM_RUN) belong to no role: they run
#: without a session on a home that has no users yet, or on no database at all; nor do the services
#: (SERVICE_RUN: `jutaku serve`, `jutaku worker`), started from a registered console by the system.
ROLE_PERMISSIONS: Final = MappingProxyType({
    Role.REGISTRAR: _COMMON | {
        _P.REGISTRY_IMPORT, _P.PERSONS_VIEW, _P.REJECTIONS_VIEW, _P.NUMBERS_REGISTER, _P.NON_DISCLOSURE_SET,
        _P.DELETION_REQUEST, _P.DELETION_RUN, _P.REQUESTS_HANDLE, _P.JOBS_VIEW, _P.MEDIA_LEDGER_VIEW,
        _P.APPROVALS_VIEW, _P.ALLOWLIST_VIEW, _P.MEDIA_RECORD, _P.OUTPUTS_VIEW, _P.OUTPUTS_PURGE,
    },
    Role.INQUIRER: _COMMON | {
        _P.PERSONS_VIEW, _P.REJECTIONS_VIEW, _P.LINKAGE_RUN, _P.INQUIRY_CREATE, _P.INQUIRY_IMPORT,
        _P.JUKI_CREATE, _P.JUKI_IMPORT, _P.EXPORT_BUSINESS, _P.JOBS_VIEW, _P.MEDIA_LEDGER_VIEW,
        _P.APPROVALS_VIEW, _P.ALLOWLIST_VIEW, _P.MEDIA_RECORD, _P.OUTPUTS_VIEW, _P.OUTPUTS_PURGE,
    },
    Role.SUPERVISOR: _COMMON | {
        _P.PERSONS_VIEW, _P.NUMBERS_CHANGE, _P.NUMBERS_UNMASK, _P.NON_DISCLOSURE_SET, _P.NON_DISCLOSURE_CLEAR,
        _P.PERSON_STATUS_CORRECT, _P.EXPORT_APPROVE, _P.DELETION_APPROVE, _P.REQUESTS_APPROVE,
        _P.STATS_VIEW, _P.APPROVALS_VIEW, _P.APPROVALS_DECIDE, _P.JOBS_VIEW, _P.MEDIA_LEDGER_VIEW,
        _P.ALLOWLIST_VIEW, _P.ALLOWLIST_LOAD, _P.MEDIA_RECORD, _P.OUTPUTS_VIEW, _P.OUTPUTS_PURGE,
    },
    Role.SECURITY_ADMIN: _COMMON | {
        _P.USERS_MANAGE, _P.TERMINALS_MANAGE, _P.ACCESS_REVIEW, _P.APPROVALS_VIEW, _P.APPROVALS_DECIDE,
    },
    Role.AUDITOR: _COMMON | {
        _P.AUDIT_VERIFY, _P.AUDIT_SEARCH, _P.AUDIT_REPORT, _P.ACCESS_REVIEW, _P.JOBS_VIEW,
        _P.MEDIA_LEDGER_VIEW, _P.STATS_VIEW, _P.ALLOWLIST_VIEW, _P.OUTPUTS_VIEW,
    },
    Role.OPERATIONS: _COMMON | {_P.KEYS_ROTATE, _P.BACKUP_RUN, _P.HEALTH_VIEW, _P.JOBS_VIEW, _P.OUTPUTS_VIEW,
                                _P.OUTPUTS_PURGE},
})

#: Roles that must be held alone (separation of duties, AUTHZ-06): application admin, audit admin and
#: key custodian are different people, and none of them also handles personal data.
EXCLUSIVE_ROLES: Final = frozenset({Role.SECURITY_ADMIN, Role.AUDITOR, Role.OPERATIONS})

#: Granting one of these needs a second security_admin's approval (dual control, AUTHZ-06).
DUAL_CONTROL_ROLES: Final = frozenset({Role.SECURITY_ADMIN, Role.SUPERVISOR})


def permissions_of(roles: Iterable[str]) -> frozenset[Permission]:
    """The union of the permissions of ``roles`` (unknown role names grant nothing)."""
    granted: set[Permission] = set()
    for name in roles:
        try:
            granted |= ROLE_PERMISSIONS[Role(name)]
        except ValueError:
            continue
    return frozenset(granted)


def reachable() -> frozenset[Permission]:
    """Every permission some role holds."""
    return permissions_of(Role)


def holders(permissions: Iterable[Permission]) -> tuple[Role, ...]:
    """The roles (in :class:`Role` order) that hold any of ``permissions``."""
    wanted = frozenset(permissions)
    return tuple(role for role in Role if ROLE_PERMISSIONS[role] & wanted)


def _roles(names: Iterable[str]) -> tuple[Role, ...]:
    held = set(names)
    return tuple(role for role in Role if role.value in held)


def refusal_text(required: Permission | Iterable[Permission], held: Iterable[str] = (), *,
                 what: str = "この操作") -> str:
    """THE message of a refusal for want of a permission (every CLI command, screen and service; ADR 0028):
    which roles hold it, in Japanese, the user's own roles and whom to ask — a security administrator
    grants roles, except where separation of duties forbids holding both (:data:`EXCLUSIVE_ROLES`): then
    the work is for someone who holds the role."""
    needed = holders((required,) if isinstance(required, Permission) else required)
    mine = _roles(held)
    own = "・".join(ROLE_LABELS[r] for r in mine) or "なし"
    if not needed:
        return f"{what}はどのロールにも割り当てられていません（システムの操作です）。あなたのロール: {own}。"
    names = "・".join(ROLE_LABELS[r] for r in needed)
    which = f"「{names}」のいずれかの" if len(needed) > 1 else f"「{names}」の"
    text = f"{what}には{which}ロールが必要です（あなたのロール: {own}）。"
    exclusive = [r for r in mine if r in EXCLUSIVE_ROLES]
    if exclusive:
        alone = "・".join(ROLE_LABELS[r] for r in exclusive)
        return text + f"{alone}は他のロールと兼務できないため（職務の分離）、{names}の職員に依頼してください。"
    if all(r in EXCLUSIVE_ROLES for r in needed) and mine:
        return text + f"{names}は他のロールと兼務できないため（職務の分離）、{names}の職員に依頼してください。"
    return text + "必要な場合は、セキュリティ管理者にロールの付与を依頼してください。"
