"""Shared plumbing for `jutaku` commands: permission declaration, session, actor, coded exits.

Every command is declared with :func:`requires`, which names exactly one :class:`Permission` (and, for the
actions of :class:`StepUp`, the action). The architecture tests walk the command tree and fail on any command
without one. Before the command runs, :func:`requires` checks (ADR 0007, ADR 0018):

1. the home is initialised (except :data:`NO_HOME`: init, demo, sim);
2. the terminal is a registered one (NET-01), else exit 3 and an ACCESS_DENIED record. The terminal comes
   from the kernel and the root-written login record of the command's own login session
   (:mod:`jutaku.accounts.cliterminal`): the SSH peer address, or the console for a virtual console; never
   from ``$SSH_CONNECTION``/``$SSH_CLIENT``, which the user can set. A process outside every login session
   has no terminal, except the services (``serve``, ``worker``: started by the system) and, in a demo home
   only, a developer's own desktop terminal, which count as the console;
3. a live session (the token file of :mod:`jutaku.accounts.tokenfile`) opened by the same OS user (uid and
   audit login uid) in the same login session on the same terminal, except :data:`NO_SESSION` (login,
   logout, step-up, the services), else exit 3 "ログインしてください" (a token presented elsewhere is also
   revoked and audited as ``auth:session_refused``);
4. the session's user has set their own password: while it is one an administrator set, only ``jutaku
   password`` (and login, logout) runs, else exit 3 saying so and an ACCESS_DENIED record (issue 14 item 14);
   then the session's user has the permission, else exit 3 and an ACCESS_DENIED record;
5. for a :class:`StepUp` action, a re-authentication within ``JUTAKU_STEP_UP_MINUTES`` (password and a new
   TOTP code, the web's rule): asked for here (terminal, or two stdin lines as `jutaku login` reads them)
   when the last one is older, else exit 3. ``jutaku step-up`` does it ahead of time.

Then, before the command itself, the housekeeping tasks due now run (:func:`housekeep`: expired outputs
and downloads are purged, counted and audited), so that no file outlives its retention by more than the
time to the next command.

Exit codes: 0 the job ran (rows may have been rejected); 2 the input or installation was refused
whole; 3 the actor lacks the permission, the terminal, a session or a fresh step-up.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, TypeVar

import click

from jutaku.accounts.permissions import STEP_UP_PERMISSIONS, Permission, StepUp

F = TypeVar("F", bound=Callable[..., Any])

EXIT_REFUSED = 2
EXIT_DENIED = 3

#: Permissions whose commands run without an initialised home (they create it or touch no database).
NO_HOME = frozenset({Permission.SYSTEM_INIT, Permission.SIM_RUN})
#: Permissions whose commands run without a session (they open or close one, or are the services that
#: serve the users' own sessions).
NO_SESSION = NO_HOME | {Permission.SESSION_SELF, Permission.SERVICE_RUN}


#: The command that imports each interface (:mod:`jutaku.formats.sniff` names; a file refused as another
#: interface's is pointed to its command; tests/functional/test_error_messages.py walks them).
IMPORT_COMMANDS = {
    "targets": "jutaku import targets", "procedures": "jutaku import procedures", "kit": "jutaku register kit",
    "portal": "jutaku register portal", "linkage-result": "jutaku linkage import",
    "inquiry-result": "jutaku inquiry import", "juki-result": "jutaku juki import",
    "deletion-targets": "jutaku delete request", "allowlist": "jutaku allowlist load",
}


class _Message(click.ClickException):
    """A refusal printed as it is, Japanese first (no English "Error:" before it)."""

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


class Refused(_Message):
    """The whole input (file, request) was refused; nothing was applied. A file recognised as another
    interface's (``FileRejected.belongs_to``, the cause) is followed by the command that imports it."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        ctx = click.get_current_context(silent=True)  # the command's FILE, while its context is alive
        self.given = ctx.params.get("file") if ctx is not None else None

    def format_message(self) -> str:
        return f"拒否 (refused): {self.message}{file_guidance(self.__cause__, self.given)}"


def file_guidance(cause: BaseException | None, given: Any = None) -> str:
    """The line naming the command for a file refused as another interface's (empty when there is none)."""
    from jutaku.formats import sniff
    from jutaku.formats.errors import FileRejected

    if not isinstance(cause, FileRejected) or cause.belongs_to is None:
        return ""
    goes = sniff.destination(cause.belongs_to)
    command = IMPORT_COMMANDS.get(goes or "")
    if command is None:
        return ""
    if goes != cause.belongs_to or given is None:
        return f"\n→ {sniff.title(goes or '')}の取込: {command} <ファイル>"
    from jutaku.formats.files import shown_path

    return f"\n→ このファイルの取込: {command} {shown_path(given)}"


