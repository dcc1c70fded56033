"""`jutaku login`, `jutaku logout`, `jutaku step-up`, `jutaku password` and `jutaku users ...`: they parse,
then call the accounts services.

Secrets are read from the terminal without echo (getpass) or, when stdin is not a terminal, one per
line from stdin (password, then one-time code). Messages are Japanese. A CLI session is opened for the
terminal, OS user and login session the kernel reports (:func:`jutaku.clikit.cli_terminal`, ADR 0018).
At the first sign-in with a password an administrator set, `jutaku login` asks for a new one at once (the
next stdin line); until it is changed, that session can only run `jutaku password` and `jutaku logout`.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import click

from jutaku.accounts.admin_commands import _call
from jutaku.accounts.permissions import ROLE_LABELS, Permission, Role, StepUp
from jutaku.clikit import LoginRequired, Refused, current_actor, current_terminal, echo_table, requires

ROLE_CHOICE = click.Choice([r.value for r in Role])
ROLE_HELP = "役割（" + "、".join(f"{r.value} {ROLE_LABELS[r]}" for r in Role) + "）"


def read_secrets(*prompts: str) -> list[str]:
    """One value per prompt: getpass on a terminal, else one stdin line each (no echo either way)."""
    if sys.stdin.isatty():
        return [getpass.getpass(p) for p in prompts]
    values = []
    for _ in prompts:
        line = sys.stdin.readline()
        values.append(line.rstrip("\r\n"))
    return values


def _read_password(prompt: str) -> str:
    """A password to set: twice on a terminal (they must agree), one stdin line otherwise."""
    if sys.stdin.isatty():
        first, again = read_secrets(prompt, "もう一度: ")
        if first != again:
            raise Refused("パスワードが一致しません")
        return first
    return read_secrets(prompt)[0]


def read_new_password() -> str:
    """The initial password an administrator sets."""
    return _read_password("初期パスワード: ")


def read_changed_password() -> str:
    """The new password of a password change."""
    return _read_password("新しいパスワード: ")


def show_enrolment(enrolment: object, qr_svg: Path | None) -> None:
    from jutaku.accounts.totp import Enrolment

    assert isinstance(enrolment, Enrolment)  # noqa: S101
    click.echo("ワンタイムコード（TOTP）の登録: 認証アプリで次のQRコードを読み取るか、URIを入力してください。")
    click.echo(enrolment.ascii_qr())
    click.echo(f"otpauth URI: {enrolment.uri}")
    if qr_svg is not None:
        click.echo(f"QRコード（SVG, 0600）: {enrolment.write_svg(qr_svg)}")
    click.echo("この表示は本人にだけ渡し、控えを残さないでください。")


@click.command()
@click.option("--user", "username", required=True, help="利用者名")
@requires(Permission.SESSION_SELF)
def login(username: str) -> None:
    """サインイン: パスワードとワンタイムコードを入力し、この端末のセッションを開始する。"""
    from jutaku import config
    from jutaku.accounts import auth, sessions, tokenfile
    from jutaku.clikit import token_path

    cfg = config.get()
    actor, here = current_actor(), current_terminal()
    password, code = read_secrets("パスワード: ", "ワンタイムコード: ")
    path = token_path(cfg, here)
    old = tokenfile.read(path)
    if old:
        sessions.revoke(old, actor=actor, reason="relogin")
        tokenfile.remove(path)
    try:
        opened = auth.login(username, password, code, terminal=actor.terminal, production=cfg.is_production,
                            binding=here.binding)
    except auth.AuthFailed as exc:
        raise LoginRequired(str(exc)) from None
    tokenfile.write(path, opened.token)
    from django.conf import settings

    from jutaku.domain.jst import format_time

    until = format_time(opened.expires_at)
    click.echo(f"{username} としてサインインしました（端末 {actor.terminal}）。"
               f"{settings.JUTAKU_SESSION_IDLE_MINUTES}分操作がないか {until} を過ぎると終了します。")
    if opened.password_change_required:
        click.echo("初回サインイン: 管理者が設定したパスワードです。自分のパスワードに変更してください。")
        _change_own_password(password, first=True)


def _change_own_password(current: str, *, first: bool = False) -> None:
    """Set the signed-in user's new password (read here) and keep the rotated session token."""
    from jutaku import config
    from jutaku.accounts import auth, tokenfile
    from jutaku.accounts.passwords import POLICY_TEXT
    from jutaku.clikit import live_session, token_path

    cfg, here = config.get(), current_terminal()
    click.echo(POLICY_TEXT, err=True)
    new = read_changed_password()
    live = live_session(cfg, here)
    try:
        token = auth.change_password(live.actor.username, current, new, terminal=live.actor.terminal,
                                     production=cfg.is_production, session_id=live.session_id)
    except auth.PasswordRefused as exc:
        later = "パスワードを変更するまで、他のコマンドは使えません（jutaku password）。" if first else ""
        raise Refused(f"{exc}{later}") from None
    assert token is not None  # noqa: S101 - a session asked
    tokenfile.write(token_path(cfg, here), token)
    click.echo("パスワードを変更しました。ほかのセッションはすべて終了しました。")


