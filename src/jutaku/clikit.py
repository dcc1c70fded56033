"""Shared plumbing for `jutaku` commands: permission declaration, actor, coded exits.

Every command is declared with :func:`requires`, which names exactly one :class:`Permission`.
The architecture test walks the command tree and fails on any command without one.

Exit codes: 0 the job ran (rows may have been rejected); 2 the input or installation was refused
whole; 3 the actor lacks the permission or has no session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from jutaku.accounts.permissions import Permission

F = TypeVar("F", bound=Callable[..., Any])

EXIT_REFUSED = 2
EXIT_DENIED = 3

#: Permissions whose commands run without an initialised home (they create it or touch no database).
NO_HOME = frozenset({Permission.SYSTEM_INIT, Permission.SIM_RUN})


class Refused(click.ClickException):
    """The whole input (file, request) was refused; nothing was applied."""

    exit_code = EXIT_REFUSED

    def format_message(self) -> str:
        return f"拒否 (refused): {self.message}"


class Denied(click.ClickException):
    exit_code = EXIT_DENIED

    def format_message(self) -> str:
        return f"権限がありません (permission denied): {self.message}"


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the command's permission; check the home, the actor and the permission before it runs.

    The resolved actor is placed in ``click.get_current_context().obj["actor"]``.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from jutaku import config
            from jutaku.accounts.actor import resolve_cli_actor

            cfg = config.get()
            if permission not in NO_HOME:
                try:
                    cfg.require_initialised()
                except config.ConfigurationError as exc:
                    raise Refused(str(exc)) from exc
            actor = resolve_cli_actor()
            if not actor.can(permission):
                raise Denied(f"{actor.username} lacks {permission.value}")
            ctx = click.get_current_context()
            ctx.ensure_object(dict)
            ctx.obj["actor"] = actor
            return fn(*args, **kwargs)

        wrapper.__jutaku_permission__ = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def current_actor() -> Any:
    return click.get_current_context().obj["actor"]
