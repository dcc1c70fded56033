"""`jutaku keys` commands: rotate, retire, inventory. They parse, then call :mod:`jutaku.crypto.rotation`."""

from __future__ import annotations

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, echo_table, requires


@click.group(name="keys")
def keys() -> None:
    """Key management (rotation, retirement, inventory). Never shows key material."""


@keys.command()
@click.option("--chunk-size", default=5_000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--max-chunks", type=click.IntRange(1), default=None, help="Stop after N chunks; re-run resumes.")
@click.option("--dry-run", is_flag=True, help="Report what would be re-wrapped; write nothing.")
@click.option("--progress/--no-progress", default=True, show_default=True)
@requires(Permission.KEYS_ROTATE)
def rotate(chunk_size: int, max_chunks: int | None, dry_run: bool, progress: bool) -> None:
    """Create the next KEK and re-wrap every data key under it (resumes an unfinished rotation)."""
    from jutaku.crypto.rotation import rotate_kek

    result = rotate_kek(actor=current_actor(), progress=progress, chunk_size=chunk_size,
                        max_chunks=max_chunks, dry_run=dry_run)
    if result.dry_run:
        what = "create" if result.new_kek_created else "resume with"
        click.echo(f"dry run: would {what} KEK v{result.to_version} and re-wrap {result.remaining} data key(s)")
        return
    old = ", ".join(f"v{v}" for v in result.from_versions) or "-"
    click.echo(f"KEK v{result.to_version}{' (new)' if result.new_kek_created else ''}: re-wrapped "
               f"{result.rewrapped} data key(s) from {old} in {result.chunks} chunk(s), "
               f"{result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s)")
    if result.remaining:
        click.echo(f"{result.remaining} data key(s) still on older KEKs: run `jutaku keys rotate` again to resume")
    else:
        click.echo("rotation complete; retire old KEKs with `jutaku keys retire --version N` once backed up")


@keys.command()
@click.option("--version", "version", required=True, type=click.IntRange(1, 9999), help="KEK version to retire.")
@click.option("--dry-run", is_flag=True, help="Check that the version can be retired; delete nothing.")
@requires(Permission.KEYS_ROTATE)
def retire(version: int, dry_run: bool) -> None:
    """Delete an old KEK file once no data key is wrapped under it."""
    from jutaku.crypto.rotation import RetireRefused, retire_kek

    try:
        path = retire_kek(version, actor=current_actor(), dry_run=dry_run)
    except RetireRefused as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"{'dry run: would retire' if dry_run else 'retired'} KEK v{version} ({path})")


@keys.command()
@requires(Permission.KEYS_ROTATE)
def inventory() -> None:
    """List keys: id, algorithm, creation date, data keys per KEK version (no key material)."""
    from jutaku.crypto.rotation import inventory as build
    from jutaku.domain.jst import format_time

    echo_table(["鍵ID", "種類", "方式", "作成日時", "データ鍵の数", "状態"], [
        [row.key_id, KEY_KINDS.get(row.kind, row.kind), row.algorithm,
         format_time(row.created_at, none="-"), "-" if row.deks is None else row.deks,
         KEY_STATES.get(row.status, row.status)] for row in build()], right={4})


#: What `jutaku keys inventory` calls each kind of key and each state.
KEY_KINDS = {"kek": "鍵暗号化鍵（KEK）", "index": "検索索引の鍵", "media": "媒体ファイルの鍵"}
KEY_STATES = {"current": "使用中（最新）", "old, in use": "旧版（使用中）", "old, retirable": "旧版（廃止可能）",
              "missing (restore from backup)": "鍵ファイルなし（バックアップから復元）", "active": "使用中"}