@click.command(name="password")
@requires(Permission.PASSWORD_CHANGE)
def password_command() -> None:
    """自分のパスワードを変更する（現在のパスワード、新しいパスワードの順に入力）。管理者が設定したパスワードは、
    初回サインインで変更するまで他のコマンドに使えない。"""
    current = read_secrets("現在のパスワード: ")[0]
    _change_own_password(current)


@click.command()
@requires(Permission.SESSION_SELF)
def logout() -> None:
    """サインアウト: この端末のセッションを終了する。"""
    from jutaku import config
    from jutaku.accounts import sessions, tokenfile
    from jutaku.clikit import token_path

    path = token_path(config.get(), current_terminal())
    token = tokenfile.read(path)
    ended = sessions.revoke(token, actor=current_actor()) if token else False
    tokenfile.remove(path)
    click.echo("サインアウトしました。" if ended else "有効なセッションはありませんでした。")


@click.command(name="step-up")
@requires(Permission.SESSION_SELF)
def step_up() -> None:
    """再認証: パスワードと新しいワンタイムコードをもう一度入力する（承認・却下、役割変更、個人番号の変更、
    一括削除の実行、状態の訂正の前。一定時間有効。これらのコマンドは必要な時に自分でも尋ねる）。"""
    from django.conf import settings

    from jutaku import config
    from jutaku.clikit import ensure_stepped_up, live_session

    cfg, here = config.get(), current_terminal()
    ensure_stepped_up(cfg, here, live_session(cfg, here), always=True)
    click.echo(f"再認証しました。{settings.JUTAKU_STEP_UP_MINUTES}分間、承認・役割変更などを実行できます。")


@click.group(name="users")
def users() -> None:
    """利用者の管理（security_admin）。"""


@users.command(name="create")
@click.argument("username")
@click.option("--full-name", required=True, help="氏名（職員・従事者の記録どおり）")
@click.option("--staff-id", required=True, help="職員番号／委託先の従事者番号")
@click.option("--org", "organisation", required=True,
              type=click.Choice(["bureau", "kosha", "subcontractor", "vendor"]), help="所属")
@click.option("--role", "roles", multiple=True, required=True, type=ROLE_CHOICE, help=ROLE_HELP)
@click.option("--start", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="開始日（既定: 今日）")
@click.option("--end", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="終了日（任期・契約の終わり）")
@click.option("--reason", default="新規利用者", show_default=True)
@click.option("--qr-svg", type=click.Path(dir_okay=False, path_type=Path), default=None)
@requires(Permission.USERS_MANAGE)
def create(username: str, full_name: str, staff_id: str, organisation: str, roles: tuple[str, ...],
           start: object, end: object, reason: str, qr_svg: Path | None) -> None:
    """利用者を作成する（初期パスワードは端末または標準入力から）。"""
    from django.utils import timezone

    from jutaku.accounts.passwords import POLICY_TEXT
    from jutaku.accounts.users import Created, NewUser, create_user

    click.echo(POLICY_TEXT, err=True)
    password = read_new_password()
    new = NewUser(username=username, full_name=full_name, staff_id=staff_id, organisation=organisation,
                  start_date=_day(start) or timezone.localdate(), end_date=_day(end) or date.max, roles=roles)
    created = _call(create_user, new, password, actor=current_actor(), reason=reason)
    assert isinstance(created, Created)  # noqa: S101
    click.echo(f"利用者 {username} を作成しました（役割: {_labels(created.user.roles) or 'なし'}）。")
    if created.installed:
        click.echo(f"設置期間中の付与: {_labels(created.installed)} を二者承認なしで付与しました（監査証跡に記録）。")
    if created.window_closed:
        click.echo("設置期間を終了しました。以後、セキュリティ管理者と責任者の付与は別のセキュリティ管理者の承認が必要です。")
    if created.approval is not None:
        click.echo(f"役割 {_labels(created.approval.payload['add'])} は二者承認待ちです（承認依頼 "
                   f"#{created.approval.pk}、別のセキュリティ管理者が jutaku approvals approve で承認）。")
    show_enrolment(created.enrolment, qr_svg)


