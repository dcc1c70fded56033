"""`jutaku backup` and `jutaku restore`: copies that keep deleted persons deleted."""

from __future__ import annotations

from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, requires


@click.command(name="backup")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="バックアップ先フォルダ")
@requires(Permission.BACKUP_RUN)
def backup_cmd(out: Path) -> None:
    """A consistent copy of the database (keys are backed up separately; runbooks/keys.md)."""
    from jutaku.retention.backup import BackupError, backup

    try:
        result = backup(out, actor=current_actor())
    except BackupError as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"バックアップ: {result.path} ({result.size} bytes, sha256 {result.sha256})")


@click.command(name="restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the current database is replaced.")
@requires(Permission.BACKUP_RUN)
def restore_cmd(file: Path, yes: bool) -> None:
    """Replace the database with a backup, then re-apply every deletion made since (deletion ledger)."""
    from jutaku.retention.backup import BackupError, restore

    if not yes:
        raise Refused("リストアは現在のデータベースを置き換えます: --yes を付けて実行してください")
    try:
        result = restore(file, actor=current_actor())
    except BackupError as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"リストア: {result.path}; 削除の再適用 {result.reapplied} 人（削除記録 {result.tombstones} 人）")
    click.echo("セッションはバックアップ時点のものです: 必要なら jutaku login し直してください。")
