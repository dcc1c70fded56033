"""`jutaku terminals ...`, `jutaku approvals ...` (security_admin, supervisor) and `jutaku install status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from jutaku.accounts.permissions import Permission, StepUp
from jutaku.clikit import Refused, current_actor, echo_table, requires

if TYPE_CHECKING:
    from jutaku.accounts.actor import Actor
    from jutaku.accounts.models import Approval


def _call(fn: object, *args: object, **kwargs: object) -> object:
    from jutaku.accounts.errors import AccessDenied, AccountsError
    from jutaku.clikit import Denied

    try:
        return fn(*args, **kwargs)  # type: ignore[operator]
    except AccessDenied as exc:
        raise Denied(str(exc)) from None
    except AccountsError as exc:
        raise Refused(str(exc)) from None


@click.group(name="terminals")
def terminals() -> None:
    """利用を許可する端末（IPアドレス・ネットワーク）の管理。"""


@terminals.command(name="add")
@click.argument("name")
@click.argument("address")
@requires(Permission.TERMINALS_MANAGE)
def add(name: str, address: str) -> None:
    """端末を登録する（例: jutaku terminals add kanri-01 10.1.2.31 / 10.1.2.0/24）。"""
    from jutaku.accounts import terminals as svc

    terminal = _call(svc.add, name, address, actor=current_actor())
    click.echo(f"端末 {name} を登録しました: {terminal.network}")  # type: ignore[attr-defined]


@terminals.command(name="remove")
@click.argument("name")
@requires(Permission.TERMINALS_MANAGE)
def remove(name: str) -> None:
    """端末の登録を無効にする（記録は残る）。"""
    from jutaku.accounts import terminals as svc

    _call(svc.remove, name, actor=current_actor())
    click.echo(f"端末 {name} を無効にしました。")


@terminals.command(name="list")
@requires(Permission.TERMINALS_MANAGE)
def list_terminals() -> None:
    """登録端末の一覧。"""
    from jutaku.accounts.models import Terminal

    echo_table(["端末名", "アドレス", "状態", "登録者"],
               [[t.name, t.network, "有効" if t.active else "無効", t.created_by] for t in Terminal.objects.order_by("name")])


@click.group(name="approvals")
def approvals() -> None:
    """二者承認（依頼の一覧・承認・却下）。"""


@approvals.command(name="list")
@requires(Permission.APPROVALS_VIEW)
def list_approvals() -> None:
    """承認待ちの依頼。"""
    from jutaku.accounts import approvals as svc
    from jutaku.accounts.approval_labels import kind_label, payload_items, payload_text
    from jutaku.allowlist.names import current
    from jutaku.domain.jst import format_time

    actor = current_actor()
    pending: list[Approval] = _call(svc.pending, actor=actor)  # type: ignore[assignment]
    names, persons = current(), _person_ids(actor, pending)
    echo_table(["番号", "種類", "依頼者", "依頼日時", "理由", "内容"], [
        [f"#{a.pk}", kind_label(a.kind), a.requested_by, format_time(a.requested_at),
         a.reason, payload_text(payload_items(a.payload, procedure_name=names.procedure, person_id=persons.get))]
        for a in pending], right={0}, empty="承認待ちの依頼はありません。")


def _person_ids(actor: Actor, pending: list[Approval]) -> dict[int, str]:
    """The 個人ID of each person a pending request is about, for a reader who may see persons."""
    from jutaku.registry.models import Person

    if not actor.can(Permission.PERSONS_VIEW):
        return {}
    pks = {pk for pk in (a.payload.get("person") for a in pending) if isinstance(pk, int)}
    return dict(Person.objects.filter(pk__in=pks).values_list("pk", "person_id")) if pks else {}


@approvals.command(name="approve")
@click.argument("approval_id", type=int)
@requires(Permission.APPROVALS_DECIDE, step_up=StepUp.APPROVAL_DECISION)
def approve(approval_id: int) -> None:
    """承認する（依頼者本人は不可）。"""
    from jutaku.accounts import approvals as svc

    approval = _call(svc.approve, approval_id, actor=current_actor())
    click.echo(f"承認依頼 #{approval_id} を承認しました（{approval.get_state_display()}）。")  # type: ignore[attr-defined]


@approvals.command(name="reject")
@click.argument("approval_id", type=int)
@requires(Permission.APPROVALS_DECIDE, step_up=StepUp.APPROVAL_DECISION)
def reject(approval_id: int) -> None:
    """却下する。"""
    from jutaku.accounts import approvals as svc

    _call(svc.reject, approval_id, actor=current_actor())
    click.echo(f"承認依頼 #{approval_id} を却下しました。")


@approvals.command(name="show")
@click.argument("approval_id", type=int)
@click.option("--after", type=click.IntRange(min=0), default=None, metavar="KEY",
              help="この位置より後の対象者（前のページの末尾に表示される続きのコマンドのとおりに）")
@click.option("--size", type=click.IntRange(1, 500), default=50, show_default=True, help="1ページの人数")
@requires(Permission.APPROVALS_VIEW)
def show(approval_id: int, after: int | None, size: int) -> None:
    """依頼の内容と対象者（一括削除・業務システム連携: 理由別の人数と、個人ID・氏名・状態・理由の一覧を50人ずつ）。"""
    from jutaku.accounts import users as _users  # noqa: F401 - registers the role-grant kind
    from jutaku.accounts.approval_labels import kind_label, payload_items, payload_text
    from jutaku.accounts.models import Approval
    from jutaku.allowlist.names import current
    from jutaku.domain.jst import format_time
    from jutaku.registry import affected

    actor = current_actor()
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None:
        raise Refused(f"承認依頼 #{approval_id} はありません")
    click.echo(f"承認依頼 #{approval.pk} {kind_label(approval.kind)}")
    click.echo(f"状態: {approval.get_state_display()}")
    click.echo(f"依頼者: {approval.requested_by}（{format_time(approval.requested_at)}）")
    click.echo(f"理由: {approval.reason}")
    click.echo(f"内容: {payload_text(payload_items(approval.payload, procedure_name=current().procedure))}")
    if approval.decided_at is not None:
        click.echo(f"判断者: {approval.decided_by}（{format_time(approval.decided_at)}）")
    if approval.executed_at is not None:
        click.echo(f"実行日時: {format_time(approval.executed_at)}")
    if not affected.lists_persons(approval.kind):
        return
    if not affected.may_see(actor, approval):
        click.echo("対象者の一覧は、個人情報を扱う権限があり、この種類の依頼・承認を行う担当者だけが見られます。")
        return
    page = affected.affected(approval.pk, actor=actor, after=after, size=size)
    assert page is not None  # noqa: S101 - lists_persons above
    by_reason = "、".join(f"{label} {n} 人" for label, n in page.shown_counts)
    click.echo(f"対象者: {page.shown_total} 人" + (f"（{by_reason}）" if by_reason else ""))
    if page.note:
        click.echo(page.note)
    echo_table(["個人ID", "氏名", "氏名カナ", "状態", "理由"],
               [[row.person_id, row.name, row.name_kana or "—", row.status, row.reason] for row in page.rows])
    if page.after is not None:
        click.echo(f"続き: jutaku approvals show {approval.pk} --after {page.after}"
                   + (f" --size {size}" if size != affected.PAGE_SIZE else ""))


@click.group(name="install")
def install() -> None:
    """設置期間（新しいホームで2人目のセキュリティ管理者を作成する期間）。"""


@install.command(name="status")
@requires(Permission.ACCESS_REVIEW)
def install_status() -> None:
    """設置期間の状態（開始・期限・終了とその理由、セキュリティ管理者の人数）。"""
    from jutaku.accounts.installation import Status, status
    from jutaku.domain.jst import format_time as when

    shown = _call(status, actor=current_actor())
    assert isinstance(shown, Status)  # noqa: S101

    click.echo(f"設置期間: {shown.label}")
    if shown.opened_at is not None:
        click.echo(f"開始: {when(shown.opened_at)}（{shown.opened_by}）")
        click.echo(f"期限: {when(shown.deadline)}")
    if shown.reason_label:
        by = f"（{shown.closed_by}）" if shown.closed_by else ""
        click.echo(f"終了: {when(shown.closed_at)}{by} 理由: {shown.reason_label}")
    click.echo(f"セキュリティ管理者（有効）: {shown.admins} 人")
