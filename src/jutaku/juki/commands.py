"""`jutaku juki request|import`: identity confirmation through Juki-net (F3, F5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, plain_option, requires
from jutaku.domain.wareki import jst_date


def _fiscal_year(today: date) -> int:
    return today.year if today.month >= 4 else today.year - 1


@click.group(name="juki")
def juki() -> None:
    """住基ネット照会（本人確認情報）."""


@juki.command(name="request")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="手続の年度（既定: 今年度）")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="住基ネット照会ファイル")
@plain_option
@click.option("--no-progress", is_flag=True)
@requires(Permission.JUKI_CREATE)
def request(year: int | None, out: Path, plain: bool, no_progress: bool) -> None:
    """Query every current numbered person who filed this year, and their household members."""
    from jutaku.jobs.errors import JobRefused
    from jutaku.juki.requests import request_juki
    from jutaku.linkage.commands import echo_exclusions

    try:
        result = request_juki(year or _fiscal_year(jst_date(datetime.now(UTC))), out, actor=current_actor(), plain=plain,
                              progress=not no_progress)
    except JobRefused as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"job {result.job_id}: 新規照会 {result.created} 件")
    echo_exclusions(result.job_id, result.excluded, "juki-request")
    if result.path is None:
        click.echo("送付する照会はありません（ファイルは作成していません）。")
    else:
        click.echo(f"住基ネット照会: {result.path} ({result.written} 件, sha256 {result.sha256})")


@juki.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report outcomes, change nothing.")
@click.option("--encoding", type=click.Choice(["utf-8", "cp932"]), default=None, help="Default: detect.")
@click.option("--rejections", "rejections_path", type=click.Path(path_type=Path), default=None)
@click.option("--notices", "notices_path", type=click.Path(path_type=Path), default=None)
@click.option("--no-progress", is_flag=True)
@requires(Permission.JUKI_IMPORT)
def import_results(file: Path, dry_run: bool, encoding: str | None, rejections_path: Path | None,
                   notices_path: Path | None, no_progress: bool) -> None:
    """Store Juki-net answers: confirmations, deaths, and discrepancies for the notice list."""
    from jutaku import config
    from jutaku.domain.juki import LABELS
    from jutaku.formats.layouts import NOTICE_LIST
    from jutaku.juki.results import KIND, import_juki_results, write_notice_list
    from jutaku.registry.commands import emit_list, run_result_import

    job = run_result_import(import_juki_results, file, kind=KIND, labels=LABELS, settled=frozenset({"OK", "D02"}),
                            list_title="要確認リスト", dry_run=dry_run, encoding=encoding,
                            rejections_path=rejections_path, no_progress=no_progress)
    if job is None:
        return
    path = notices_path or config.get().output_dir / f"notices-juki-{job.job_id}.csv"
    emit_list(job, NOTICE_LIST.name, "届出勧奨リスト", lambda: write_notice_list(job.job_id, path, actor=current_actor()))
