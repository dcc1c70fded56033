"""`jutaku jobs` commands."""

from __future__ import annotations

import click


@click.group(name="jobs")
def jobs() -> None:
    """The job ledger."""
