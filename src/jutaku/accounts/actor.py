"""Who is acting: a user on a terminal, with the permissions of their roles.

On the command line the actor comes from a signed-in session (:func:`jutaku.clikit.requires` →
:mod:`jutaku.accounts.sessions`); in-process callers (tests, the demo) pass an :class:`Actor` to the
services directly. :data:`SYSTEM` is for in-process maintenance and tests, never for a person.
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

#: Whoever attempts something before signing in (failed logins, refused terminals).
ANONYMOUS_NAME = "anonymous"


def os_actor(terminal: str, permissions: frozenset[Permission]) -> Actor:
    """The operating-system user running a command that needs no session (init, sim, demo)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry in some containers
        user = "unknown"
    return Actor(username=f"os:{user}", terminal=terminal, permissions=permissions)


def anonymous(terminal: str) -> Actor:
    return Actor(username=ANONYMOUS_NAME, terminal=terminal)
