"""Backup and restore that keep deleted persons deleted (issue 6 item 3, issue 12; runbook retention.md).

A backup taken before a deletion still holds what the deletion removed: the register entry in clear, the
filings, requests and rejection rows, and the ciphertexts of numbers and answers *with the wrapped data
keys that open them* (wrapped under the KEK, which is not in the backup but on the same installation).
Crypto-erasing a data key in the database does **not** make a backup's copy unreadable. Three things
limit a backup's copy of a deleted person (ADR 0013):

* **Expiry**: every backup is catalogued with the day it expires and ``jutaku backup prune`` removes it
  then (:mod:`jutaku.retention.catalogue`); the 削除記録 states the day by which the last backup holding
  the person expires.
* **Restore re-applies deletions**: every deletion is also written to the deletion ledger, a file outside
  the database (``<home>/ledger/deletions.jsonl``, 0600, one JSON line per person: 個人ID, approval,
  削除番号, time, backup expiry; no number), and a restore (:mod:`jutaku.retention.restore`) re-applies
  the ledger — with the deletion records of the database it replaces — to the restored copy before it
  replaces the database: everything the deletion erased that existed at the deletion is erased again
  (:mod:`jutaku.retention.erasure`), and a missing 削除記録 is re-created (method 再適用). So the application never shows a deleted person
  again; a copy of the backup file read outside the application is limited only by its expiry.
* **KEK retirement**: after a KEK rotation, retiring the old KEK and destroying its key backups makes the
  numbers and answers in older database backups unreadable (not their clear register fields).

SQLite: the online backup API (a consistent copy). PostgreSQL: ``pg_dump -Fc`` of one exported snapshot.
Every backup gets a manifest (:mod:`jutaku.retention.manifest`); :mod:`jutaku.retention.restore` checks it,
and the restored copy, before the copy replaces the database (ADR 0019).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from django.db import DatabaseError, connection, transaction

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record, record_many
from jutaku.crypto.envelope import forget_everywhere
from jutaku.crypto.models import PersonKey
from jutaku.domain.restore import Manifest
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.retention import catalogue
from jutaku.retention import manifest as manifests
from jutaku.retention.erasure import erase
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
    backup_expires_on: str | None = None  # ISO date; lines written before issue 12 have none


@dataclass(frozen=True)
class BackupResult:
    path: Path
    sha256: str
    size: int
    expires_on: date


def ledger_path() -> Path:
    return config.get().home / "ledger" / LEDGER_NAME


def _db_tombstones() -> dict[str, Tombstone]:
    """The latest deletion of every deleted person (a person may come back and be deleted again)."""
    return {r.person_ref: Tombstone(r.person_ref, r.approval_id, r.deletion_no, r.executed_at.isoformat(),
                                    r.backup_expires_on.isoformat() if r.backup_expires_on else None)
            for r in DeletionRecord.objects.order_by("executed_at", "id").iterator(chunk_size=5000)}


def _ledger_lines() -> list[Tombstone]:
    path = ledger_path()
    if not path.exists():
        return []
    # Only complete lines: an append killed mid-write leaves a torn last line, which is not a tombstone
    # (the next sync removes it and writes the line again from the database).
    complete = path.read_text(encoding="utf-8").split("\n")[:-1]
    return [Tombstone(d["person_ref"], int(d["approval_id"]), d["deletion_no"], d["executed_at"],
                      d.get("backup_expires_on"))
            for d in (json.loads(line) for line in complete if line.strip())]


def _drop_torn_tail(fd: int) -> None:
    """Cut the ledger back to its last complete line (after an append that was killed mid-write)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    keep, step = size, 1 << 16
    while keep > 0:
        start = max(0, keep - step)
        block = os.pread(fd, keep - start, start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, start + cut + 1)
            return
        keep = start
    os.ftruncate(fd, 0)


def read_ledger() -> dict[str, Tombstone]:
    """The latest tombstone of every person in the ledger (lines are appended in time order)."""
    return {t.person_ref: t for t in _ledger_lines()}


