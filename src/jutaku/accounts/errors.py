"""Exceptions of the accounts services (messages in Japanese, shown to users as they are)."""

from __future__ import annotations


class AccountsError(ValueError):
    """A request to the accounts services was refused; nothing was changed."""


class AccessDenied(PermissionError):
    """The actor lacks the permission the service requires."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"権限がありません: {permission}")
        self.permission = permission


def require(actor: object, permission: object) -> None:
    """Raise :class:`AccessDenied` unless ``actor.can(permission)`` (services check, not only commands)."""
    if not actor.can(permission):  # type: ignore[attr-defined]
        raise AccessDenied(str(permission))
