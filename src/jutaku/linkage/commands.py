"""`jutaku linkage request|import`: obtaining integrated numbers (団体内統合利用番号, seed ④–⑥)."""

from __future__ import annotations

from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, plain_option, requires


@click.group(name="linkage")
def linkage() -> None:
    """団体内統合利用番号の取得（連携サーバとのファイル交換）."""


@linkage.command(name="request")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="統合利用番号取得要求ファイル")
@plain_option
@click.option("--no-progress", is_flag=True)
@requires(Permission.LINKAGE_RUN)
def request(out: Path, plain: bool, no_progress: bool) -> None:
    """Create a request for every current registered person without an integrated number, and write them."""
    from jutaku.jobs.errors import JobRefused
    from jutaku.linkage.requests import request_linkage

    try:
        result = request_linkage(out, actor=current_actor(), plain=plain, progress=not no_progress)
    except JobRefused as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"job {result.job_id}: 新規要求 {result.created} 件")
    echo_exclusions(result.job_id, result.excluded, "linkage-request")
    if result.path is None:
        click.echo("送付する要求はありません（ファイルは作成していません）。")
        return
    click.echo(f"統合利用番号取得要求: {result.path} ({result.written} 件, sha256 {result.sha256})")
    if result.without_number:
        click.echo(f"個人番号が削除済のため送付しなかった要求: {result.without_number} 件（エラーとして記録）")


def echo_exclusions(job_id: int, excluded: int, kind: str) -> None:
    """Write and name the exclusion list of a request file's job (persons left out, X07), when it has rows."""
    from jutaku.registry.rejections import default_path, write_rejections

    if excluded:
        path, info = write_rejections(job_id, default_path(kind, job_id), actor=current_actor())
        click.echo(f"対象外リスト（利用停止中 X07 など）: {path} ({info.rows} rows)")


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
    from jutaku.linkage.results import KIND, import_linkage_results
    from jutaku.registry.commands import run_result_import

    run_result_import(import_linkage_results, file, kind=KIND, labels=LABELS, settled=frozenset({"OK"}),
                      list_title="要確認リスト（差戻・該当なし・エラー）", dry_run=dry_run, encoding=encoding,
                      rejections_path=rejections_path, no_progress=no_progress)


@click.group(name="inquiry")
def inquiry() -> None:
    """情報照会（照会ファイル作成・照会結果の取込）."""


@inquiry.command(name="create")
@click.option("--procedure", required=True, help="手続コード（JT…）")
@click.option("--year", required=True, type=click.IntRange(2000, 2100), help="照会年度")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="情報照会要求ファイル")
@plain_option
@click.option("--exclusions", "exclusions_path", type=click.Path(path_type=Path), default=None,
              help="Where to write the list of persons left out (default: the home's output folder).")
@click.option("--no-progress", is_flag=True)
@requires(Permission.INQUIRY_CREATE)
def create(procedure: str, year: int, out: Path, plain: bool, exclusions_path: Path | None,
           no_progress: bool) -> None:
    """Requests for every permitted (filing, person, information) of PROCEDURE in YEAR, and nothing else."""
    from jutaku.allowlist.names import current
    from jutaku.jobs.errors import JobRefused
    from jutaku.jobs.labels import COUNT_LABELS
    from jutaku.linkage.inquiries import KIND, ProcedureNotPermitted, create_inquiry_file
    from jutaku.registry.commands import echo_counts
    from jutaku.registry.rejections import default_path, write_rejections

    actor = current_actor()
    try:
        result = create_inquiry_file(procedure, year, out, actor=actor, plain=plain, progress=not no_progress)
    except (JobRefused, ProcedureNotPermitted) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"job {result.job_id}: {current().procedure(procedure)} {year}年度")
    echo_counts(result.counts, dict(COUNT_LABELS[KIND]))
    if any(code.startswith("X") for code in result.counts):
        path, info = write_rejections(result.job_id, exclusions_path or default_path(KIND, result.job_id),
                                      actor=actor)
        click.echo(f"照会対象外リスト: {path} ({info.rows} rows)")
    if result.path is None:
        click.echo("送付する照会要求はありません（ファイルは作成していません）。")
    else:
        click.echo(f"情報照会要求: {result.path} ({result.written} 件, sha256 {result.sha256})")


@inquiry.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report outcomes, change nothing.")
@click.option("--encoding", type=click.Choice(["utf-8", "cp932"]), default=None, help="Default: detect.")
@click.option("--rejections", "rejections_path", type=click.Path(path_type=Path), default=None,
              help="Where to write the list of refused rows (default: the home's output folder).")
@click.option("--notices", "notices_path", type=click.Path(path_type=Path), default=None,
              help="Where to write the notice list 届出勧奨リスト (default: the home's output folder).")
@click.option("--no-progress", is_flag=True)
@requires(Permission.INQUIRY_IMPORT)
def import_inquiry(file: Path, dry_run: bool, encoding: str | None, rejections_path: Path | None,
                   notices_path: Path | None, no_progress: bool) -> None:
    """Store an inquiry-result file; refused rows and errors go on a list, discrepancies on the notice list."""
    from jutaku import config
    from jutaku.domain.inquiry import OUTCOME_LABELS
    from jutaku.formats.layouts import NOTICE_LIST
    from jutaku.linkage.inquiry_results import KIND, import_inquiry_results, write_notice_list
    from jutaku.registry.commands import emit_list, run_result_import

    job = run_result_import(import_inquiry_results, file, kind=KIND, labels=OUTCOME_LABELS,
                            settled=frozenset({"OK", "N01", "N02"}), list_title="要確認リスト（差戻・エラー）",
                            dry_run=dry_run, encoding=encoding, rejections_path=rejections_path,
                            no_progress=no_progress)
    if job is None:
        return
    path = notices_path or config.get().output_dir / f"notices-{job.job_id}.csv"
    emit_list(job, NOTICE_LIST.name, "届出勧奨リスト", lambda: write_notice_list(job.job_id, path, actor=current_actor()))
