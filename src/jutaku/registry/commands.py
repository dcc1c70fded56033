"""`jutaku import` commands."""

from __future__ import annotations

import click


@click.group(name="import")
def import_group() -> None:
    """Import files from the housing system (都住システム)."""
