"""`jutaku audit` commands."""

from __future__ import annotations

import click


@click.group(name="audit")
def audit() -> None:
    """The tamper-evident audit trail."""
