"""Backup and restore that keep deleted persons deleted (issue 6 item 3; runbook retention.md).

A backup taken before a deletion still holds the deleted rows and the wrapped data keys. So every
deletion is also written to the **deletion ledger**, a file outside the database
(``<home>/ledger/deletions.jsonl``, 0600, one JSON line per person: 個人ID, approval, 削除番号, time; no
number), and ``restore`` re-applies the ledger — together with the deletion records of the database it
replaces — to the restored database before anyone can use it: numbers, integrated numbers, answers,
Juki-net data and data keys of every deleted person are removed again, and a missing 削除記録 is
re-created (method 再適用). Keys are not in a backup (they are backed up separately, runbooks/keys.md).

SQLite: the online backup API (a consistent copy). PostgreSQL: ``pg_dump -Fc`` / ``pg_restore --clean``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from django.db import DatabaseError, connection, connections, transaction

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.audit import anchors
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record, record_many
from jutaku.crypto.envelope import forget_everywhere
from jutaku.crypto.models import PersonKey
from jutaku.juki.models import JukiResult
from jutaku.linkage.models import InquiryResult, IntegratedNumber
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.retention.models import DeletionRecord

log = logging.getLogger(__name__)
LEDGER_NAME: Final = "deletions.jsonl"
REAPPLIED: Final = "削除の再適用（リストア後）"


class BackupError(RuntimeError):
    """The backup or restore could not be made; nothing was replaced."""


@dataclass(frozen=True)
class Tombstone:
    person_ref: str
    approval_id: int
    deletion_no: str
    executed_at: str


@dataclass(frozen=True)
class BackupResult:
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    reapplied: int
    tombstones: int


def ledger_path() -> Path:
    return config.get().home / "ledger" / LEDGER_NAME


def _db_tombstones() -> dict[str, Tombstone]:
    return {r.person_ref: Tombstone(r.person_ref, r.approval_id, r.deletion_no, r.executed_at.isoformat())
            for r in DeletionRecord.objects.all().iterator(chunk_size=5000)}


def read_ledger() -> dict[str, Tombstone]:
    path = ledger_path()
    if not path.exists():
        return {}
    out: dict[str, Tombstone] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out[d["person_ref"]] = Tombstone(d["person_ref"], int(d["approval_id"]), d["deletion_no"], d["executed_at"])
    return out


def sync_ledger() -> int:
    """Append to the ledger every deletion record of the database it does not hold yet; return how many."""
    known = read_ledger()
    new = [t for ref, t in _db_tombstones().items() if ref not in known]
    if not new:
        return 0
    path = ledger_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        for t in new:
            fh.write(json.dumps(t.__dict__, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return len(new)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def backup(out_dir: Path, *, actor: Actor) -> BackupResult:
    """A consistent copy of the database in ``out_dir`` (0600); the ledger is synced first."""
    sync_ledger()
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    cfg = config.get()
    if connection.vendor == "sqlite":
        target = out_dir / f"jutaku-{stamp}.sqlite3"
        source = sqlite3.connect(cfg.sqlite_path)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
    else:
        target = out_dir / f"jutaku-{stamp}.pgdump"
        _run(["pg_dump", "-Fc", "-f", str(target), _pg_url()])
    os.chmod(target, 0o600)
    result = BackupResult(target, _sha256(target), target.stat().st_size)
    with transaction.atomic():
        record(AuditEvent.BACKUP_RUN, actor=actor, objects=[f"sha256:{result.sha256}"],
               detail={"file": target.name, "bytes": result.size})
    return result


def _pg_url() -> str:
    url = config.get().database_url
    if not url:
        raise BackupError("no PostgreSQL URL configured")
    return url


def _run(args: list[str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=3600, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise BackupError(f"{args[0]} failed ({proc.returncode})")


def restore(backup_file: Path, *, actor: Actor) -> RestoreResult:
    """Replace the database with ``backup_file``, then re-apply every deletion (ledger ∪ current records)."""
    if not backup_file.is_file():
        raise BackupError(f"{backup_file} is not a file")
    sync_ledger()
    tombstones = read_ledger()
    try:
        tombstones |= {k: v for k, v in _db_tombstones().items() if k not in tombstones}
    except DatabaseError:  # the database being replaced may be unreadable: the ledger suffices
        log.warning("restore: the current database could not be read; using the deletion ledger only")
    connections.close_all()
    if connection.vendor == "sqlite":
        db = config.get().sqlite_path
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        shutil.copyfile(backup_file, db)
        os.chmod(db, 0o600)
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "-d", _pg_url(), str(backup_file)])
    # A signed ``restore`` anchor: the trail goes on from the backup's head; later anchors are superseded.
    anchors.after("restore")
    reapplied = reapply(tombstones, actor=actor)
    with transaction.atomic():
        record(AuditEvent.RESTORE_RUN, actor=actor, objects=[f"sha256:{_sha256(backup_file)}"],
               detail={"file": backup_file.name, "tombstones": len(tombstones), "reapplied": reapplied})
    return RestoreResult(backup_file, reapplied, len(tombstones))


def reapply(tombstones: dict[str, Tombstone], *, actor: Actor) -> int:
    """Delete again what every tombstone says was deleted — only data older than the deletion (a person may
    rightly have been registered again since) — and return how many persons needed it."""
    refs = list(tombstones)
    done = 0
    for start in range(0, len(refs), 1000):
        part = refs[start:start + 1000]
        persons = dict(Person.objects.filter(person_id__in=part).values_list("person_id", "pk"))
        with transaction.atomic():
            have = set(DeletionRecord.objects.filter(person_ref__in=part).values_list("person_ref", flat=True))
            again = [ref for ref in part if ref in persons and _delete_before(persons[ref], ref, tombstones[ref])]
            now = datetime.now(UTC)
            DeletionRecord.objects.bulk_create([
                DeletionRecord(deletion_no=tombstones[ref].deletion_no, approval_id=tombstones[ref].approval_id,
                               person_id=persons[ref], person_ref=ref, reason="9", executed_at=now,
                               requested_by=actor.username, approved_by="-", items="再適用", method=REAPPLIED)
                for ref in part if ref not in have and ref in persons])
            record_many((AuditEntry(AuditEvent.NUMBER_DELETE, [ref], "reapplied", {"source": "restore"})
                         for ref in again), actor=actor)
            done += len(again)
        forget_everywhere(part)
    return done


def _delete_before(pk: int, ref: str, tombstone: Tombstone) -> bool:
    """Delete the person's data that existed at the deletion; True when anything was found."""
    when = datetime.fromisoformat(tombstone.executed_at)
    found = MyNumberRecord.objects.filter(person_id=pk, registered_at__lte=when).delete()[0]
    found += IntegratedNumber.objects.filter(person_id=pk, linked_at__lte=when).delete()[0]
    found += InquiryResult.objects.filter(person_id=pk, received_at__lte=when).delete()[0]
    found += JukiResult.objects.filter(person_id=pk, received_at__lte=when).delete()[0]
    found += PersonKey.objects.filter(person_ref=ref, created_at__lte=when).delete()[0]
    return found > 0