def _labels(roles: Iterable[str]) -> str:
    return "・".join(ROLE_LABELS[Role(r)] for r in roles)


def _day(value: object) -> date | None:
    return value.date() if hasattr(value, "date") else None


def _simple(name: str, service: str, done: str) -> None:
    @users.command(name=name)
    @click.argument("username")
    @click.option("--reason", default="-", help="理由（監査証跡に残る）")
    @requires(Permission.USERS_MANAGE)
    def command(username: str, reason: str) -> None:
        from jutaku.accounts import users as svc

        _call(getattr(svc, service), username, actor=current_actor(), reason=reason)
        click.echo(done.format(username=username))

    command.__doc__ = done.format(username="利用者")


_simple("disable", "disable", "{username} を無効にしました（全セッション終了）。")
_simple("enable", "enable", "{username} を有効にしました。")
_simple("unlock", "unlock", "{username} のロックを解除しました。")


@users.command(name="roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=ROLE_CHOICE,
              help="付与後の" + ROLE_HELP + "（全部）")
@click.option("--reason", required=True, help="理由（承認依頼と監査証跡に残る）")
@requires(Permission.USERS_MANAGE, step_up=StepUp.ROLE_CHANGE)
def roles_command(username: str, roles: tuple[str, ...], reason: str) -> None:
    """役割を変更する（security_admin・supervisor の付与は二者承認）。"""
    from jutaku.accounts.users import set_roles

    approval = _call(set_roles, username, roles, actor=current_actor(), reason=reason)
    click.echo(f"{username} の役割を変更しました。")
    if approval is not None:
        click.echo(f"二者承認待ち: 承認依頼 #{approval.pk}（{_labels(approval.payload['add'])}）")  # type: ignore[attr-defined]


@users.command(name="reset-mfa")
@click.argument("username")
@click.option("--reason", default="-")
@click.option("--qr-svg", type=click.Path(dir_okay=False, path_type=Path), default=None)
@requires(Permission.USERS_MANAGE)
def reset_mfa(username: str, reason: str, qr_svg: Path | None) -> None:
    """ワンタイムコードを再登録する（旧コードは無効、全セッション終了）。"""
    from jutaku.accounts.users import reset_mfa as svc

    enrolment = _call(svc, username, actor=current_actor(), reason=reason)
    click.echo(f"{username} のワンタイムコードを再登録しました。")
    show_enrolment(enrolment, qr_svg)


@users.command(name="reset-password")
@click.argument("username")
@click.option("--reason", required=True, help="理由（本人確認の方法など。監査証跡に残る）")
@requires(Permission.USERS_MANAGE)
def reset_password(username: str, reason: str) -> None:
    """パスワードを再設定する（新しい初期パスワードは端末または標準入力から。本人は次のサインインで変更する。
    全セッション終了）。"""
    from jutaku.accounts.passwords import POLICY_TEXT
    from jutaku.accounts.users import reset_password as svc

    click.echo(POLICY_TEXT, err=True)
    _call(svc, username, read_new_password(), actor=current_actor(), reason=reason)
    click.echo(f"{username} のパスワードを再設定しました（全セッション終了）。次のサインインで本人が変更します。")


@users.command(name="list")
@requires(Permission.USERS_MANAGE)
def list_command() -> None:
    """利用者の一覧。"""
    from jutaku.accounts.users import list_users
    from jutaku.domain.jst import format_day

    echo_table(["利用者", "氏名", "所属", "役割", "開始日", "終了日", "状態"], [
        [u.username, u.full_name, u.get_organisation_display(), _labels(u.roles) or "なし", format_day(u.start_date), format_day(u.end_date),
         ("無効" if u.disabled else ("ロック" if u.locked_at else "有効"))
         + ("（初回パスワード変更待ち）" if u.password_must_change else "")] for u in list_users(actor=current_actor())])


@users.command(name="review")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV の出力先")
@click.option("--report", "--html", "report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="報告書の出力先（既定: CSV と同じ名前の .html または .pdf）")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="報告書の形式（pdf: 印刷用、日本語フォント埋め込み）")
@requires(Permission.ACCESS_REVIEW)
def review(out: Path, report: Path | None, fmt: str) -> None:
    """年次アクセス権限確認（利用者×所属×役割×最終サインイン×終了日）を CSV と報告書（HTML または PDF）で出力する。"""
    from jutaku.accounts.review import write_review
    from jutaku.reports.fonts import FontMissing

    try:
        result = write_review(out, report or out.with_suffix(f".{fmt}"), actor=current_actor(), fmt=fmt)
    except FontMissing as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"アクセス権限確認: {result.rows} 件（要確認 {result.flagged} 件）→ {result.csv_path}, {result.report_path}")
