"""`jutaku restore` cannot destroy (issue 14 item 2, ADR 0019): a file that is not this home's backup, a cut
or changed backup, another home's backup, a backup of a newer schema or with a broken audit chain is refused
with the database untouched — and the same commands, `restore` included, work afterwards. A failure after
the switch puts the current database back and says so. Through the command line, on SQLite and PostgreSQL.

The database is told apart by its numbers: the backups are taken before the kit is registered, so the
current database holds numbers and every backup none.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jutaku.audit import triggers
from jutaku.retention.catalogue import BACKUP_NAME
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import ROOT, child_query, fresh_child_env, login_as, pg_url, run_jutaku

pytestmark = pytest.mark.subprocess
UNTOUCHED = "リストアしませんでした。現在のデータベースは変更していません。"


def numbers(env: dict[str, str]) -> int:
    [(n,)] = child_query(env, "SELECT count(*) FROM registry_mynumberrecord")
    return int(n)


def take_backup(env: dict[str, str], folder: Path) -> Path:
    run_jutaku(env, "backup", "--out", str(folder), check=True)
    return max(p for p in folder.iterdir() if BACKUP_NAME.match(p.name))


def manifest_of(backup: Path) -> dict[str, object]:
    return dict(json.loads(Path(f"{backup}.manifest.json").read_text(encoding="utf-8")))


def write_manifest(backup: Path, data: dict[str, object]) -> None:
    Path(f"{backup}.manifest.json").write_text(json.dumps(data), encoding="utf-8")


def copy_backup(backup: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    shutil.copyfile(backup, folder / backup.name)
    shutil.copyfile(f"{backup}.manifest.json", folder / f"{backup.name}.manifest.json")
    return folder / backup.name


def refused(env: dict[str, str], backup: Path, code: str) -> str:
    proc = run_jutaku(env, "restore", str(backup), "--yes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert UNTOUCHED in proc.stderr and f"[{code}]" in proc.stderr, proc.stderr
    return proc.stderr


def rewritten(backup: Path, folder: Path, statements: tuple[str, ...]) -> Path:
    """A copy of ``backup`` whose database ran ``statements`` (what a tampered or future database would
    hold), with a manifest that describes its bytes truthfully: only what is inside is wrong."""
    folder.mkdir(exist_ok=True)
    target = folder / backup.name
    url = pg_url()
    if url is None:
        shutil.copyfile(backup, target)
        conn = sqlite3.connect(target)
        try:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        finally:
            conn.close()
    else:
        _rewrite_pg(url, backup, target, statements)
    data = manifest_of(backup)
    from jutaku.retention.backup import sha256_of

    write_manifest(target, {**data, "sha256": sha256_of(target), "bytes": target.stat().st_size})
    return target


def _rewrite_pg(url: str, backup: Path, target: Path, statements: tuple[str, ...]) -> None:
    import psycopg

    scratch = f"jutaku_rewrite_{secrets.token_hex(4)}"
    base = url.rpartition("/")[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run(["pg_restore", "--no-owner", "-d", f"{base}/{scratch}", str(backup)], check=True,
                       capture_output=True)
        with psycopg.connect(f"{base}/{scratch}", autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[call-overload]
        subprocess.run(["pg_dump", "-Fc", "-f", str(target), f"{base}/{scratch}"], check=True, capture_output=True)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def leftovers(env: dict[str, str]) -> list[str]:
    """Restore workspaces and databases left behind (there must be none)."""
    left = [p.name for p in (Path(env["JUTAKU_HOME"]) / "restore").glob("*")]
    url = env.get("JUTAKU_DATABASE_URL")
    if url:
        live = url.rpartition("/")[2]
        left += [name for (name,) in child_query(env, "SELECT datname FROM pg_database")
                 if name.startswith(f"{live}_new_") or name.startswith(f"{live}_pre_")]
    return left


@pytest.fixture
def home(child_home: dict[str, str], tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, Path]]:
    """A home whose backup holds the register without numbers, and whose database holds the numbers."""
    world = tmp_path / "world"
    build_world(WorldSpec(persons=60, seed=71, kit_share=1.0, portal_share=0.0), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    backup = take_backup(child_home, tmp_path / "backups")
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    assert numbers(child_home) > 0
    yield child_home, backup, world


def test_files_that_are_not_this_homes_intact_backup_are_refused_and_nothing_changes(
        home: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    env, backup, world = home
    held = numbers(env)

    refused(env, world / "targets.csv", "R01")  # a CSV: no manifest, not in the catalogue
    cut = copy_backup(backup, tmp_path / "cut")
    with cut.open("r+b") as fh:
        fh.truncate(cut.stat().st_size // 2)
    assert "途中で切れている" in refused(env, cut, "R02")
    changed = copy_backup(backup, tmp_path / "changed")
    with changed.open("r+b") as fh:
        fh.seek(changed.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    refused(env, changed, "R03")
    future = copy_backup(backup, tmp_path / "future")
    data = manifest_of(future)
    migrations = dict(data["migrations"])  # type: ignore[call-overload]
    write_manifest(future, {**data, "migrations": {**migrations, "retention": [*migrations["retention"],
                                                                                "9999_from_the_future"]}})
    assert "retention.9999_from_the_future" in refused(env, future, "R06")
    garbled = copy_backup(backup, tmp_path / "garbled")
    Path(f"{garbled}.manifest.json").write_text("{", encoding="utf-8")
    refused(env, garbled, "R13")

    assert numbers(env) == held and leftovers(env) == []
    assert run_jutaku(env, "audit", "verify", check=True).returncode == 0
    outcomes = child_query(env, "SELECT outcome, detail FROM audit_record WHERE event = 'restore:run' ORDER BY seq")
    assert [(o, json.loads(d)["code"]) for o, d in outcomes] == [
        ("refused", "R01"), ("refused", "R02"), ("refused", "R03"), ("refused", "R06"), ("refused", "R13")]
    # The intact backup still restores: the numbers registered after it are gone, the trail verifies.
    done = run_jutaku(env, "restore", str(backup), "--yes", check=True).stdout
    assert "リストアしました" in done and "監査証跡（署名付きアンカー、seq" in done
    assert numbers(env) == 0 and leftovers(env) == []
    assert run_jutaku(env, "audit", "verify", check=True).returncode == 0


def test_another_homes_backup_is_refused_by_its_manifest_and_by_what_it_holds(
        home: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    env, backup, _ = home
    held = numbers(env)
    with fresh_child_env(tmp_path / "other-home", db_prefix="jutaku_other") as other_env:
        run_jutaku(other_env, "init", check=True)
        other = take_backup(login_as(other_env, "operations", username="other.op"), tmp_path / "other-backups")
    refused(env, other, "R04")
    ours = manifest_of(backup)
    forged = manifest_of(other)
    write_manifest(other, {**forged, "home_id": ours["home_id"]})
    assert "index" in refused(env, other, "R07")  # its keys are not this home's
    # A manifest forged to look like ours: the copy itself is loaded, checked, refused and dropped.
    write_manifest(other, {**forged, "home_id": ours["home_id"], "keys": ours["keys"]})
    refused(env, other, "R09")  # its audit chain is not the one this home's signed anchors fix
    assert numbers(env) == held and leftovers(env) == []
    assert run_jutaku(env, "audit", "verify", check=True).returncode == 0


def test_a_copy_from_a_newer_schema_or_with_a_broken_chain_is_refused_after_it_is_opened(
        home: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    env, backup, _ = home
    held = numbers(env)
    vendor = "postgresql" if pg_url() else "sqlite"
    future = rewritten(backup, tmp_path / "future", (
        "INSERT INTO django_migrations (app, name, applied) VALUES ('retention', '9999_from_the_future', "
        "CURRENT_TIMESTAMP)",))
    assert "retention.9999_from_the_future" in refused(env, future, "R06")
    tampered = rewritten(backup, tmp_path / "tampered", (
        *triggers.statements(vendor, install_=False), "UPDATE audit_record SET outcome = 'forged' WHERE seq = 2"))
    assert "seq 2" in refused(env, tampered, "R09")
    assert numbers(env) == held and leftovers(env) == []
    assert run_jutaku(env, "audit", "verify", check=True).returncode == 0
    run_jutaku(env, "jobs", "list", check=True)


INJECTED = """
import sys
from jutaku.bootstrap import setup_django
setup_django()
from jutaku.domain.restore import RestoreRefused
from jutaku.retention import restore

