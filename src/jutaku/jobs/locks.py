"""Single runner per job kind (REL-03): an OS file lock, plus a PostgreSQL advisory lock.

``flock`` on ``<home>/locks/<kind>.lock`` stops a second process on this host; the kernel drops it when
the holder dies, however it dies (SIGKILL included), so a crash never leaves a stale lock behind. On
PostgreSQL a session-level ``pg_try_advisory_lock`` stops a second host sharing the database; the
server drops it when the holder's session ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import DatabaseError, connection

from jutaku.jobs.errors import JobBusy

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")

#: After a holder on another host is killed, its server session may take a moment to end.
PG_LOCK_GRACE_SECONDS = 3.0
#: How often a busy file lock is tried again (0.02 s apart) before the run is refused.
PROBE_RETRIES = 5


def check_kind(kind: str) -> str:
    """A kind names a lock file, so it is a short lower-case identifier."""
    if not KIND_PATTERN.fullmatch(kind):
        raise ValueError(f"job kind must match {KIND_PATTERN.pattern}, not {kind!r}")
    return kind


def advisory_key(kind: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``."""
    digest = hashlib.sha256(f"jutaku.jobs:{kind}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def kind_lock(kind: str, *, locks_dir: Path | None = None) -> Iterator[None]:
    """Hold the lock of ``kind`` for the block, or raise :class:`JobBusy` at once."""
    check_kind(kind)
    if locks_dir is None:
        from jutaku import config

        locks_dir = config.get().locks_dir
    with file_lock(kind, locks_dir), _advisory_lock(kind):
        yield


def _flock_or_busy(fd: int, kind: str) -> None:
    """The exclusive lock, or :class:`JobBusy`; a free lock that a status probe (:func:`held`) holds for an
    instant is retried for a moment rather than refused."""
    for attempt in range(PROBE_RETRIES + 1):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if attempt == PROBE_RETRIES:
                raise JobBusy(kind, f"process {_read_holder(fd)} on this host") from None
            time.sleep(0.02)


@contextlib.contextmanager
def file_lock(kind: str, locks_dir: Path) -> Iterator[None]:
    """``flock`` on ``<locks_dir>/<kind>.lock``; the file records the holder's pid for the message."""
    check_kind(kind)
    locks_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(locks_dir / f"{kind}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _flock_or_busy(fd, kind)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def held(kind: str, *, locks_dir: Path | None = None) -> bool:
    """Whether a live process holds the lock of ``kind`` (a job row ``running`` whose lock is free belongs
    to a process that died: it is shown as interrupted). Probed with a shared lock, released at once: it
    never blocks, and a runner starting in that instant retries (:func:`file_lock`)."""
    check_kind(kind)
    if locks_dir is None:
        from jutaku import config

        locks_dir = config.get().locks_dir
    try:
        fd = os.open(locks_dir / f"{kind}.lock", os.O_RDONLY)
    except FileNotFoundError:
        return _advisory_held(kind)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return _advisory_held(kind)


def _advisory_held(kind: str) -> bool:
    """On PostgreSQL, whether a session (on any host) holds the advisory lock of ``kind``."""
    if connection.vendor != "postgresql":
        return False
    key = advisory_key(kind)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock_shared(%s)", [key])
        row = cur.fetchone()
        if row and row[0]:
            cur.execute("SELECT pg_advisory_unlock_shared(%s)", [key])
            return False
    return True


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:  # pragma: no cover - diagnostics only
        text = ""
    return text if text.isdigit() else "unknown"


@contextlib.contextmanager
def _advisory_lock(kind: str) -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    key = advisory_key(kind)
    deadline = time.monotonic() + PG_LOCK_GRACE_SECONDS
    while not _try_advisory(key):
        if time.monotonic() >= deadline:
            raise JobBusy(kind, "another host: PostgreSQL advisory lock held")
        time.sleep(0.2)
    try:
        yield
    finally:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])
        except DatabaseError:  # pragma: no cover - the session is gone, and its lock with it
            pass


def _try_advisory(key: int) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
        row = cur.fetchone()
    return bool(row and row[0])
