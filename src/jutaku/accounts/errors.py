"""Exceptions of the accounts services (messages in Japanese, shown to users as they are)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class AccountsError(ValueError):
    """A request to the accounts services was refused; nothing was changed."""


class AccessDenied(PermissionError):
    """The actor lacks the permission the service requires; the message says who holds it and whom to ask."""

    def __init__(self, permission: str, message: str = "") -> None:
        super().__init__(message or f"権限がありません: {permission}")
        self.permission = permission


def roles_of(username: str) -> list[str]:
    """The roles granted to ``username`` now (none for an unknown name)."""
    from jutaku.accounts.models import RoleGrant

    return list(RoleGrant.objects.filter(user__username=username).values_list("role", flat=True))


def refusal(actor: Any, required: Any, *, what: str = "この操作") -> str:
    """The refusal message for ``actor`` lacking ``required`` (a permission or several, any of which would
    do): :func:`jutaku.accounts.permissions.refusal_text` with the actor's own roles."""
    from jutaku.accounts.permissions import Permission, refusal_text

    needed: Iterable[Permission] = (required,) if isinstance(required, Permission) else tuple(required)
    return refusal_text(needed, roles_of(getattr(actor, "username", "")), what=what)


def require(actor: object, permission: object) -> None:
    """Raise :class:`AccessDenied` unless ``actor.can(permission)`` (services check, not only commands)."""
    if not actor.can(permission):  # type: ignore[attr-defined]
        raise AccessDenied(str(permission), refusal(actor, permission))
