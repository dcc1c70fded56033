"""`jutaku init` and `jutaku demo`."""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import requires


def initialise_home(home: Path, *, mode: str) -> list[str]:
    """Create the home folder, its keys and secret, and the database schema. Idempotent for keys."""
    from django.core.management import call_command

    from jutaku import config
    from jutaku.crypto.keyring import initialise_keys

    cfg = config.get()
    done: list[str] = []
    for folder in (home, cfg.keys_dir, cfg.output_dir, cfg.locks_dir):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    done += initialise_keys(cfg.keys_dir)
    if not cfg.secret_key_path.exists():
        fd = os.open(cfg.secret_key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(64))
        done.append(str(cfg.secret_key_path))
    call_command("migrate", interactive=False, verbosity=0)
    marker = home / "jutaku.json"
    if not marker.exists():
        marker.write_text(
            json.dumps(
                {"created_at": datetime.now(UTC).isoformat(), "mode": mode, "layout_version": 1},
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        done.append(str(marker))
    return done


@click.command()
@requires(Permission.SYSTEM_INIT)
def init() -> None:
    """Create the home (JUTAKU_HOME): keys (0600), secret, database schema."""
    from jutaku import config

    cfg = config.get()
    created = initialise_home(cfg.home, mode=cfg.mode)
    click.echo(f"Jutaku home: {cfg.home}")
    for item in created:
        click.echo(f"  created {item}")
    click.echo("database schema up to date")


@click.command()
@click.option("--persons", default=10_000, show_default=True, help="Size of the synthetic world.")
@click.option("--seed", default=1, show_default=True)
@requires(Permission.SYSTEM_INIT)
def demo(persons: int, seed: int) -> None:
    """Fresh demo home, a synthetic world, and every function that exists so far."""
    from jutaku.demo import run_demo

    run_demo(persons=persons, seed=seed)
