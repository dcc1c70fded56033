"""A restore from a backup taken before a deletion keeps the deleted persons deleted (issue 6 item 3):
the deletion ledger outside the database is re-applied, and the audit chain still verifies.
Through the command line, on SQLite (online backup API) and PostgreSQL (pg_dump / pg_restore)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import TARGETS
from jutaku.retention.catalogue import BACKUP_NAME
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import child_query, login_as, run_jutaku

pytestmark = pytest.mark.subprocess


def test_a_restore_re_applies_every_deletion_made_after_the_backup(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=53, kit_share=1.0, portal_share=0.0), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    out = run_jutaku(child_home, "backup", "--out", str(tmp_path / "backups"), check=True).stdout
    backup_file = next(p for p in (tmp_path / "backups").iterdir() if BACKUP_NAME.match(p.name))
    assert "バックアップ" in out and oct(backup_file.stat().st_mode & 0o777) == "0o600"

    with (world / "targets.csv").open(encoding="utf-8-sig", newline="") as fh:
        targets = list(csv.DictReader(fh))
    held = {r[0] for r in child_query(child_home, "SELECT p.person_id FROM registry_mynumberrecord m "
                                                  "JOIN registry_person p ON p.id = m.person_id")}
    moved = [{**t, "状態": "2", "状態日付": "20261101"} for t in targets if t["個人ID"] in held][:6]
    write_csv(tmp_path / "moves.csv", TARGETS, moved)
    run_jutaku(child_home, "import", "targets", str(tmp_path / "moves.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "delete", "propose", "--out", str(tmp_path / "proposal.csv"), check=True)
    asked = run_jutaku(child_home, "delete", "request", str(tmp_path / "proposal.csv"), "--reason", "退去",
                       check=True).stdout
    approval = asked.split("#", 1)[1].split(" ", 1)[0]
    run_jutaku(login_as(child_home, "supervisor"), "approvals", "approve", approval, check=True)
    run_jutaku(child_home, "delete", "run", approval, "--no-progress", check=True)
    doomed = tuple(t["個人ID"] for t in moved)
    assert all(d.isdigit() for d in doomed)
    marks = ", ".join(f"'{d}'" for d in doomed)  # digits only: safe to inline

    def holding() -> int:
        [(n,)] = child_query(child_home, "SELECT count(*) FROM registry_mynumberrecord m JOIN registry_person p "
                                         f"ON p.id = m.person_id WHERE p.person_id IN ({marks})")
        [(k,)] = child_query(child_home, f"SELECT count(*) FROM crypto_person_key WHERE person_ref IN ({marks})")
        return int(n) + int(k)

    assert holding() == 0
    assert run_jutaku(child_home, "restore", str(backup_file)).returncode == 2  # needs --yes
    restored = run_jutaku(child_home, "restore", str(backup_file), "--yes", check=True).stdout
    assert "削除の再適用 6 人" in restored
    assert holding() == 0  # the backup held them; the ledger deleted them again
    [(kept,)] = child_query(child_home, "SELECT count(*) FROM registry_mynumberrecord")
    assert kept == len(held) - 6
    [(records,)] = child_query(child_home,
                               f"SELECT count(*) FROM retention_deletionrecord WHERE person_ref IN ({marks})")
    assert records == 6
    assert run_jutaku(child_home, "audit", "verify", check=True).returncode == 0
