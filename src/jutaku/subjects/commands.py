"""`jutaku requests record|handle|disclose|lift`: 開示・訂正・利用停止請求."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, plain_option, requires


@click.group(name="requests")
def requests_group() -> None:
    """本人からの開示・訂正・利用停止請求の記録と対応."""


@requests_group.command(name="record")
@click.option("--person", "person_id", required=True, help="個人ID")
@click.option("--kind", required=True, type=click.Choice(["disclosure", "correction", "suspension"]))
@click.option("--received", type=click.DateTime(["%Y-%m-%d"]), default=None, help="受付日（既定: 今日）")
@click.option("--note", default="", help="メモ（個人番号は書かない）")
@requires(Permission.REQUESTS_HANDLE)
def record_cmd(person_id: str, kind: str, received: datetime | None, note: str) -> None:
    """Record a request as received."""
    from jutaku.domain.wareki import jst_date
    from jutaku.subjects.service import SubjectRequestError, record_request

    day = received.date() if received else jst_date(datetime.now(UTC))
    try:
        request = record_request(person_id, kind, received_on=day, actor=current_actor(), note=note)
    except SubjectRequestError as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"請求 #{request.pk}（{request.get_kind_display()}）を受け付けました。")


@requests_group.command(name="handle")
@click.argument("request_id", type=int)
@click.option("--refuse", is_flag=True, help="不承認として閉じる")
@click.option("--note", default="")
@requires(Permission.REQUESTS_HANDLE)
def handle_cmd(request_id: int, refuse: bool, note: str) -> None:
    """Close a request. A handled use-suspension stops every use of the person's data at once (left out of
    every outbound file, X07) and makes the person a deletion candidate (理由 4)."""
    from jutaku.subjects.service import SubjectRequestError, handle

    try:
        request = handle(request_id, actor=current_actor(), refuse=refuse, note=note)
    except SubjectRequestError as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"請求 #{request.pk}: {request.get_state_display()}")


@requests_group.command(name="disclose")
@click.argument("request_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="開示書の出力先")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="開示書の形式（pdf: 印刷用、日本語フォント埋め込み）")
@plain_option
@requires(Permission.REQUESTS_HANDLE)
def disclose_cmd(request_id: int, out: Path, fmt: str, plain: bool) -> None:
    """Write the disclosure report (Japanese HTML, or a PDF to print with --format pdf) for a disclosure
    request: <out>.enc, as it holds the answers obtained from other agencies; --plain to print it for the
    person (audited)."""
    from jutaku.reports.fonts import FontMissing
    from jutaku.subjects.report import disclose
    from jutaku.subjects.service import SubjectRequestError

    try:
        report = disclose(request_id, out, actor=current_actor(), plain=plain, fmt=fmt)
    except (SubjectRequestError, FontMissing) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"開示書: {report.path} (アクセス記録 {report.accesses} 件, sha256 {report.sha256})")


@requests_group.command(name="lift")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="解除の理由（個人番号は書かない）")
@requires(Permission.REQUESTS_HANDLE)
def lift_cmd(request_id: int, reason: str) -> None:
    """Ask to lift a handled use suspension; a different supervisor approves it (`jutaku approvals approve ID`)."""
    from jutaku.accounts.errors import AccountsError
    from jutaku.subjects.suspension import LiftRefused, request_lift

    try:
        approval = request_lift(request_id, actor=current_actor(), reason=reason)
    except (LiftRefused, AccountsError) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"承認依頼 #{approval.pk} を作成しました（請求 #{request_id} の利用停止の解除）: "
               f"別の責任者が jutaku approvals approve {approval.pk} で承認すると解除されます。")
