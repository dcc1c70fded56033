"""`jutaku export business request|run`: the business export under dual control."""

from __future__ import annotations

from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, plain_option, requires


@click.group(name="export")
def export() -> None:
    """業務システム連携用ファイル（個人番号・団体内統合利用番号を含まない）."""


@export.group(name="business")
def business() -> None:
    """都営住宅管理総合システムへの照会結果の連携（二者承認）."""


@business.command(name="request")
@click.option("--procedure", required=True, help="手続コード（JT…）")
@click.option("--year", required=True, type=click.IntRange(2000, 2100), help="照会年度")
@click.option("--reason", required=True, help="依頼理由")
@requires(Permission.EXPORT_BUSINESS)
def request(procedure: str, year: int, reason: str) -> None:
    """Ask for an export; a different supervisor approves it with `jutaku approvals approve ID`."""
    from jutaku.accounts.errors import AccountsError
    from jutaku.allowlist.names import current
    from jutaku.linkage.export import request_export

    try:
        approval = request_export(procedure, year, actor=current_actor(), reason=reason)
    except AccountsError as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"承認依頼 #{approval.pk} を作成しました（業務システム連携 {current().procedure(procedure)} {year}年度）: "
               f"別の責任者が jutaku approvals approve {approval.pk} で承認します。")


@business.command(name="run")
@click.argument("approval_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="業務システム連携ファイル")
@plain_option
@requires(Permission.EXPORT_BUSINESS)
def run(approval_id: int, out: Path, plain: bool) -> None:
    """Write the approved export (once)."""
    from jutaku import config
    from jutaku.accounts.errors import AccountsError
    from jutaku.linkage.export import ExportRefused, run_export, write_exclusions

    try:
        result = run_export(approval_id, out, actor=current_actor(), plain=plain)
    except (ExportRefused, AccountsError) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"業務システム連携: {result.path} ({result.rows} 件, {result.persons} 人, sha256 {result.sha256})")
    if result.excluded:
        out_list = config.get().output_dir / f"exclusions-business-export-{approval_id}.csv"
        path, info = write_exclusions(result, out_list, actor=current_actor())
        click.echo(f"対象外リスト（利用停止中 X07）: {path} ({info.rows} rows)")
