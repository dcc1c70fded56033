"""Who is acting: a user on a terminal, with the permissions of their roles.

Until the accounts issue lands, the command line acts as the local operator of an initialised home
(the OS user, terminal ``127.0.0.1``) with every permission; the accounts issue replaces
:func:`resolve_cli_actor` with a signed-in session (MFA, roles, terminal allow-list).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from jutaku.accounts.permissions import Permission


@dataclass(frozen=True)
class Actor:
    username: str
    terminal: str
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


SYSTEM = Actor(username="system", terminal="127.0.0.1", permissions=frozenset(Permission))


def resolve_cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry in some containers
        user = "unknown"
    return Actor(username=f"os:{user}", terminal="127.0.0.1", permissions=frozenset(Permission))
