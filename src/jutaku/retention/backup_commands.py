"""`jutaku backup [run|prune]` and `jutaku restore`: copies that keep deleted persons deleted and expire.

``jutaku backup --out DIR`` (no sub-command) is ``jutaku backup run --out DIR``, as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, requires


class _RunByDefault(click.Group):
    """A group whose default sub-command is ``run``: ``jutaku backup --out X`` keeps working."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(name="backup", cls=_RunByDefault)
def backup_cmd() -> None:
    """バックアップ（作成・保管期限切れの削除）。保管期間は JUTAKU_BACKUP_RETENTION_DAYS（既定 90 日）。"""


@backup_cmd.command(name="run")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="バックアップ先フォルダ（既定: JUTAKU_BACKUP_DIR またはホームの backups）")
@requires(Permission.BACKUP_RUN)
def run_cmd(out: Path | None) -> None:
    """A consistent copy of the database (keys are backed up separately; runbooks/keys.md)."""
    from jutaku.domain.jst import format_day
    from jutaku.retention.backup import BackupError, backup

    try:
        result = backup(out, actor=current_actor())
    except BackupError as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"バックアップ: {result.path} ({result.size} bytes, sha256 {result.sha256})")
    click.echo(f"保管期限: {format_day(result.expires_on)}（この日以降の jutaku backup prune で削除されます）")


@backup_cmd.command(name="prune")
@click.option("--dry-run", is_flag=True, help="削除せず、削除対象を表示するだけ")
@requires(Permission.BACKUP_RUN, own_housekeeping=("backups",))
def prune_cmd(dry_run: bool) -> None:
    """Remove the backups past their retention period (audited; the scheduler runs the same)."""
    from jutaku.retention.catalogue import prune_backups

    result = prune_backups(now=datetime.now(UTC), actor=current_actor(), dry_run=dry_run, record_idle=True)
    for name in result.removed:
        click.echo(f"{'削除対象' if dry_run else '削除'}: {name}")
    done = "は次のとおりです（削除していません）" if dry_run else "を削除しました"
    click.echo(f"保管期限切れのバックアップ {len(result.removed)} 件{done}。保管中 {result.kept} 件。")


@click.command(name="restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the current database is replaced.")
@requires(Permission.BACKUP_RUN)
def restore_cmd(file: Path, yes: bool) -> None:
    """Replace the database with a backup this home wrote, once the restored copy opens and verifies, then
    re-apply every deletion made since; on any failure the current database stays (ADR 0019)."""
    from jutaku.retention.restore import RestoreFailed, restore

    if not yes:
        raise Refused("リストアは現在のデータベースを置き換えます: --yes を付けて実行してください")
    try:
        result = restore(file, actor=current_actor())
    except RestoreFailed as exc:
        raise Refused(exc.message) from exc
    click.echo(f"リストアしました: {result.path}")
    if result.manifest is not None and result.manifest.created_at:
        click.echo(f"  バックアップ: {_jst(result.manifest.created_at)} に {result.manifest.created_by} が作成")
    click.echo(f"  確認済み: マニフェストとハッシュ、ホームと鍵、スキーマ、監査証跡（署名付きアンカー、seq "
               f"{result.audit_seq} まで）")
    if result.migrated:
        click.echo(f"  スキーマ: 古いバックアップのため {result.migrated} 件のマイグレーションを適用しました")
    click.echo(f"  削除の再適用 {result.reapplied} 人（削除記録 {result.tombstones} 人）")
    if result.aside_left:
        click.echo(f"  注意: 置き換えた元のデータベース {result.aside_left} を削除できませんでした。確認のうえ削除して"
                   "ください（削除した対象者を含む可能性があります）。")
    click.echo("セッションはバックアップ時点のものです: 必要なら jutaku login し直してください。")


def _jst(iso: str) -> str:
    """A manifest's stored time (ISO 8601, UTC) as people read it."""
    from jutaku.domain.jst import format_time

    try:
        return format_time(datetime.fromisoformat(iso))
    except ValueError:
        return iso
