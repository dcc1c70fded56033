"""Demo users: one per role, with known credentials in ``<demo home>/credentials.txt`` (demo mode only).

Each line is ``ROLE USERNAME PASSWORD TOTP_SECRET`` (base32), single spaces. The users are marked
``demo``: production refuses to create them and refuses their sign-in (:func:`.sessions.account_state`).
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
    (Role.AUDITOR, "ito.s", "伊藤 誠", "bureau"),
    (Role.OPERATIONS, "watanabe.o", "渡辺 修", "vendor"),
)


def create_demo_users(cfg: config.Config) -> dict[str, Actor]:
    """Create the demo users and write their credentials; return each role's Actor on the console."""
    if cfg.is_production:
        raise AccountsError("デモ利用者は本番環境では作成できません（JUTAKU_MODE=demo で実行してください）")
    installer = Actor("os:demo", "127.0.0.1", frozenset({Permission.USERS_MANAGE}))
    today = timezone.localdate()
    lines, actors = [], {}
    for n, (role, username, full_name, org) in enumerate(DEMO_USERS, 1):
        password = secrets.token_urlsafe(12)
        new = NewUser(username=username, full_name=full_name, staff_id=f"DEMO{n:03d}", organisation=org,
                      start_date=today, end_date=today + timedelta(days=365), roles=(role.value,))
        created = create_user(new, password, actor=installer, reason="デモ利用者", dual_control=False, demo=True)
        lines.append(f"{role.value} {username} {password} {created.enrolment.secret}\n")
        actors[role.value] = actor_for(created.user, "127.0.0.1")
    path = cfg.home / "credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.writelines(lines)
    return actors
