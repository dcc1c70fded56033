"""`jutaku init`: the console terminals, the first security_admin and the installation window.

A new home has nobody who could approve a grant, so `jutaku init --admin` creates the first
security_admin and opens the **installation window** (:mod:`.installation`, ADR 0015) in one
transaction; it refuses as soon as any user exists. While the window is open, the first administrator
names the second one with `jutaku users create … --role security_admin` (granted at once, audited as
``install:grant``); that grant closes the window for good, and every later security_admin or
supervisor grant is approved by a second security_admin.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from django.db import transaction

from jutaku.accounts import installation, terminals
from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import AccountsError
from jutaku.accounts.models import User
from jutaku.accounts.permissions import Permission, Role
from jutaku.accounts.users import Created, NewUser, create_user
from jutaku.domain.installation import DEFAULT_DAYS


def _installer(actor: Actor) -> Actor:
    return replace(actor, permissions=frozenset({Permission.USERS_MANAGE, Permission.TERMINALS_MANAGE}))


def register_console(*, actor: Actor) -> list[str]:
    return terminals.register_console(actor=_installer(actor))


def has_users() -> bool:
    return User.objects.exists()


def create_first_admin(username: str, password: str, *, full_name: str, staff_id: str, organisation: str,
                       start_date: date, end_date: date, actor: Actor, window_days: int = DEFAULT_DAYS,
                       demo: bool = False) -> Created:
    """The first security_admin of a home with no users, and the installation window (one transaction)."""
    new = NewUser(username=username, full_name=full_name, staff_id=staff_id, organisation=organisation,
                  start_date=start_date, end_date=end_date, roles=(Role.SECURITY_ADMIN.value,))
    installer = _installer(actor)
    with transaction.atomic():
        if has_users():
            raise AccountsError("利用者が既にいます。追加は jutaku users create で行ってください")
        installation.open_window(actor=installer, days=window_days)
        # The first administrator types their own password at `init`: nobody else has set it.
        return create_user(new, password, actor=installer, reason="初期セキュリティ管理者", demo=demo,
                           must_change_password=False)