def sync_ledger() -> int:
    """Append to the ledger every deletion record of the database it does not hold yet; return how many."""
    known = {(t.person_ref, t.approval_id) for t in _ledger_lines()}
    new = [t for t in _db_tombstones().values() if (t.person_ref, t.approval_id) not in known]
    if not new:
        return 0
    path = ledger_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    _drop_torn_tail(fd)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        for t in new:
            fh.write(json.dumps(t.__dict__, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return len(new)


def all_tombstones() -> dict[str, Tombstone]:
    """Every deletion a restore re-applies: the ledger's, and the current database's not in it (synced)."""
    try:
        sync_ledger()
        tombstones = read_ledger()
        tombstones |= {k: v for k, v in _db_tombstones().items() if k not in tombstones}
    except DatabaseError:  # the database being replaced may be unreadable: the ledger suffices
        log.warning("restore: the current database could not be read; using the deletion ledger only")
        tombstones = read_ledger()
    return tombstones


def sha256_of(path: Path) -> str:
    return _sha256(path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def backup(out_dir: Path | None = None, *, actor: Actor) -> BackupResult:
    """A consistent copy of the database in ``out_dir`` (default: the configured backup folder; 0600),
    catalogued with the day it expires before the copy starts, with its manifest beside it and in the
    catalogue (ADR 0019); the deletion ledger is synced first."""
    sync_ledger()
    cfg = config.get()
    out_dir = out_dir or cfg.backup_dir
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = datetime.now(UTC)
    target = out_dir / catalogue.backup_name(started, "sqlite3" if connection.vendor == "sqlite" else "pgdump")
    expires = catalogue.begin(target, started)
    try:
        applied, versions, head = _copy(target)
        os.chmod(target, 0o600)
        digest, size = _sha256(target), target.stat().st_size
        described = Manifest(sha256=digest, size=size, vendor=_vendor(), home_id=manifests.home_id(create=True),
                             keys=manifests.needed_keys(versions), migrations=applied, file=target.name,
                             created_at=started.isoformat(), created_by=actor.username, audit_seq=head)
        manifests.write(target, described)
    except BaseException:
        target.unlink(missing_ok=True)
        manifests.path_for(target).unlink(missing_ok=True)
        catalogue.finish(target, ok=False)
        raise
    result = BackupResult(target, digest, size, expires)
    catalogue.finish(target, ok=True, sha256=digest, size=size, manifest=described.as_json())
    with transaction.atomic():
        record(AuditEvent.BACKUP_RUN, actor=actor, objects=[f"sha256:{result.sha256}"],
               detail={"file": target.name, "bytes": result.size, "expires_on": expires.isoformat()})
    return result


def _vendor() -> str:
    return "sqlite" if connection.vendor == "sqlite" else "postgresql"


Facts = tuple[dict[str, tuple[str, ...]], set[int], int]


def _copy(target: Path) -> Facts:
    """Copy the database to ``target``; the facts of the copy itself (its migrations, the KEK versions of
    its data keys, its audit head) for the manifest."""
    if connection.vendor != "sqlite":
        return _pg_dump(target)
    source = sqlite3.connect(config.get().sqlite_path)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    copy = sqlite3.connect(f"file:{target}?immutable=1", uri=True)
    try:
        return manifests.facts(copy.cursor())
    finally:
        copy.close()


def _pg_dump(target: Path) -> Facts:
    """``pg_dump -Fc`` of a snapshot exported by this transaction, whose facts are read in the same snapshot."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        found = manifests.facts(cursor)
        _run(["pg_dump", "-Fc", f"--snapshot={snapshot}", "-f", str(target), _pg_url()])
    return found


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


def reapply(tombstones: dict[str, Tombstone], *, actor: Actor) -> int:
    """Erase again what every tombstone says was deleted — only data that existed at the deletion (a
    person may rightly have come back since) — and return how many persons needed it. Set-based: one
    erasure per slice of 1,000 and deletion time (a deletion run stamps a whole chunk with one time)."""
    refs = list(tombstones)
    done = 0
    for start in range(0, len(refs), 1000):
        part = refs[start:start + 1000]
        persons = dict(Person.objects.filter(person_id__in=part).values_list("person_id", "pk"))
        with transaction.atomic():
            have = set(DeletionRecord.objects.filter(person_ref__in=part).values_list("person_ref", flat=True))
            now = datetime.now(UTC)
            again = _erase_again({ref: tombstones[ref] for ref in part if ref in persons}, persons, now)
            DeletionRecord.objects.bulk_create([
                DeletionRecord(deletion_no=tombstones[ref].deletion_no, approval_id=tombstones[ref].approval_id,
                               person_id=persons[ref], person_ref=ref, reason="9", executed_at=now,
                               requested_by=actor.username, approved_by="-", items="再適用", method=REAPPLIED,
                               backup_expires_on=_day(tombstones[ref].backup_expires_on))
                for ref in part if ref not in have and ref in persons])
            record_many((AuditEntry(AuditEvent.NUMBER_DELETE, [ref], "reapplied", {"source": "restore"})
                         for ref in again), actor=actor)
            done += len(again)
        forget_everywhere(part)
    return done


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _holding(pks: list[int], refs: list[str], before: datetime) -> set[str]:
    """The 個人ID of the persons whose register entry, number or data key from before ``before`` is back."""
    found = set(Person.objects.filter(pk__in=pks, deleted_at__isnull=True, updated_at__lte=before)
                .values_list("person_id", flat=True))
    found |= set(MyNumberRecord.objects.filter(person_id__in=pks, registered_at__lte=before)
                 .values_list("person__person_id", flat=True))
    return found | set(PersonKey.objects.filter(person_ref__in=refs, created_at__lte=before)
                       .values_list("person_ref", flat=True))


def _erase_again(tombstones: dict[str, Tombstone], persons: dict[str, int], now: datetime) -> list[str]:
    """Erase, per deletion time, what existed then; the 個人ID of the persons where anything was found."""
    by_time: dict[str, list[str]] = defaultdict(list)
    for ref, tombstone in tombstones.items():
        by_time[tombstone.executed_at].append(ref)
    again: list[str] = []
    for when, refs in by_time.items():
        pks = [persons[ref] for ref in refs]
        before = datetime.fromisoformat(when)
        found = _holding(pks, refs, before)
        erase(pks, refs, now=now, job_id=None, before=before)
        again += [ref for ref in refs if ref in found]
    return again
