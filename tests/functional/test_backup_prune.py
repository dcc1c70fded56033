"""Backups expire (issue 12 item 5): `jutaku backup` catalogues each copy with the day it expires and
`jutaku backup prune` removes the copies past the retention period, audited and counted; a dry run
removes nothing. Through the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jutaku.domain.wareki import jst_date
from jutaku.retention.catalogue import BACKUP_NAME
from tests.conftest import child_query, login_as, run_jutaku

pytestmark = pytest.mark.subprocess
RETENTION_DAYS = 7


def test_prune_removes_only_the_backups_past_their_retention_and_is_audited(child_home: dict[str, str]) -> None:
    env = {**child_home, "JUTAKU_BACKUP_RETENTION_DAYS": str(RETENTION_DAYS)}
    home = Path(env["JUTAKU_HOME"])
    made = run_jutaku(env, "backup", check=True).stdout  # the configured folder: <home>/backups
    fresh = next(p for p in (home / "backups").iterdir() if BACKUP_NAME.match(p.name))
    today = jst_date(datetime.now(UTC))
    assert f"保管期限: {(today + timedelta(days=RETENTION_DAYS)).isoformat()}" in made
    catalogue = [json.loads(line) for line in (home / "ledger" / "backups.jsonl").read_text().splitlines()]
    assert [c["op"] for c in catalogue] == ["begin", "done"] and catalogue[0]["file"] == str(fresh.resolve())
    # A copy taken before the catalogue existed, long ago (dated by its name), and one just expired.
    old = home / "backups" / f"jutaku-20250101T000000Z{fresh.suffix}"
    shutil.copyfile(fresh, old)
    edge = (datetime.now(UTC) - timedelta(days=RETENTION_DAYS + 1)).strftime("%Y%m%dT%H%M%SZ")
    expired = home / "backups" / f"jutaku-{edge}{fresh.suffix}"
    shutil.copyfile(fresh, expired)

    dry = run_jutaku(env, "backup", "prune", "--dry-run", check=True).stdout
    assert old.name in dry and expired.name in dry and fresh.name not in dry and old.exists() and expired.exists()
    done = run_jutaku(env, "backup", "prune", check=True).stdout
    assert "2 件を削除しました" in done and "保管中 1 件" in done
    assert not old.exists() and not expired.exists() and fresh.exists()
    assert Path(f"{fresh}.manifest.json").exists()  # the manifest goes with its backup, and stays with it
    again = run_jutaku(env, "backup", "prune", check=True).stdout
    assert "0 件を削除しました" in again and fresh.exists()

    # Nobody has to remember: the same prune runs at the start of every command, as the output purge does.
    shutil.copyfile(fresh, expired)
    run_jutaku(env, "jobs", "list", check=True)
    assert not expired.exists() and fresh.exists()

    audited = child_query(env, "SELECT username, outcome, detail FROM audit_record WHERE event = 'backup:prune' "
                               "ORDER BY seq")
    details = [(user, outcome, json.loads(detail)) for user, outcome, detail in audited]
    assert [(u == "system", o, d["removed"]) for u, o, d in details] == [
        (False, "dry_run", 2), (False, "ok", 2), (False, "ok", 0), (True, "ok", 1)]
    assert set(details[1][2]["files"].split(",")) == {old.name, expired.name}
    assert details[1][2]["retention_days"] == RETENTION_DAYS
    # Pruning is an operations task: a registrar may not.
    assert run_jutaku(login_as(env, "registrar"), "backup", "prune").returncode == 3
    assert run_jutaku(env, "audit", "verify", check=True).returncode == 0
