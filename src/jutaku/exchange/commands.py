"""`jutaku media` commands."""

from __future__ import annotations

import click


@click.group(name="media")
def media() -> None:
    """The media ledger (外部記録媒体 管理台帳)."""
