"""Demo users: one per role and a second security administrator, with known credentials in
``<demo home>/credentials.txt`` (demo mode only).

Each line is ``ROLE USERNAME PASSWORD TOTP_SECRET`` (base32), single spaces. The users are marked
``demo``: production refuses to create them and refuses their sign-in (:func:`.sessions.account_state`).
They are made by the production path (ADR 0015): the first security_admin opens the installation window,
names the second one (which closes it), and the supervisor's grant is approved by that second one. Each user
the administrator created then replaces the initial password, as at a first sign-in (issue 14 item 14):
``credentials.txt`` holds the password they chose.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta

from django.utils import timezone

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import AccountsError
from jutaku.accounts.permissions import Permission, Role
from jutaku.accounts.sessions import actor_for
from jutaku.accounts.users import NewUser, create_user

DEMO_USERS = (
    (Role.REGISTRAR, "yamada.t", "山田 太郎", "bureau"),
    (Role.INQUIRER, "suzuki.m", "鈴木 美咲", "kosha"),
    (Role.SUPERVISOR, "takahashi.y", "高橋 洋子", "bureau"),
    (Role.SECURITY_ADMIN, "sato.k", "佐藤 健", "bureau"),
    (Role.SECURITY_ADMIN, "kato.r", "加藤 涼子", "bureau"),
    (Role.AUDITOR, "ito.s", "伊藤 誠", "bureau"),
    (Role.OPERATIONS, "watanabe.o", "渡辺 修", "vendor"),
)


def create_demo_users(cfg: config.Config) -> dict[str, Actor]:
    """Create the demo users and write their credentials; return each role's Actor on the console
    (for security_admin, the first one)."""
    from jutaku.accounts.approvals import approve
    from jutaku.accounts.auth import change_password
    from jutaku.accounts.bootstrap import create_first_admin

    if cfg.is_production:
        raise AccountsError("デモ利用者は本番環境では作成できません（JUTAKU_MODE=demo で実行してください）")
    installer = Actor("os:demo", "127.0.0.1", frozenset({Permission.USERS_MANAGE}))
    today = timezone.localdate()
    lines: dict[int, str] = {}
    actors: dict[str, Actor] = {}
    admins: list[Actor] = []
    admins_first = sorted(enumerate(DEMO_USERS, 1), key=lambda entry: entry[1][0] != Role.SECURITY_ADMIN)
    for n, (role, username, full_name, org) in admins_first:
        password = secrets.token_urlsafe(12)
        new = NewUser(username=username, full_name=full_name, staff_id=f"DEMO{n:03d}", organisation=org,
                      start_date=today, end_date=today + timedelta(days=365), roles=(role.value,))
        if not admins:
            created = create_first_admin(username, password, full_name=full_name, staff_id=new.staff_id,
                                         organisation=org, start_date=today, end_date=new.end_date,
                                         actor=installer, demo=True)
        else:
            created = create_user(new, password, actor=admins[0], reason="デモ利用者", demo=True)
        if created.approval is not None:
            approve(created.approval.pk, actor=admins[1])
        if created.user.password_must_change:  # the first sign-in: the user sets their own password
            chosen = secrets.token_urlsafe(12)
            change_password(username, password, chosen, terminal="127.0.0.1", production=cfg.is_production)
            password = chosen
        created.user.refresh_from_db()
        actor = actor_for(created.user, "127.0.0.1")
        admins += [actor] if role == Role.SECURITY_ADMIN else []
        actors.setdefault(role.value, actor)
        lines[n] = f"{role.value} {username} {password} {created.enrolment.secret}\n"
    path = cfg.home / "credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.writelines(lines[n] for n in sorted(lines))
    return actors
