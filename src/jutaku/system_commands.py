"""`jutaku init` and `jutaku demo`."""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import requires
from jutaku.domain.installation import DEFAULT_DAYS, MAX_DAYS


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
    from jutaku.accounts.actor import SYSTEM
    from jutaku.allowlist.service import upgrade_packaged

    # Deny by default, but a fresh install starts from the newest packaged list, and an upgrade moves an
    # older packaged list to it (never an operator's own list).
    loaded = upgrade_packaged(SYSTEM)
    if loaded is not None:
        done.append(f"allow-list version {loaded.version_id} (packaged, sha256 {loaded.sha256})")
    from jutaku.audit import anchors

    done += anchors.initialise(SYSTEM)  # the anchor signing key (apart from the data keys) and a first anchor
    marker = home / "jutaku.json"
    if not marker.exists():
        marker.write_text(
            json.dumps(
                {"created_at": datetime.now(UTC).isoformat(), "mode": mode, "layout_version": 1,
                 "home_id": secrets.token_hex(16)},  # names this home in its backups' manifests (ADR 0019)
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        done.append(str(marker))
    return done


@click.command()
@click.option("--admin", "admin", default=None, help="最初のセキュリティ管理者の利用者名（利用者がいない時のみ）")
@click.option("--full-name", default=None, help="その氏名")
@click.option("--staff-id", default=None, help="その職員番号")
@click.option("--org", "organisation", default="bureau", show_default=True,
              type=click.Choice(["bureau", "kosha", "subcontractor", "vendor"]))
@click.option("--end", "end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="終了日（既定: 1年後）")
@click.option("--qr-svg", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--window-days", type=click.IntRange(1, MAX_DAYS), default=DEFAULT_DAYS, show_default=True,
              help=f"設置期間の日数（1〜{MAX_DAYS}）: この間に2人目のセキュリティ管理者を作成する")
@requires(Permission.SYSTEM_INIT)
def init(admin: str | None, full_name: str | None, staff_id: str | None, organisation: str, end: datetime | None,
         qr_svg: Path | None, window_days: int) -> None:
    """Create the home (JUTAKU_HOME): keys (0600), secret, database schema, console terminals, first admin
    and the installation window (ADR 0015)."""
    from jutaku import config
    from jutaku.accounts import bootstrap
    from jutaku.clikit import current_actor

    cfg = config.get()
    created = initialise_home(cfg.home, mode=cfg.mode)
    created += bootstrap.register_console(actor=current_actor())
    click.echo(f"Jutaku home: {cfg.home}")
    for item in created:
        click.echo(f"  created {item}")
    click.echo("database schema up to date")
    if admin is not None:
        _first_admin(admin, full_name, staff_id, organisation, end, qr_svg, window_days)
    elif not bootstrap.has_users():
        click.echo("利用者がいません。最初のセキュリティ管理者を作成してください: "
                   "jutaku init --admin 利用者名 --full-name 氏名 --staff-id 職員番号")


def _first_admin(admin: str, full_name: str | None, staff_id: str | None, organisation: str,
                 end: datetime | None, qr_svg: Path | None, window_days: int) -> None:
    from django.utils import timezone

    from jutaku.accounts import bootstrap, installation
    from jutaku.accounts.commands import read_new_password, show_enrolment
    from jutaku.accounts.errors import AccountsError
    from jutaku.accounts.passwords import POLICY_TEXT
    from jutaku.clikit import Refused, current_actor
    from jutaku.domain.jst import format_day, format_time

    if not full_name or not staff_id:
        raise Refused("--admin には --full-name と --staff-id が必要です")
    click.echo(POLICY_TEXT, err=True)
    today = timezone.localdate()
    end_date = end.date() if end else today + timedelta(days=365)
    try:
        created = bootstrap.create_first_admin(admin, read_new_password(), full_name=full_name, staff_id=staff_id,
                                               organisation=organisation, start_date=today, end_date=end_date,
                                               actor=current_actor(), window_days=window_days)
    except AccountsError as exc:
        raise Refused(str(exc)) from None
    click.echo(f"セキュリティ管理者 {admin} を作成しました（終了日 {format_day(end_date)}）。")
    show_enrolment(created.enrolment, qr_svg)
    click.echo(f"設置期間を開始しました（{format_time(installation.deadline())} まで）。この間に {admin} がサインインし、"
               "2人目のセキュリティ管理者を jutaku users create … --role security_admin で作成してください。"
               "その付与は二者承認なしで記録され、設置期間はその時点で終了します。以後、セキュリティ管理者と"
               "責任者の付与はすべて別のセキュリティ管理者の承認が必要です（docs/runbooks/first-install.md）。")


@click.command()
@click.option("--persons", default=10_000, show_default=True, help="Size of the synthetic world.")
@click.option("--seed", default=1, show_default=True)
@click.option("--code", "code_for", metavar="USERNAME", help="print the current TOTP code of a demo user and stop")
@requires(Permission.SYSTEM_INIT)
def demo(persons: int, seed: int, code_for: str | None) -> None:
    """Fresh demo home, a synthetic world, and every function that exists so far."""
    from jutaku.demo import demo_code, run_demo

    if code_for:
        click.echo(demo_code(code_for))
        return
    run_demo(persons=persons, seed=seed)
