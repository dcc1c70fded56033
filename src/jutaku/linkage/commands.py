"""`jutaku linkage request|import`: obtaining integrated numbers (団体内統合利用番号, seed ④–⑥)."""

from __future__ import annotations

from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, requires


@click.group(name="linkage")
def linkage() -> None:
    """団体内統合利用番号の取得（連携サーバとのファイル交換）."""


@linkage.command(name="request")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="統合利用番号取得要求ファイル")
@click.option("--encrypt", is_flag=True, help="Write <out>.enc under the media key (external media).")
@click.option("--no-progress", is_flag=True)
@requires(Permission.LINKAGE_RUN)
def request(out: Path, encrypt: bool, no_progress: bool) -> None:
    """Create a request for every current registered person without an integrated number, and write them."""
    from jutaku.jobs.errors import JobRefused
    from jutaku.linkage.requests import request_linkage

    try:
        result = request_linkage(out, actor=current_actor(), encrypt=encrypt, progress=not no_progress)
    except JobRefused as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"job {result.job_id}: 新規要求 {result.created} 件")
    if result.path is None:
        click.echo("送付する要求はありません（ファイルは作成していません）。")
        return
    click.echo(f"統合利用番号取得要求: {result.path} ({result.written} 件, sha256 {result.sha256})")
    if result.without_number:
        click.echo(f"個人番号が削除済のため送付しなかった要求: {result.without_number} 件（エラーとして記録）")


@linkage.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report outcomes, change nothing.")
@click.option("--encoding", type=click.Choice(["utf-8", "cp932"]), default=None, help="Default: detect.")
@click.option("--rejections", "rejections_path", type=click.Path(path_type=Path), default=None,
              help="Where to write the follow-up list (default: the home's output folder).")
@click.option("--no-progress", is_flag=True)
@requires(Permission.LINKAGE_RUN)
def import_results(file: Path, dry_run: bool, encoding: str | None, rejections_path: Path | None,
                   no_progress: bool) -> None:
    """Store the integrated numbers of a linkage-result file; errors and 該当なし go on the follow-up list."""
    from jutaku.domain.linkage import LABELS
    from jutaku.formats.errors import FileRejected
    from jutaku.jobs.errors import JobRefused
    from jutaku.linkage.results import KIND, import_linkage_results
    from jutaku.registry.commands import echo_counts
    from jutaku.registry.rejections import default_path, write_rejections

    actor = current_actor()
    try:
        result = import_linkage_results(file, actor=actor, dry_run=dry_run, progress=not no_progress,
                                        encoding=encoding)
    except (FileRejected, JobRefused) as exc:
        raise Refused(str(exc)) from exc
    job = result.job
    if job.duplicate:
        click.echo(f"このファイルは取込済みです (job {job.job_id}): no change (duplicate file, same SHA-256).")
    click.echo(f"job {job.job_id}: {result.rows} rows{' (dry run: nothing changed)' if dry_run else ''}")
    echo_counts(job.counts, LABELS)
    if not dry_run and not job.duplicate and any(c != "OK" for c in job.counts):
        out, info = write_rejections(job.job_id, rejections_path or default_path(KIND, job.job_id), actor=actor)
        click.echo(f"要確認リスト（差戻・該当なし・エラー）: {out} ({info.rows} rows)")
