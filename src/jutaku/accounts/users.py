"""Account lifecycle (AUTH-01, AUTH-10, AUTHZ-06): create, disable, enable, roles, MFA reset, unlock, password
reset.

Every change is one transaction with its audit record (before/after in ``detail``). Disabling or
locking ends the account's sessions at once; role changes take effect on the next command because
permissions are read from the database for every command. Granting security_admin or supervisor
goes through dual control (:mod:`.approvals`, kind ``role_grant``), except the one grant the
installation window of a new home admits: the second security_admin (:mod:`.installation`, ADR 0015).
A password an administrator sets (a new account's, a reset one) must be changed by its user at the first
sign-in (``password_must_change``; :func:`jutaku.accounts.auth.change_password`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from jutaku.accounts import approvals, installation, passwords, sessions, totp
from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import AccountsError, require
from jutaku.accounts.models import Approval, Organisation, RoleGrant, User
from jutaku.accounts.naming import InvalidUsername, check_username
from jutaku.accounts.permissions import DUAL_CONTROL_ROLES, EXCLUSIVE_ROLES, ROLE_LABELS, Permission, Role
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text

ROLE_GRANT = "role_grant"


@dataclass(frozen=True)
class NewUser:
    username: str
    full_name: str
    staff_id: str
    organisation: str
    start_date: date
    end_date: date
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Created:
    user: User
    enrolment: totp.Enrolment
    approval: Approval | None  # the pending grant of dual-control roles, if any
    installed: tuple[str, ...] = ()  # dual-control roles the installation window granted at once
    window_closed: bool = False  # this creation closed the installation window


def check_roles(roles: Iterable[str], organisation: str) -> tuple[str, ...]:
    """Known roles, at least one, exclusive roles alone, vendor staff only ``operations``."""
    try:
        chosen = sorted({Role(r) for r in roles})
    except ValueError as exc:
        raise AccountsError(f"不明な役割です: {exc}") from None
    if not chosen:
        raise AccountsError("役割を1つ以上指定してください")
    if len(chosen) > 1 and EXCLUSIVE_ROLES & set(chosen):
        raise AccountsError("security_admin・auditor・operations は他の役割と兼務できません（職務分離）")
    if organisation == Organisation.VENDOR and chosen != [Role.OPERATIONS]:
        raise AccountsError("運用保守事業者の利用者には operations 以外の役割を付けられません")
    return tuple(r.value for r in chosen)


def _check_new(new: NewUser) -> None:
    try:
        check_username(new.username)
    except InvalidUsername as exc:
        raise AccountsError(str(exc)) from None
    if new.organisation not in Organisation.values:
        raise AccountsError(f"所属は {', '.join(Organisation.values)} のいずれかです")
    if not new.full_name.strip() or not new.staff_id.strip():
        raise AccountsError("氏名と職員番号（委託先は従事者番号）は必須です")
    free_text.check(new.full_name, "氏名", AccountsError)
    free_text.check(new.staff_id, "職員番号", AccountsError)
    if new.end_date < new.start_date:
        raise AccountsError("終了日は開始日以降にしてください")
    check_roles(new.roles, new.organisation)
    if User.objects.filter(username=new.username).exists():
        raise AccountsError(f"利用者 {new.username} は既にあります")


def create_user(new: NewUser, password: str, *, actor: Actor, reason: str = "新規利用者",
                dual_control: bool = True, demo: bool = False, must_change_password: bool = True) -> Created:
    """Create a named account with its TOTP device; dual-control roles become an approval request,
    unless the installation window admits them (the second security_admin of a new home). The initial
    password is the administrator's: the user changes it at the first sign-in.

    ``dual_control=False`` only for test and benchmark factories (never reached from the CLI or web);
    ``must_change_password=False`` only where the person typed their own password (``jutaku init --admin``)
    and for those factories.
    """
    require(actor, Permission.USERS_MANAGE)
    _check_new(new)
    free_text.check(reason, "理由", AccountsError)
    probe = User(username=new.username, full_name=new.full_name, staff_id=new.staff_id)
    try:
        passwords.validate(password, probe)
    except passwords.WeakPassword as exc:
        raise AccountsError(" ".join(exc.messages)) from None
    roles = check_roles(new.roles, new.organisation)
    with transaction.atomic():
        now = timezone.now()
        window = installation.lock(actor=actor, now=now)
        installed = installation.admitted(window, roles, now=now) if dual_control else []
        direct = [r for r in roles if not dual_control or r not in DUAL_CONTROL_ROLES or r in installed]
        deferred = [r for r in roles if r not in direct]
        user = User(username=new.username, full_name=new.full_name.strip(), staff_id=new.staff_id.strip(),
                    organisation=new.organisation, start_date=new.start_date, end_date=new.end_date, demo=demo,
                    password_must_change=must_change_password, created_at=now, created_by=actor.username)
        user.password = passwords.hash_password(password)
        user.save()
        _grant(user, direct, actor)
        enrolment = totp.enrol(user)
        record(AuditEvent.USER_CREATE, actor=actor, objects=[f"user:{user.pk}"],
               detail={"username": user.username, "organisation": user.organisation, "roles": ",".join(direct),
                       "start_date": str(new.start_date), "end_date": str(new.end_date), "demo": demo,
                       "password_must_change": must_change_password})
        closed = installation.granted(window, user.username, user.pk, installed, actor=actor, now=now)
        approval = (approvals.request_approval(ROLE_GRANT, {"username": user.username, "add": deferred},
                                               actor=actor, reason=reason) if deferred else None)
    return Created(user=user, enrolment=enrolment, approval=approval, installed=tuple(installed),
                   window_closed=closed)


def _grant(user: User, roles: Iterable[str], actor: Actor) -> None:
    now = timezone.now()
    for role in roles:
        RoleGrant.objects.get_or_create(user=user, role=role, defaults={"granted_at": now, "granted_by": actor.username})


def _locked_user(username: str) -> User:
    free_text.check(username, "利用者名", AccountsError)  # the refusal below names the user
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        raise AccountsError(f"利用者 {username} はありません")
    return user


def _state(user: User) -> str:
    return (f"roles={','.join(user.roles)} disabled={user.disabled} locked={user.locked_at is not None} "
            f"end_date={user.end_date}")


def set_roles(username: str, roles: Iterable[str], *, actor: Actor, reason: str) -> Approval | None:
    """Set the user's roles: removals and ordinary grants now; dual-control grants as a request, unless
    the installation window admits them."""
    require(actor, Permission.USERS_MANAGE)
    free_text.check(reason, "理由", AccountsError)
    with transaction.atomic():
        now = timezone.now()
        window = installation.lock(actor=actor, now=now)
        user = _locked_user(username)
        wanted = set(check_roles(roles, user.organisation))
        before = _state(user)
        current = set(user.roles)
        RoleGrant.objects.filter(user=user, role__in=current - wanted).delete()
        installed = installation.admitted(window, sorted(wanted - current), now=now)
        add_now = {r for r in wanted - current if r not in DUAL_CONTROL_ROLES or r in installed}
        deferred = sorted(r for r in wanted - current if r not in add_now)
        _grant(user, add_now, actor)
        record(AuditEvent.USER_ROLES, actor=actor, objects=[f"user:{user.pk}"],
               detail={"before": before, "after": _state(user), "pending": ",".join(deferred)})
        installation.granted(window, user.username, user.pk, installed, actor=actor, now=now)
        if not deferred:
            return None
        return approvals.request_approval(ROLE_GRANT, {"username": username, "add": deferred},
                                          actor=actor, reason=reason)


def _execute_role_grant(approval: Approval, actor: Actor) -> None:
    user = _locked_user(str(approval.payload["username"]))
    before = _state(user)
    check_roles([*user.roles, *approval.payload["add"]], user.organisation)
    _grant(user, approval.payload["add"], Actor(approval.requested_by, actor.terminal))
    record(AuditEvent.USER_ROLES, actor=actor, objects=[f"user:{user.pk}", f"approval:{approval.pk}"],
           detail={"before": before, "after": _state(user), "approved_by": actor.username,
                   "requested_by": approval.requested_by})


approvals.register_kind(approvals.Kind(ROLE_GRANT, "役割付与（セキュリティ管理者・責任者）",
                                       Permission.USERS_MANAGE, Permission.USERS_MANAGE, _execute_role_grant))


def _change(username: str, event: AuditEvent, *, actor: Actor, reason: str, **fields: object) -> User:
    require(actor, Permission.USERS_MANAGE)
    free_text.check(reason, "理由", AccountsError)
    with transaction.atomic():
        user = _locked_user(username)
        if user.username == actor.username and event == AuditEvent.USER_DISABLE:
            raise AccountsError("自分自身は無効化できません")
        before = _state(user)
        for name, value in fields.items():
            setattr(user, name, value)
        user.save(update_fields=list(fields))
        ended = sessions.revoke_all(user, reason=event.value.split(":")[1]) if event != AuditEvent.USER_ENABLE else 0
        record(event, actor=actor, objects=[f"user:{user.pk}"],
               detail={"before": before, "after": _state(user), "reason": reason[:200], "sessions_ended": ended})
    return user


def disable(username: str, *, actor: Actor, reason: str) -> User:
    return _change(username, AuditEvent.USER_DISABLE, actor=actor, reason=reason, disabled=True)


def enable(username: str, *, actor: Actor, reason: str) -> User:
    return _change(username, AuditEvent.USER_ENABLE, actor=actor, reason=reason, disabled=False)


def unlock(username: str, *, actor: Actor, reason: str) -> User:
    return _change(username, AuditEvent.AUTH_UNLOCK, actor=actor, reason=reason, locked_at=None, failed_logins=0)


def reset_mfa(username: str, *, actor: Actor, reason: str) -> totp.Enrolment:
    """A new TOTP seed (lost phone): old codes stop working and every session ends."""
    require(actor, Permission.USERS_MANAGE)
    free_text.check(reason, "理由", AccountsError)
    with transaction.atomic():
        user = _locked_user(username)
        enrolment = totp.enrol(user)
        ended = sessions.revoke_all(user, reason="mfa_reset")
        record(AuditEvent.USER_MFA_RESET, actor=actor, objects=[f"user:{user.pk}"],
               detail={"reason": reason[:200], "sessions_ended": ended})
    return enrolment


def reset_password(username: str, password: str, *, actor: Actor, reason: str) -> User:
    """A new initial password for a user who lost theirs (AUTH-06 policy): they change it at the next sign-in,
    and every session of theirs ends now. An administrator changes their own with ``jutaku password``."""
    require(actor, Permission.USERS_MANAGE)
    free_text.check(reason, "理由", AccountsError)
    with transaction.atomic():
        user = _locked_user(username)
        if user.username == actor.username:
            raise AccountsError("自分のパスワードは再設定できません。jutaku password（画面では「パスワードの変更」）で変更してください")
        try:
            passwords.validate(password, user)
        except passwords.WeakPassword as exc:
            raise AccountsError(" ".join(exc.messages)) from None
        user.password = passwords.hash_password(password)
        user.password_must_change = True
        user.save(update_fields=["password", "password_must_change"])
        ended = sessions.revoke_all(user, reason="password_reset")
        record(AuditEvent.USER_PASSWORD_RESET, actor=actor, objects=[f"user:{user.pk}"],
               detail={"reason": reason[:200], "sessions_ended": ended})
    return user


def list_users(*, actor: Actor) -> list[User]:
    require(actor, Permission.USERS_MANAGE)
    return list(User.objects.prefetch_related("role_grants").order_by("username"))


@dataclass(frozen=True)
class Described:
    """An account as the screens show it: its roles and a one-word state."""

    user: User
    roles: tuple[str, ...]
    role_labels: str  # 番号登録担当・照会担当
    state: str  # 有効, 無効, ロック or 期限切れ


def role_labels(roles: Iterable[str]) -> str:
    return "・".join(ROLE_LABELS[Role(r)] for r in roles)


def describe(user: User, today: date) -> Described:
    state = ("無効" if user.disabled else "ロック" if user.locked_at is not None
             else "期限切れ" if today > user.end_date else "有効")
    return Described(user, tuple(user.roles), role_labels(user.roles), state)


def find_user(user_id: int, *, actor: Actor) -> User | None:
    """One account by its id (a screen's link), or None."""
    require(actor, Permission.USERS_MANAGE)
    return User.objects.prefetch_related("role_grants").filter(pk=user_id).first()
