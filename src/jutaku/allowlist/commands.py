"""`jutaku allowlist load|show`: the legal allow-list as reviewed data."""

from __future__ import annotations

from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, echo_table, requires


@click.group(name="allowlist")
def allowlist() -> None:
    """情報連携の許可リスト（手続×特定個人情報、法的根拠つき）."""


@allowlist.command(name="load")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--note", default="", help="この版の説明（改正の根拠など）")
@requires(Permission.ALLOWLIST_LOAD)
def load(file: Path, note: str) -> None:
    """Check FILE whole and make it the active allow-list (who, when and its hash are recorded)."""
    from jutaku.allowlist.service import load_allowlist_file
    from jutaku.formats.errors import FileRejected

    try:
        result = load_allowlist_file(file, actor=current_actor(), note=note)
    except FileRejected as exc:
        raise Refused(str(exc)) from exc
    if result.unchanged:
        click.echo(f"有効な許可リスト（版 {result.version_id}）と同じ内容です: no change (sha256 {result.sha256}).")
    else:
        click.echo(f"許可リスト 版 {result.version_id} を有効にしました: {result.rules} 件 (sha256 {result.sha256})")


@allowlist.command(name="show")
@click.option("--procedure", default=None, help="手続コード（JT…）で絞り込み")
@requires(Permission.ALLOWLIST_VIEW)
def show(procedure: str | None) -> None:
    """The active version's rules with their legal basis and review status."""
    from jutaku.allowlist.service import overview
    from jutaku.domain.jst import format_time
    from jutaku.formats.layouts import HOUSING

    shown = overview(actor=current_actor(), procedure=procedure or "")
    version, rules = shown.version, shown.rules
    if version is None:
        click.echo("有効な許可リストがありません: すべての照会は拒否されます (deny by default).")
        return
    click.echo(f"版 {version.pk}  {format_time(version.loaded_at)} {version.loaded_by}  sha256 {version.sha256}")
    echo_table(["住宅区分", "手続", "手続コード", "特定個人情報", "特定個人情報名コード", "同意", "確認状況", "法的根拠"], [
        [HOUSING[r.housing_category], r.procedure_name, r.procedure_code, r.info_name, r.info_code,
         "要" if r.requires_consent else "不要", r.get_status_display(), r.legal_basis] for r in rules])
