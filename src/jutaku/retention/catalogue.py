"""The backup catalogue: which backups exist, when each expires, and the expiry purge (ADR 0013).

A backup holds what was deleted after it was taken — register entries in clear, numbers and answers
with the wrapped data keys that open them under the KEK — until the backup file itself is gone. So every
backup has a retention period (``JUTAKU_BACKUP_RETENTION_DAYS``, :mod:`jutaku.config`) and
:func:`prune_backups` removes the files past it; a deletion record states the day by which the last
backup still holding the person expires (:func:`last_expiry`).

The catalogue lives outside the database, beside the deletion ledger (``<home>/ledger/backups.jsonl``,
0600, one JSON line per event: ``begin`` before a copy starts, ``done`` or ``failed`` after it, ``pruned``),
so a restore, which replaces the database, cannot make it forget a backup. Backup files in the backup
folder that the catalogue does not list (taken before it existed) count too, dated by their name. A
backup is catalogued *before* its copy starts, so a deletion running meanwhile never promises too early.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from django.db import transaction

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain.jst import format_file_stamp, parse_file_stamp
from jutaku.domain.retention import (
    BackupCopy,
    backup_expires_on,
    effective_expiry,
    is_expired,
    last_backup_expiry,
)
from jutaku.domain.wareki import jst_date

CATALOGUE_NAME: Final = "backups.jsonl"
#: ``jutaku-YYYYMMDD-HHMMSS.sqlite3`` or ``.pgdump`` (JST, ADR 0027): the names
#: :func:`jutaku.retention.backup.backup` gives; ``jutaku-YYYYMMDDTHHMMSSZ.…`` (UTC) is an older backup's.
BACKUP_NAME: Final = re.compile(r"^jutaku-([0-9]{8}-[0-9]{6}|[0-9]{8}T[0-9]{6}Z)\.(?:sqlite3|pgdump)$")
_UTC_STAMP: Final = "%Y%m%dT%H%M%SZ"
_IN_PROGRESS: Final = timedelta(days=1)


@dataclass(frozen=True)
class Entry:
    path: Path
    taken_at: datetime
    recorded_expiry: date
    state: str  # begun, done, failed, pruned, found (in the backup folder, not catalogued)

    def copy(self, retention_days: int, now: datetime) -> BackupCopy:
        """As the domain sees it. A copy still being written counts as present even before its file
        appears; one begun more than a day ago and never finished counts only if its file is there."""
        expiry = effective_expiry(jst_date(self.taken_at), self.recorded_expiry, retention_days)
        exists = self.path.exists()
        present = (self.state in ("done", "found") and exists) or (
            self.state == "begun" and (exists or now - self.taken_at < _IN_PROGRESS))
        return BackupCopy(self.taken_at, expiry, present)


@dataclass(frozen=True)
class PruneResult:
    removed: tuple[str, ...]  # file names
    kept: int
    dry_run: bool = False


def catalogue_path() -> Path:
    return config.get().home / "ledger" / CATALOGUE_NAME


def backup_name(moment: datetime, suffix: str) -> str:
    return f"jutaku-{format_file_stamp(moment)}.{suffix}"


def stamp_time(stamp: str) -> datetime:
    """When a backup was taken, from the stamp in its name (:data:`BACKUP_NAME`; an older backup's is UTC)."""
    if stamp.endswith("Z"):
        return datetime.strptime(stamp, _UTC_STAMP).replace(tzinfo=UTC)
    return parse_file_stamp(stamp)


def _append(**line: object) -> None:
    path = catalogue_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def begin(path: Path, taken_at: datetime) -> date:
    """Catalogue a backup about to be written; the day it will expire."""
    expires = backup_expires_on(jst_date(taken_at), config.get().backup_retention_days)
    _append(op="begin", file=str(path.resolve()), taken_at=taken_at.isoformat(), expires_on=expires.isoformat())
    return expires


def finish(path: Path, *, ok: bool, sha256: str = "", size: int = 0, manifest: dict[str, object] | None = None) -> None:
    """Catalogue the end of a copy; a finished one with its manifest (ADR 0019: found again by its hash)."""
    if ok:
        _append(op="done", file=str(path.resolve()), sha256=sha256, bytes=size,
                **({"manifest": manifest} if manifest is not None else {}))
    else:
        _append(op="failed", file=str(path.resolve()))


def done_line(sha256: str) -> dict[str, object] | None:
    """The newest ``done`` line of a backup with this SHA-256, or None (not a backup this home wrote)."""
    path = catalogue_path()
    found = None
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if line.strip():
            d = json.loads(line)
            if d.get("op") == "done" and d.get("sha256") == sha256:
                found = d
    return found


def entries() -> dict[Path, Entry]:
    """Every backup the catalogue or the backup folder knows, by resolved path."""
    found: dict[Path, Entry] = {}
    path = catalogue_path()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for line in lines:
        if not line.strip():
            continue
        d = json.loads(line)
        file = Path(d["file"])
        if d["op"] == "begin":
            found[file] = Entry(file, datetime.fromisoformat(d["taken_at"]), date.fromisoformat(d["expires_on"]), "begun")
        elif file in found:
            found[file] = Entry(file, found[file].taken_at, found[file].recorded_expiry, d["op"])
    cfg = config.get()
    folder = cfg.backup_dir
    for file in sorted(folder.iterdir()) if folder.is_dir() else []:
        match = BACKUP_NAME.match(file.name)
        if match and file.resolve() not in found:
            taken = stamp_time(match.group(1))
            found[file.resolve()] = Entry(file.resolve(), taken, backup_expires_on(
                jst_date(taken), cfg.backup_retention_days), "found")
    return found


def copies(now: datetime) -> list[BackupCopy]:
    days = config.get().backup_retention_days
    return [e.copy(days, now) for e in entries().values()]


def last_expiry(deleted_at: datetime) -> date | None:
    """The day by which the last backup that may hold data deleted at ``deleted_at`` expires (or ``None``)."""
    return last_backup_expiry(copies(deleted_at), deleted_at)


def prune_backups(*, now: datetime, actor: Actor, dry_run: bool = False, record_idle: bool = False) -> PruneResult:
    """Remove every backup file past its retention (``backup:prune``, audited with the names removed).

    A plain service function for the scheduler that purges expired outputs, and for `jutaku backup
    prune`. Audited when a file was removed, or always with ``record_idle`` (the command).
    """
    today = jst_date(now)
    days = config.get().backup_retention_days
    expired: list[Entry] = []
    kept = 0
    for entry in entries().values():
        copy = entry.copy(days, now)
        if not copy.present or (entry.state == "begun" and now - entry.taken_at < _IN_PROGRESS):
            continue  # gone already, or maybe still being written
        if is_expired(copy, today):
            expired.append(entry)
        else:
            kept += 1
    removed = tuple(e.path.name for e in expired)
    if not removed and not record_idle:
        return PruneResult(removed, kept, dry_run)
    with transaction.atomic():  # fail closed: no file goes unless its removal is on the record
        record(AuditEvent.BACKUP_PRUNE, actor=actor, outcome="dry_run" if dry_run else "ok",
               detail={"removed": len(removed), "kept": kept, "files": ",".join(removed)[:2000],
                       "retention_days": days})
        for entry in [] if dry_run else expired:
            entry.path.unlink(missing_ok=True)
            entry.path.with_name(entry.path.name + ".manifest.json").unlink(missing_ok=True)
            _append(op="pruned", file=str(entry.path), at=now.isoformat())
    return PruneResult(removed, kept, dry_run)


def prune_due(now: datetime, *, actor: Actor) -> int:
    """The housekeeping task (:mod:`jutaku.jobs.housekeeping`): prune expired backups, by one process at a
    time — another one already pruning (lock held) makes this a no-op rather than a second record."""
    lock = config.get().home / "ledger" / "backups.lock"
    if not lock.parent.is_dir():
        return 0
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        return len(prune_backups(now=now, actor=actor).removed)
    finally:
        os.close(fd)
