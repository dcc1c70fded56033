"""`jutaku requests record|handle|disclose|list`: 開示・訂正・利用停止請求."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, requires


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
    """Close a request (a handled use-suspension makes the person a deletion candidate, 理由 4)."""
    from jutaku.subjects.service import SubjectRequestError, handle

    try:
        request = handle(request_id, actor=current_actor(), refuse=refuse, note=note)
    except SubjectRequestError as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"請求 #{request.pk}: {request.get_state_display()}")


@requests_group.command(name="disclose")
@click.argument("request_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="開示書（HTML）")
@requires(Permission.REQUESTS_HANDLE)
def disclose_cmd(request_id: int, out: Path) -> None:
    """Write the disclosure report (Japanese HTML) for a disclosure request."""
    from jutaku.subjects.report import disclose
    from jutaku.subjects.service import SubjectRequestError

    try:
        report = disclose(request_id, out, actor=current_actor())
    except SubjectRequestError as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"開示書: {report.path} (アクセス記録 {report.accesses} 件, sha256 {report.sha256})")
