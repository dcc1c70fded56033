"""`jutaku init`: the console terminals and the first security_admin of a home with no users.

The first administrator cannot be approved by anyone, so this is the one place that creates a
security_admin without dual control; it refuses as soon as any user exists. Later administrators are
created by `jutaku users create` and approved by a second security_admin.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from jutaku.accounts import terminals
from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import AccountsError
from jutaku.accounts.models import User
from jutaku.accounts.permissions import Permission, Role
from jutaku.accounts.users import Created, NewUser, create_user


def _installer(actor: Actor) -> Actor:
    return replace(actor, permissions=frozenset({Permission.USERS_MANAGE, Permission.TERMINALS_MANAGE}))


def register_console(*, actor: Actor) -> list[str]:
    return terminals.register_console(actor=_installer(actor))


def has_users() -> bool:
    return User.objects.exists()


def create_first_admin(username: str, password: str, *, full_name: str, staff_id: str, organisation: str,
                       start_date: date, end_date: date, actor: Actor) -> Created:
    if has_users():
        raise AccountsError("利用者が既にいます。追加は jutaku users create で行ってください")
    new = NewUser(username=username, full_name=full_name, staff_id=staff_id, organisation=organisation,
                  start_date=start_date, end_date=end_date, roles=(Role.SECURITY_ADMIN.value,))
    return create_user(new, password, actor=_installer(actor), reason="初期セキュリティ管理者", dual_control=False)
