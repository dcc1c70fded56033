"""`jutaku media` commands: the media ledger."""

from __future__ import annotations

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import requires


@click.group(name="media")
def media() -> None:
    """The media ledger (外部記録媒体 管理台帳)."""


@media.command(name="list")
@click.option("--limit", default=50, show_default=True)
@requires(Permission.MEDIA_LEDGER_VIEW)
def list_entries(limit: int) -> None:
    """List the most recent files read or written (日時, 利用者, 方向, 様式, ファイル, 件数, SHA-256)."""
    from jutaku.exchange.models import MediaLedgerEntry

    rows = MediaLedgerEntry.objects.order_by("-id")[:limit]
    click.echo("日時\t利用者\t方向\t様式\tファイル\t件数\t暗号化\t結果\tSHA-256")
    for e in rows:
        click.echo(
            f"{e.at:%Y-%m-%d %H:%M:%S}\t{e.username}\t{e.get_direction_display()}\t{e.interface}\t"
            f"{e.file_name}\t{e.record_count if e.record_count is not None else '-'}\t"
            f"{'あり' if e.encrypted else 'なし'}\t{'正常' if e.outcome == 'ok' else '拒否 ' + e.outcome}\t"
            f"{e.sha256[:16]}…"
        )