class LoginRequired(_Message):
    exit_code = EXIT_DENIED

    def format_message(self) -> str:
        return self.message


class PasswordChangeRequired(_Message):
    """The session's password is one an administrator set: nothing runs until the user changes it."""

    exit_code = EXIT_DENIED

    def __init__(self) -> None:
        from jutaku.accounts.sessions import PASSWORD_CHANGE_REQUIRED

        super().__init__(f"{PASSWORD_CHANGE_REQUIRED}jutaku password で新しいパスワードを設定してください。")

    def format_message(self) -> str:
        return self.message


class Denied(_Message):
    exit_code = EXIT_DENIED

    def format_message(self) -> str:
        return f"権限がありません (permission denied): {self.message}"


def requires(permission: Permission, *, own_housekeeping: tuple[str, ...] = (),
             step_up: StepUp | None = None) -> Callable[[F], F]:
    """Declare the command's permission; check home, terminal, session and permission before it runs.

    The resolved actor is placed in ``click.get_current_context().obj["actor"]`` and the terminal in
    ``obj["terminal"]``. ``own_housekeeping`` names housekeeping tasks the command does itself (``backup
    prune``: its ``--dry-run`` must see what is due, not find it gone); every other task runs before it as
    before every command. ``step_up`` names the :class:`StepUp` action the command performs.
    """
    if step_up is not None and STEP_UP_PERMISSIONS[step_up] is not permission:
        raise ValueError(f"step-up action {step_up} is declared with {STEP_UP_PERMISSIONS[step_up]}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = click.get_current_context()
            ctx.ensure_object(dict)
            here = cli_terminal()
            ctx.obj["terminal"] = here
            actor = resolve_actor(permission, here, step_up=step_up)
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
        wrapper.__jutaku_step_up__ = step_up  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def cli_terminal() -> Any:
    """This command's :class:`jutaku.accounts.cliterminal.CliTerminal`, from the kernel and the login
    records (:mod:`jutaku.accounts.osfacts`); in a demo home, a process outside every remote login session
    (a developer's desktop terminal) is the console."""
    from dataclasses import replace

    from jutaku import config
    from jutaku.accounts import cliterminal, network, osfacts

    cfg = config.get()
    here = cliterminal.identify(osfacts.current(cfg.test_utmp))
    if here.outside_login and cfg.mode == "demo" and cfg.home_mode == "demo":
        return replace(here, address=network.CONSOLE, why="demo_home")
    return here


def resolve_actor(permission: Permission, here: Any, *, step_up: StepUp | None = None) -> Any:
    """The actor for a command needing ``permission`` on terminal ``here``, or raise Refused /
    LoginRequired / Denied (after a step-up asked for, when ``step_up`` names one and it is not fresh)."""
    from jutaku import config
    from jutaku.accounts import network
    from jutaku.accounts.actor import Actor, os_actor

    cfg = config.get()
    if permission in NO_HOME:
        return os_actor(here.address, frozenset({permission}))
    try:
        cfg.require_initialised()
    except config.ConfigurationError as exc:
        raise Refused(str(exc)) from exc
    if permission is Permission.SERVICE_RUN and here.outside_login:  # started by the system, for no user
        return Actor(username="anonymous", terminal=network.CONSOLE, permissions=frozenset({permission}))
    _check_terminal(here)
    if permission in NO_SESSION:
        return Actor(username="anonymous", terminal=here.address, permissions=frozenset({permission}))
    live = live_session(cfg, here)
    if live.password_change_required and permission is not Permission.PASSWORD_CHANGE:
        _audit_denied(live.actor, permission, outcome="password_change")
        raise PasswordChangeRequired()
    if not live.actor.can(permission):
        from jutaku.accounts.errors import refusal

        _audit_denied(live.actor, permission)
        raise Denied(f"{live.actor.username} は {_command_path()} を実行できません。"
                     + refusal(live.actor, permission, what="このコマンド") + f" / missing permission {permission.value}")
    if step_up is not None:
        ensure_stepped_up(cfg, here, live)
    return live.actor


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


def _check_terminal(here: Any) -> None:
    from jutaku.accounts import terminals

    if not terminals.is_allowed(here.address):
        terminals.refuse(here.address, username=None, what=_command_path(), why=here.why)
        raise Denied(f"{terminals.REFUSED} ({here.address}){terminals.why_text(here.why)}")


def token_path(cfg: Any, here: Any) -> Any:
    from jutaku.accounts import tokenfile

    return tokenfile.path_for(cfg.home, os.environ, loginuid=here.binding.loginuid)


def live_session(cfg: Any, here: Any) -> Any:
    """The live session of this OS user and login session on this terminal, or raise LoginRequired."""
    from jutaku.accounts import sessions, tokenfile

    token = tokenfile.read(token_path(cfg, here))
    try:
        return sessions.resolve_session(token, terminal=here.address, production=cfg.is_production,
                                        binding=here.binding)
    except sessions.NoSession as exc:
        raise LoginRequired(str(exc)) from exc


def ensure_stepped_up(cfg: Any, here: Any, live: Any, *, always: bool = False) -> None:
    """Ask for the password and a new one-time code unless the session re-authenticated within
    ``JUTAKU_STEP_UP_MINUTES`` (``always``: ask anyway). The session's token is rotated (AUTH-07) and the
    step-up audited (``auth:step_up``); a wrong answer counts towards the lockout, exit 3 (no answer at all
    is refused without counting)."""
    from django.conf import settings
    from django.utils import timezone

    from jutaku.accounts import auth, tokenfile
    from jutaku.accounts.commands import read_secrets

    minutes = settings.JUTAKU_STEP_UP_MINUTES
    if live.password_change_required:  # `jutaku step-up` before the first password change
        raise PasswordChangeRequired()
    if not always and live.fresh(timezone.now(), minutes):
        return
    click.echo(f"再認証: この操作にはパスワードと新しいワンタイムコードが必要です（{minutes}分間有効）。", err=True)
    password, code = read_secrets("パスワード: ", "ワンタイムコード: ")
    if not password and not code:  # no answer at all (a script, an empty stdin): not a wrong guess
        raise LoginRequired("再認証が必要です。パスワードと新しいワンタイムコードを入力してください"
                            "（スクリプトでは先に jutaku step-up）。")
    try:
        token = auth.step_up(live, password, code, production=cfg.is_production)
    except auth.AuthFailed as exc:
        raise LoginRequired(str(exc)) from None
    tokenfile.write(token_path(cfg, here), token)


def _audit_denied(actor: Any, permission: Permission, *, outcome: str = "permission") -> None:
    from django.db import transaction

    from jutaku.audit.events import AuditEvent
    from jutaku.audit.service import record

    with transaction.atomic():
        record(AuditEvent.ACCESS_DENIED, actor=actor, outcome=outcome,
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


def current_terminal() -> Any:
    """The :class:`jutaku.accounts.cliterminal.CliTerminal` of the running command."""
    return click.get_current_context().obj["terminal"]


# ------------------------------------------------------------------------------------------------ tables

#: What an empty cell shows (ASCII: an ambiguous-width dash would shift the columns on some terminals).
EMPTY_CELL = "-"
COLUMN_GAP = "  "


def text_width(text: str) -> int:
    """The columns a terminal gives ``text``: East Asian wide and full-width characters (漢字, かな, full-width
    letters) take two, combining marks and format characters none, everything else one (ambiguous-width
    characters are counted as one, as terminals outside a CJK locale draw them)."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split()) if any(c in text for c in "\t\r\n\v\f\x85\u2028\u2029") else text
    return text or EMPTY_CELL


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]], *,
                 right: Collection[int] = ()) -> list[str]:
    """A plain text table for staff: Japanese ``headers``, one line per row, the columns aligned by display
    width (:func:`text_width`), so that full-width text lines up; columns whose index is in ``right`` (counts,
    numbers) are right-aligned. No colour, no box drawing: the same text on a terminal, in a pipe or a log.
    A cell's line breaks and tabs become spaces; an empty cell shows :data:`EMPTY_CELL`."""
    cells = [[_cell(v) for v in row] for row in rows]
    if any(len(row) != len(headers) for row in cells):
        raise ValueError("every row needs one cell per header")
    widths = [max([text_width(h), *(text_width(row[i]) for row in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, value in enumerate(values):
            pad = " " * (widths[i] - text_width(value))
            parts.append(pad + value if i in right else value + pad)
        return COLUMN_GAP.join(parts).rstrip()

    return [line(list(headers)), COLUMN_GAP.join("-" * w for w in widths), *(line(row) for row in cells)]


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, right: Collection[int] = (),
               empty: str | None = None) -> None:
    """Print :func:`format_table` (every listing command's table); ``empty``: the line printed instead of the
    table when there are no rows (``None``: the header alone)."""
    rows = list(rows)
    if not rows and empty is not None:
        click.echo(empty)
        return
    for text in format_table(headers, rows, right=right):
        click.echo(text)
