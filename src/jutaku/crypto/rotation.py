"""KEK rotation, retirement and the key inventory (CRY-03).

Rotation writes the next KEK file and re-wraps every ``PersonKey`` under it, one transaction per chunk.
It is resumable: a run that stops leaves rows on older versions, and the next run picks them up
(it creates a new KEK only when no row is left on an older one). Field tokens are untouched: they
name the DEK version, not the KEK. An old KEK file stays until ``jutaku keys retire --version N``,
which refuses while any row still uses it. ADR 0002, runbook docs/runbooks/keys.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from django.db import connections, transaction
from django.utils import timezone
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.crypto._audit import record_event
from jutaku.crypto.envelope import NONCE_BYTES, dek_aad, unwrap_dek
from jutaku.crypto.keyring import ALGORITHMS, KeyFileError, KeyRing, get_keyring
from jutaku.crypto.store import TABLE

CHUNK_SIZE: Final = 5_000


class RetireRefused(Exception):
    """The KEK version cannot be retired (still in use, current, or unknown)."""


@dataclass(frozen=True)
class RotationResult:
    to_version: int
    from_versions: tuple[int, ...]
    new_kek_created: bool
    rewrapped: int
    remaining: int
    chunks: int
    seconds: float
    dry_run: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.rewrapped / self.seconds if self.seconds > 0 else 0.0

    @property
    def complete(self) -> bool:
        return self.remaining == 0


@dataclass(frozen=True)
class KeyInfo:
    """One line of the inventory: no key material, only ids, algorithm, dates and usage."""

    key_id: str
    kind: str
    algorithm: str
    created_at: datetime | None
    version: int | None
    deks: int | None
    status: str


def deks_per_kek_version(using: str = "default") -> dict[int, int]:
    with connections[using].cursor() as cur:
        cur.execute(f"SELECT kek_version, COUNT(*) FROM {TABLE} GROUP BY kek_version")  # noqa: S608
        return {int(v): int(n) for v, n in cur.fetchall()}


def _pending(to_version: int, using: str) -> tuple[int, tuple[int, ...]]:
    counts = deks_per_kek_version(using)
    older = tuple(sorted(v for v in counts if v != to_version))
    return sum(counts[v] for v in older), older


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} rows/s")


@contextmanager
def _progress(show: bool, total: int, label: str) -> Iterator[Any]:
    if not show:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        yield (bar, bar.add_task(label, total=total))


def rotate_kek(*, actor: Actor, progress: bool = True, keyring: KeyRing | None = None,
               chunk_size: int = CHUNK_SIZE, max_chunks: int | None = None, dry_run: bool = False,
               using: str = "default") -> RotationResult:
    """Rotate the KEK: create the next version (unless a rotation is pending) and re-wrap every DEK.

    ``max_chunks`` stops after that many chunks (rotate in slices; the next run resumes).
    ``dry_run`` reports what would be done and writes nothing.
    """
    ring = keyring if keyring is not None else get_keyring()
    started = time.perf_counter()
    pending, older = _pending(ring.current_kek_version, using)
    created = False
    if dry_run:
        to = ring.current_kek_version if pending else ring.current_kek_version + 1
        total = pending if pending else sum(deks_per_kek_version(using).values())
        return RotationResult(to, older or (ring.current_kek_version,), not pending, 0, total, 0, 0.0, True)
    if not pending:
        with transaction.atomic(using=using):
            new = ring.create_next_kek()
            created = True
            record_event(AuditEvent.KEYS_ROTATE, actor=actor, outcome="started",
                         detail={"to_version": new.version, "new_kek": new.name})
        pending, older = _pending(ring.current_kek_version, using)
    to = ring.current_kek_version
    rewrapped = chunks = 0
    last_id = 0
    with _progress(progress, pending, f"KEK → v{to}") as bar:
        while max_chunks is None or chunks < max_chunks:
            with transaction.atomic(using=using):
                done, last_id = _rewrap_chunk(ring, to, last_id, chunk_size, using)
            if not done:
                break
            rewrapped += done
            chunks += 1
            if bar is not None:
                bar[0].advance(bar[1], done)
    remaining, _ = _pending(to, using)
    seconds = time.perf_counter() - started
    with transaction.atomic(using=using):
        record_event(AuditEvent.KEYS_ROTATE, actor=actor, outcome="ok" if remaining == 0 else "partial",
                     detail={"to_version": to, "from_versions": ",".join(map(str, older)),
                             "rewrapped": rewrapped, "remaining": remaining, "chunks": chunks,
                             "new_kek": created, "seconds": round(seconds)})
    return RotationResult(to, older, created, rewrapped, remaining, chunks, seconds)


def _rewrap_chunk(ring: KeyRing, to: int, after_id: int, size: int, using: str) -> tuple[int, int]:
    """Re-wrap up to ``size`` rows with id > ``after_id`` not on ``to``; returns (count, last id)."""
    conn = connections[using]
    lock = " FOR UPDATE" if conn.vendor == "postgresql" else ""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT id, person_ref, kek_version, wrapped_dek FROM {TABLE} "  # noqa: S608
            f"WHERE id > %s AND kek_version <> %s ORDER BY id LIMIT %s{lock}",
            [after_id, to, size],
        )
        rows = cur.fetchall()
        if not rows:
            return 0, after_id
        kek = ring.kek_cipher(to)
        nonces = os.urandom(NONCE_BYTES * len(rows))
        now = conn.ops.adapt_datetimefield_value(timezone.now())
        updates = []
        for i, (row_id, ref, version, wrapped) in enumerate(rows):
            dek = unwrap_dek(ring, ref, int(version), bytes(wrapped))
            nonce = nonces[i * NONCE_BYTES:(i + 1) * NONCE_BYTES]
            updates.append((to, nonce + kek.encrypt(nonce, dek, dek_aad(ref, to)), now, row_id, version))
        cur.executemany(
            f"UPDATE {TABLE} SET kek_version = %s, wrapped_dek = %s, rotated_at = %s "  # noqa: S608
            "WHERE id = %s AND kek_version = %s",
            updates,
        )
    return len(rows), int(rows[-1][0])


def retire_kek(version: int, *, actor: Actor, keyring: KeyRing | None = None, dry_run: bool = False,
               using: str = "default") -> Path:
    """Delete the file of KEK ``version`` once no DEK uses it; audited ``keys:retire``."""
    ring = keyring if keyring is not None else get_keyring()
    if version == ring.current_kek_version:
        raise RetireRefused(f"KEK v{version} is the current KEK: rotate first")
    if version not in ring.kek_versions:
        raise RetireRefused(f"KEK v{version} is not in {ring.keys_dir} (already retired or never created)")
    with transaction.atomic(using=using), connections[using].cursor() as cur:
        if connections[using].vendor == "postgresql":
            cur.execute(f"LOCK TABLE {TABLE} IN SHARE MODE")
        cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE kek_version = %s", [version])  # noqa: S608
        in_use = int(cur.fetchone()[0])
        if in_use:
            raise RetireRefused(
                f"KEK v{version} still wraps {in_use} data key(s): run `jutaku keys rotate` until it finishes"
            )
        path = ring.keys_dir / f"kek-{version:04d}.key"
        if dry_run:
            return path
        record_event(AuditEvent.KEYS_RETIRE, actor=actor, detail={"version": version, "file": path.name})
        return ring.remove_kek(version)


def inventory(keyring: KeyRing | None = None, *, using: str = "default") -> list[KeyInfo]:
    """Every key: id, algorithm, creation date, and the DEKs wrapped under each KEK version."""
    ring = keyring if keyring is not None else get_keyring()
    counts = deks_per_kek_version(using)
    current = ring.current_kek_version
    rows: list[KeyInfo] = []
    for v in sorted(set(ring.kek_versions) | set(counts)):
        try:
            key = ring.kek(v)
        except KeyFileError:
            rows.append(KeyInfo(f"kek-{v:04d}:MISSING", "kek", ALGORITHMS["kek"], None, v, counts.get(v, 0),
                                "missing (restore from backup)"))
            continue
        status = "current" if v == current else ("old, in use" if counts.get(v) else "old, retirable")
        rows.append(KeyInfo(key.key_id, "kek", ALGORITHMS["kek"], key.created_at, v, counts.get(v, 0), status))
    for key in (ring.index_key, ring.media_key):
        rows.append(KeyInfo(key.key_id, key.kind, ALGORITHMS[key.kind], key.created_at, None, None, "active"))
    return rows