def fail(expected):
    raise RestoreRefused("R11", "試験のための失敗")

restore._confirm_switched = fail
sys.argv = ["jutaku", "restore", sys.argv[1], "--yes"]
from jutaku.cli import main
main()
"""


def test_a_failure_after_the_switch_puts_the_current_database_back_and_says_so(
        home: tuple[dict[str, str], Path, Path]) -> None:
    env, backup, _ = home
    held = numbers(env)
    proc = subprocess.run([sys.executable, "-c", INJECTED, str(backup)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "リストアを取り消し、元のデータベースに戻しました" in proc.stderr and "[R11]" in proc.stderr
    assert numbers(env) == held and leftovers(env) == []
    anchors = (Path(env["JUTAKU_HOME"]) / "audit-anchors" / "anchors.log").read_text(encoding="ascii")
    assert " restore " not in anchors  # nothing was anchored of the copy that did not stay
    [(outcome, detail)] = child_query(env, "SELECT outcome, detail FROM audit_record WHERE event = 'restore:run'")
    assert (outcome, json.loads(detail)["code"]) == ("rolled_back", "R11")
    assert run_jutaku(env, "audit", "verify", check=True).returncode == 0
    run_jutaku(env, "restore", str(backup), "--yes", check=True)
    assert numbers(env) == 0 and run_jutaku(env, "audit", "verify", check=True).returncode == 0


def test_a_backup_whose_manifest_file_was_lost_is_known_by_its_hash_in_the_catalogue(
        home: tuple[dict[str, str], Path, Path]) -> None:
    env, backup, _ = home
    Path(f"{backup}.manifest.json").unlink()
    catalogue = Path(env["JUTAKU_HOME"]) / "ledger" / "backups.jsonl"
    lines = [json.loads(line) for line in catalogue.read_text(encoding="utf-8").splitlines()]
    # As a line written before manifests existed: the hash and size only; the copy itself is then checked.
    catalogue.write_text("".join(json.dumps({k: v for k, v in line.items() if k != "manifest"}) + "\n"
                                 for line in lines), encoding="utf-8")
    run_jutaku(env, "restore", str(backup), "--yes", check=True)
    assert numbers(env) == 0 and run_jutaku(env, "audit", "verify", check=True).returncode == 0


KILL_SUPPORT = ROOT / "tests" / "integration" / "jobs" / "kill_support.py"


def test_a_running_job_stops_a_restore_and_a_dead_one_does_not(home: tuple[dict[str, str], Path, Path]) -> None:
    env, backup, _ = home
    job = subprocess.Popen([sys.executable, str(KILL_SUPPORT), "run", "--items", "20000", "--chunk", "200",
                            "--sleep", "0.02", "--pause", "0.05"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        while not child_query(env, "SELECT 1 FROM jobs_job WHERE kind = 'test.kill' AND \"cursor\" > 0"):
            assert job.poll() is None, job.communicate()
            time.sleep(0.01)
        assert "ジョブ #" in refused(env, backup, "R12")
    finally:
        job.kill()
        job.communicate()
    run_jutaku(env, "restore", str(backup), "--yes", check=True)  # its row says running; nothing runs it
    assert numbers(env) == 0
