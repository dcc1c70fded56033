"""`jutaku lists rejections|deletion-request`: outcome lists written again, as Excel workbooks (or CSV).

A job's rejection list is written by its command as CSV; these commands write it — or a deletion request's
list of persons — again at any time from the database, as a workbook staff can sort and filter (header row,
filter, frozen header; identifiers as text). Never a number in them (ADR 0022).
"""

from __future__ import annotations

from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, requires


@click.group(name="lists")
def lists() -> None:
    """差戻リスト等の結果リストを Excel（xlsx）または CSV で出力する."""


@lists.command(name="rejections")
@click.argument("job_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True,
              help="xlsx: 結果の表とリスト（並べ替え・絞り込み用）、csv: 様式どおりのリスト")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="出力先（既定: ホームの output フォルダ）")
@requires(Permission.REJECTIONS_VIEW)
def rejections(job_id: int, fmt: str, out: Path | None) -> None:
    """A job's outcome table and its rejection, follow-up or exclusion list (差戻・要確認・対象外リスト)."""
    from jutaku.jobs.models import Job
    from jutaku.registry.lists import ListMissing, list_title, write_rejections_xlsx
    from jutaku.registry.rejections import default_path, write_rejections
    from jutaku.reports.xlsx import WorkbookRefused

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise Refused(f"ジョブ #{job_id} はありません。")
    target = out or default_path(job.kind, job_id).with_suffix(f".{fmt}")
    try:
        if fmt == "xlsx":
            path, rows = write_rejections_xlsx(job_id, target, actor=current_actor())
        else:
            path, info = write_rejections(job_id, target, actor=current_actor())
            rows = info.rows
    except (ListMissing, WorkbookRefused) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"{list_title(job.kind)}: {path} ({rows} 件)")


@lists.command(name="deletion-request")
@click.argument("approval_id", type=int)
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="出力先（既定: ホームの output フォルダ）")
@requires(Permission.DELETION_APPROVE)
def deletion_request(approval_id: int, out: Path | None) -> None:
    """The persons a deletion request would delete (承認の対象者一覧), as a workbook for the supervisor."""
    from jutaku import config
    from jutaku.registry.lists import ListMissing, write_deletion_request_xlsx
    from jutaku.reports.xlsx import WorkbookRefused

    target = out or config.get().output_dir / f"deletion-request-{approval_id}.xlsx"
    try:
        path, rows = write_deletion_request_xlsx(approval_id, target, actor=current_actor())
    except (ListMissing, WorkbookRefused) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"削除依頼の対象者: {path} ({rows} 人)")
