"""`jutaku delete propose|request|run`: bulk deletion of numbers no longer needed (F7), under dual control."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from jutaku.accounts.permissions import Permission, StepUp
from jutaku.clikit import Refused, current_actor, echo_table, requires


@click.group(name="delete")
def delete() -> None:
    """個人番号等の一括削除（削除候補 → 削除依頼 → 別の責任者の承認 → 実行 → 削除記録）."""


@delete.command(name="propose")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="削除候補リスト")
@click.option("--deceased-after-days", type=click.IntRange(0, 3650), default=90, show_default=True,
              help="死亡から削除候補とするまでの日数")
@requires(Permission.DELETION_REQUEST)
def propose(out: Path, deceased_after_days: int) -> None:
    """List persons whose numbers are no longer needed (moved out, withdrawn/failed, deceased)."""
    from jutaku.domain.wareki import jst_date
    from jutaku.retention.deletion import propose as make

    path, info = make(out, actor=current_actor(), today=jst_date(datetime.now(UTC)),
                      deceased_after_days=deceased_after_days)
    click.echo(f"削除候補リスト: {path} ({info.rows} 人)。確認のうえ jutaku delete request で依頼します。")


@delete.command(name="request")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--reason", required=True, help="依頼理由")
@requires(Permission.DELETION_REQUEST)
def request(file: Path, reason: str) -> None:
    """Submit a deletion list; a different supervisor approves it with `jutaku approvals approve ID`."""
    from jutaku.accounts.errors import AccountsError
    from jutaku.formats.errors import FileRejected
    from jutaku.retention.deletion import DeletionRefused, submit_list

    try:
        requested = submit_list(file, actor=current_actor(), reason=reason)
    except (DeletionRefused, FileRejected, AccountsError) as exc:
        raise Refused(str(exc)) from exc
    approval = requested.approval
    if requested.duplicate:
        click.echo(f"同じ削除リストの承認依頼 #{approval.pk}（{approval.get_state_display()}、一括削除 "
                   f"{approval.payload['persons']} 人）が既にあります。新しい依頼は作成していません。")
        return
    click.echo(f"承認依頼 #{approval.pk} を作成しました（一括削除 {approval.payload['persons']} 人）: "
               f"別の責任者が jutaku approvals approve {approval.pk} で承認します。")


@delete.command(name="run")
@click.argument("approval_id", type=int)
@click.option("--report", "report", type=click.Path(path_type=Path), default=None,
              help="削除記録の出力先（既定: ホームの output フォルダ）")
@click.option("--no-progress", is_flag=True)
@requires(Permission.DELETION_RUN, step_up=StepUp.DELETION_RUN)
def run(approval_id: int, report: Path | None, no_progress: bool) -> None:
    """Carry out an approved deletion (resumable) and write the deletion report."""
    from jutaku import config
    from jutaku.accounts.errors import AccountsError
    from jutaku.jobs.errors import JobRefused
    from jutaku.jobs.labels import count_rows
    from jutaku.retention.deletion import KIND, DeletionRefused, backup_notice, run_deletion

    out = report or config.get().output_dir / f"deletion-report-{approval_id}.csv"
    try:
        result = run_deletion(approval_id, actor=current_actor(), report=out, progress=not no_progress)
    except (DeletionRefused, JobRefused, AccountsError) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"job {result.job.job_id}: 一括削除")
    echo_table(["削除した記録", "件数"], [(label, f"{n:,}") for _, label, n in count_rows(KIND, result.job.counts)],
               right={1})
    if result.job.duplicate:
        click.echo("削除は前回の実行で済んでいました。残っていた後処理（削除台帳・削除記録・承認の実行済み）を行いました。")
    click.echo(f"削除記録: {result.report} ({result.report_info.rows} 人)")
    click.echo(backup_notice(result.backup_expires_on))



@delete.command(name="report")
@click.argument("approval_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "pdf"]), default="pdf", show_default=True,
              help="csv: 削除記録の CSV（様式どおり）、pdf: 印刷用（日本語フォント埋め込み）")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="出力先（既定: ホームの output フォルダ）")
@requires(Permission.DELETION_REQUEST)
def report_cmd(approval_id: int, fmt: str, out: Path | None) -> None:
    """Write the 削除記録 of a deletion carried out, again: as CSV (the layout) or as a PDF to print and file."""
    from jutaku import config
    from jutaku.reports.fonts import FontMissing
    from jutaku.retention.deletion import write_report
    from jutaku.retention.record_report import RecordMissing, write_record_pdf

    target = out or config.get().output_dir / f"deletion-report-{approval_id}.{fmt}"
    try:
        if fmt == "pdf":
            path, persons = write_record_pdf(approval_id, target, actor=current_actor())
        else:
            from jutaku.retention.models import DeletionRecord

            if not DeletionRecord.objects.filter(approval_id=approval_id).exists():
                raise RecordMissing(f"承認依頼 #{approval_id} の削除記録はありません（一括削除が実行されていません）。")
            path, info = write_report(approval_id, target, actor=current_actor())
            persons = info.rows
    except (RecordMissing, FontMissing) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"削除記録: {path} ({persons} 人)")
