"""`jutaku sim` commands."""

from __future__ import annotations

import click


@click.group(name="sim")
def sim() -> None:
    """The synthetic world and simulated external systems (synthetic data only)."""
