"""Shared plumbing for `jutaku` commands: permission declaration, session, actor, coded exits.

Every command is declared with :func:`requires`, which names exactly one :class:`Permission`.
The architecture test walks the command tree and fails on any command without one. Before the
command runs, :func:`requires` checks (ADR 0007):

1. the home is initialised (except :data:`NO_HOME`: init, demo, sim);
2. the source address is a registered terminal (NET-01; ``$SSH_CONNECTION``/``$SSH_CLIENT`` for a
   remote shell, else the console ``127.0.0.1``), else exit 3 and an ACCESS_DENIED record;
3. a live session (the token file of :mod:`jutaku.accounts.tokenfile`), except :data:`NO_SESSION`
   (login, logout), else exit 3 "ログインしてください";
4. the session's user has the permission, else exit 3 and an ACCESS_DENIED record.

Then, before the command itself, the housekeeping tasks due now run (:func:`housekeep`: expired outputs
and downloads are purged, counted and audited), so that no file outlives its retention by more than the
time to the next command.

Exit codes: 0 the job ran (rows may have been rejected); 2 the input or installation was refused
whole; 3 the actor lacks the permission, the terminal or a session.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from jutaku.accounts.permissions import Permission

F = TypeVar("F", bound=Callable[..., Any])

EXIT_REFUSED = 2
EXIT_DENIED = 3

#: Permissions whose commands run without an initialised home (they create it or touch no database).
NO_HOME = frozenset({Permission.SYSTEM_INIT, Permission.SIM_RUN})
#: Permissions whose commands run without a session (they open or close one, or are the services that
#: serve the users' own sessions).
NO_SESSION = NO_HOME | {Permission.SESSION_SELF, Permission.SERVICE_RUN}


class Refused(click.ClickException):
    """The whole input (file, request) was refused; nothing was applied."""

    exit_code = EXIT_REFUSED

    def format_message(self) -> str:
        return f"拒否 (refused): {self.message}"


class LoginRequired(click.ClickException):
    exit_code = EXIT_DENIED

    def format_message(self) -> str:
        return self.message


class Denied(click.ClickException):
    exit_code = EXIT_DENIED

    def format_message(self) -> str:
        return f"権限がありません (permission denied): {self.message}"


def requires(permission: Permission, *, own_housekeeping: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Declare the command's permission; check home, terminal, session and permission before it runs.

    The resolved actor is placed in ``click.get_current_context().obj["actor"]``. ``own_housekeeping``
    names housekeeping tasks the command does itself (``backup prune``: its ``--dry-run`` must see what is
    due, not find it gone); every other task runs before it as before every command.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = resolve_actor(permission)
            ctx = click.get_current_context()
            ctx.ensure_object(dict)
            ctx.obj["actor"] = actor
            if permission not in NO_HOME:
                ctx.obj["housekeeping"] = housekeep(skip=own_housekeeping)
            try:
                return fn(*args, **kwargs)
            except ValueError as exc:  # a written My Number in an input: a refusal, never an internal error
                from jutaku.audit.guard import MyNumberInAudit
                from jutaku.domain.free_text import REFUSED_LATE, MyNumberInText

                if isinstance(exc, MyNumberInText):
                    raise Refused(str(exc)) from None
                if isinstance(exc, MyNumberInAudit):
                    raise Refused(REFUSED_LATE) from None
                raise
            except FileExistsError as exc:
                from jutaku.exchange.outbound import OutputExists

                if isinstance(exc, OutputExists):  # an encrypted output is never overwritten
                    raise Refused(str(exc)) from exc
                raise
            finally:
                if permission not in NO_HOME:  # the command's records, signed outside the database (ADR 0014)
                    from jutaku.audit import anchors

                    anchors.after("command")

        wrapper.__jutaku_permission__ = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def resolve_actor(permission: Permission, environ: Any = None) -> Any:
    """The actor for a command needing ``permission``, or raise Refused / LoginRequired / Denied."""
    from jutaku import config
    from jutaku.accounts import network
    from jutaku.accounts.actor import Actor, os_actor

    env = os.environ if environ is None else environ
    cfg = config.get()
    terminal = network.cli_source(env)
    if permission in NO_HOME:
        return os_actor(terminal, frozenset({permission}))
    try:
        cfg.require_initialised()
    except config.ConfigurationError as exc:
        raise Refused(str(exc)) from exc
    _check_terminal(terminal)
    if permission in NO_SESSION:
        return Actor(username="anonymous", terminal=terminal, permissions=frozenset({permission}))
    actor = _session_actor(cfg, terminal, env)
    if not actor.can(permission):
        _audit_denied(actor, permission)
        raise Denied(f"{actor.username} には {permission.value} の権限がありません")
    return actor


def housekeep(skip: tuple[str, ...] = ()) -> Any:
    """The purge tasks (expired outputs, expired downloads, backups, …) due now, before the command runs
    (:mod:`jutaku.jobs.housekeeping`); a failing task is reported, never in the way of the command."""
    from jutaku.jobs import housekeeping

    report = housekeeping.run_due(skip=skip)
    for name, incident in report.failed.items():
        click.echo(f"警告: 期限切れファイルの削除（{name}）に失敗しました (incident {incident})。", err=True)
    return report


def _command_path() -> str:
    ctx = click.get_current_context(silent=True)
    return ctx.command_path if ctx is not None else "-"


def _check_terminal(terminal: str) -> None:
    from jutaku.accounts import terminals

    if not terminals.is_allowed(terminal):
        terminals.refuse(terminal, username=None, what=_command_path())
        raise Denied(f"{terminals.REFUSED} ({terminal})")


def _session_actor(cfg: Any, terminal: str, env: Any) -> Any:
    from jutaku.accounts import sessions, tokenfile

    token = tokenfile.read(tokenfile.path_for(cfg.home, env))
    try:
        return sessions.resolve(token, terminal=terminal, production=cfg.is_production)
    except sessions.NoSession as exc:
        raise LoginRequired(str(exc)) from exc


def _audit_denied(actor: Any, permission: Permission) -> None:
    from django.db import transaction

    from jutaku.audit.events import AuditEvent
    from jutaku.audit.service import record

    with transaction.atomic():
        record(AuditEvent.ACCESS_DENIED, actor=actor, outcome="permission",
               detail={"permission": permission.value, "command": _command_path()[:200]})


def plain_option(fn: F) -> F:
    """``--plain`` of every command that writes a file of specific personal information: such a file is
    ``<out>.enc`` under the media key unless a person asks for plain text, which is recorded on the audit
    trail (:mod:`jutaku.exchange.outbound`). ``--encrypt`` (the default) is still accepted, and ignored."""
    fn = click.option("--encrypt", is_flag=True, hidden=True, expose_value=False)(fn)
    return click.option(  # type: ignore[no-any-return]
        "--plain", is_flag=True,
        help="Write the file unencrypted (an explicit exception, recorded on the audit trail). By default it is "
             "<out>.enc under the media key: it holds specific personal information.")(fn)


def current_actor() -> Any:
    return click.get_current_context().obj["actor"]
