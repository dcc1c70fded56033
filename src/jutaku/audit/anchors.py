"""Signed anchors of the audit chain's head, appended to a file outside the database (LOG-04; ADR 0014).

An anchor fixes (seq, hash, count, time) of the head, signed with an Ed25519 key kept apart from the
database and from the data keys (:attr:`jutaku.config.Config.audit_signing_dir`). It is appended to
``anchors.log`` (:mod:`jutaku.audit.anchorfile` has the format) in :attr:`~jutaku.config.Config.audit_anchor_dir`:

- at init (``init``), after every job (``job``, :mod:`jutaku.jobs.runner`), after every command
  (``command``, :func:`jutaku.clikit.requires`), after a security-relevant record commits (``event``,
  :data:`jutaku.audit.events.ANCHORED_EVENTS`), at least every ``JUTAKU_AUDIT_ANCHOR_MINUTES`` while the
  trail grows (``periodic``, the task worker's loop), on `jutaku audit checkpoint` (``manual``), and after
  a restore (``restore``).

Writing never fails the operation that asked for it. It refuses (logged as a warning, and reported by
`jutaku audit verify` as BROKEN) when the trail contradicts the newest anchor, when the key exists but the
file is gone, or when the key is gone but the file is not: an anchor is never written over a tampered trail.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from jutaku import config
from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.audit import anchorfile
from jutaku.audit.anchorfile import Anchor, AnchorFileError
from jutaku.audit.chain import GENESIS_HASH
from jutaku.audit.events import AuditEvent

log = logging.getLogger(__name__)

ANCHOR_FILE: Final = "anchors.log"
PUBLIC_KEY_FILE: Final = "anchor-public.pem"
SIGNING_KEY_FILE: Final = "anchor-signing.key"
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_TAIL: Final = 4096



class AnchorRefused(RuntimeError):
    """No anchor was written; the message says why (Japanese, no data)."""


@dataclass(frozen=True)
class Location:
    anchor_dir: Path
    signing_dir: Path

    @property
    def anchor_file(self) -> Path:
        return self.anchor_dir / ANCHOR_FILE

    @property
    def public_key_file(self) -> Path:
        return self.anchor_dir / PUBLIC_KEY_FILE

    @property
    def signing_key_file(self) -> Path:
        return self.signing_dir / SIGNING_KEY_FILE


_override: Location | None = None
#: The time of the newest anchor this process read or wrote, per location (:func:`after_if_due`).
_newest_seen: dict[Location, datetime] = {}
_paused = False


def location() -> Location:
    if _override is not None:
        return _override
    cfg = config.get()
    return Location(cfg.audit_anchor_dir, cfg.audit_signing_dir)


def use_location(where: Location | None) -> None:
    """Point anchoring somewhere else (tests: one anchor file per test database); None: the configured one."""
    global _override
    _override = where


def _active() -> bool:
    """Anchoring runs in an initialised home (or where a test pointed it), never in a bare checkout, and
    not while a restore works on a copy that is not (yet) the database (:func:`paused`)."""
    return not _paused and (_override is not None or config.get().is_initialised)


@contextmanager
def paused() -> Iterator[None]:
    """No anchor from this process for the block: a restore checks and prepares a copy of a backup, whose
    trail must not be anchored unless that copy becomes the database (:func:`restored`)."""
    global _paused
    before, _paused = _paused, True
    try:
        yield
    finally:
        _paused = before


# ------------------------------------------------------------------------------------------------ keys


def signing_key(where: Location) -> Ed25519PrivateKey | None:
    """The private key, or None when its file does not exist; refuses a file others may read."""
    path = where.signing_key_file
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077:
            raise AnchorRefused(f"署名鍵 {path} のモードが 0600 ではありません (the anchor signing key must be a "
                                "regular file readable by its owner only)")
        raw = os.read(fd, 256)
    finally:
        os.close(fd)
    return anchorfile.private_key(base64.b64decode(raw.strip(), validate=True))


def public_key(where: Location) -> Ed25519PublicKey | None:
    """The verifying key: derived from the signing key, else the exported public key, else None."""
    key = signing_key(where)
    if key is not None:
        return key.public_key()
    if where.public_key_file.exists():
        return anchorfile.load_public_pem(where.public_key_file.read_bytes())
    return None


def key_fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def create_key(where: Location) -> bool:
    """Create the signing key (0600, folder 0700) and export its public key; False when it already exists."""
    if where.signing_key_file.exists():
        return False
    for folder in (where.signing_dir, where.anchor_dir):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = anchorfile.generate_private_key()
    fd = os.open(where.signing_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, base64.b64encode(raw) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    _export_public_key(where, anchorfile.private_key(raw).public_key())
    return True


def _export_public_key(where: Location, key: Ed25519PublicKey) -> None:
    where.public_key_file.unlink(missing_ok=True)
    fd = os.open(where.public_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(anchorfile.public_pem(key))


def ensure_key(actor: Actor) -> bool:
    """Create the key if there is none (init, or the first anchor of a home made before anchors), audited."""
    from jutaku.audit.service import record

    where = location()
    if not create_key(where):
        return False
    key = signing_key(where)
    if key is None:  # pragma: no cover - just created
        raise AnchorRefused("アンカーの署名鍵を作成できません (the anchor signing key could not be created)")
    with transaction.atomic():
        record(AuditEvent.AUDIT_ANCHOR_KEY, actor=actor, objects=[f"sha256:{key_fingerprint(key.public_key())}"],
               detail={"file": SIGNING_KEY_FILE})
    return True


# ----------------------------------------------------------------------------------------------- write


@dataclass(frozen=True)
class _Head:
    seq: int
    hash: str


def write(kind: str, *, due: timedelta | None = None, first: bool = False,
          now: datetime | None = None) -> Anchor | None:
    """Append an anchor of the head if it moved since the newest one (and, with ``due``, that one is older
    than ``due``); return it, or None when nothing was due. ``first``: the key was just created, the file may
    be empty. Raises :class:`AnchorRefused` (see the module docstring) or a DatabaseError."""
    where = location()
    key = signing_key(where)
    if key is None:
        raise AnchorRefused("アンカーの署名鍵がありません (the anchor signing key is missing)")
    when = now or datetime.now(UTC)
    with _locked(where.anchor_file) as fd:
        last = _last_line(fd, key.public_key())
        if last is None and not first:
            raise AnchorRefused("アンカーファイルがないか空です (the anchor file is missing or empty, but the key "
                                "exists: restore it from the off-machine copy)")
        if last is not None:
            _newest_seen[where] = _parsed(last.time)
        if due is not None and last is not None and when - _parsed(last.time) < due:
            return None
        head = _head(None if last is None or kind == "restore" else last)
        if last is not None and kind != "restore" and (head.seq, head.hash) == (last.seq, last.hash):
            return None
        line = anchorfile.make_line(key, previous=last, kind=kind, seq=head.seq, count=head.seq,
                                    hash_=head.hash, now=when)
        data = (line.raw + "\n").encode("ascii")
        if os.write(fd, data) != len(data):
            raise OSError("short write to the anchor file")
        os.fsync(fd)
    _newest_seen[where] = _parsed(line.time)
    return line


def restored(seq: int, hash_: str) -> Anchor:
    """The ``restore`` line of a restore: the trail goes on from record ``seq`` (hash ``hash_``), the head of
    the backup as restored; the anchors above it are superseded. Written once the restored copy *is* the
    database (which must hold that record), before any other anchor of it, so that records the restore
    itself appended (deletions re-applied) are anchored after it. Raises :class:`AnchorRefused`."""
    where = location()
    first = False
    if signing_key(where) is None:
        if where.anchor_file.exists() and where.anchor_file.stat().st_size:
            raise AnchorRefused("アンカーの署名鍵がありません (the anchor signing key is missing)")
        first = ensure_key(SYSTEM)
    key = signing_key(where)
    if key is None:  # pragma: no cover - just created
        raise AnchorRefused("アンカーの署名鍵がありません (the anchor signing key is missing)")
    stored = _record_hash(seq)
    if stored != hash_:
        raise AnchorRefused(f"記録 seq {seq} がリストアしたバックアップの先頭と異なります (record {seq} is not the "
                            "restored head)")
    with _locked(where.anchor_file) as fd:
        last = _last_line(fd, key.public_key())
        if last is None and not first:
            raise AnchorRefused("アンカーファイルがないか空です (the anchor file is missing or empty, but the key "
                                "exists: restore it from the off-machine copy)")
        line = anchorfile.make_line(key, previous=last, kind="restore", seq=seq, count=seq, hash_=hash_,
                                    now=datetime.now(UTC))
        data = (line.raw + "\n").encode("ascii")
        if os.write(fd, data) != len(data):
            raise OSError("short write to the anchor file")
        os.fsync(fd)
    _newest_seen[where] = _parsed(line.time)
    return line


def _record_hash(seq: int) -> str:
    if seq == 0:
        return GENESIS_HASH
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT hash FROM audit_record WHERE seq = %s", [seq])
        row = cursor.fetchone()
    return "" if row is None else str(row[0])


def initialise(actor: Actor) -> list[str]:
    """`jutaku init`: the key if missing (audited) and an ``init`` anchor; what was created, for the report."""
    where = location()
    created = ensure_key(actor)
    if created:
        write("init", first=True)
    elif signing_key(where) is not None:
        after("init")
    return [str(where.signing_key_file), str(where.anchor_file)] if created else []


def anchor_now(kind: str, *, due: timedelta | None = None) -> Anchor | None:
    """:func:`write`; in a home made before anchors (no key, no file) the key is created first (audited)."""
    where = location()
    if signing_key(where) is None:
        if where.anchor_file.exists() and where.anchor_file.stat().st_size:
            raise AnchorRefused("アンカーの署名鍵がありません (the anchor signing key is missing)")
        return write(kind, first=ensure_key(SYSTEM), due=due)
    return write(kind, due=due)


def after(kind: str, *, due: timedelta | None = None) -> Anchor | None:
    """Write an anchor for a hook (job end, command end, event, periodic, restore); never raises."""
    if not _active():
        return None
    try:
        return anchor_now(kind, due=due)
    except AnchorRefused as exc:
        log.warning("監査アンカーを書きませんでした (no audit anchor written): %s", exc)
    except (DatabaseError, OSError, ValueError) as exc:
        from jutaku.incidents import log_incident

        log.warning("監査アンカーを書けませんでした (no audit anchor written): incident %s", log_incident(exc))
    return None


def after_if_due() -> Anchor | None:
    """The periodic anchor (task worker loop, between a job's chunks): when the head moved and the newest
    anchor is older than ``JUTAKU_AUDIT_ANCHOR_MINUTES``. Cheap when not due: the time of the newest anchor
    this process saw is remembered, and the file is read only once that is old enough."""
    due = timedelta(minutes=config.get().audit_anchor_minutes)
    seen = _newest_seen.get(location())
    if seen is not None and datetime.now(UTC) - seen < due:
        return None
    return after("periodic", due=due)


def after_commit() -> None:
    """From :func:`jutaku.audit.service.record` (:data:`jutaku.audit.events.ANCHORED_EVENTS`): anchor on commit."""
    transaction.on_commit(lambda: after("event"), robust=True)


def _parsed(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@contextmanager
def _locked(path: Path) -> Iterator[int]:
    """The anchor file open for appending (0600), under an exclusive lock (one writer at a time)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | _NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def _last_line(fd: int, key: Ed25519PublicKey) -> Anchor | None:
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    tail = os.pread(fd, min(size, _TAIL), size - min(size, _TAIL)).decode("ascii", errors="replace")
    if not tail.endswith("\n"):
        raise AnchorRefused("アンカーファイルの最後の行が途中で切れています (the anchor file's last line is cut)")
    raw = tail[:-1].rpartition("\n")[2]
    try:
        anchor = anchorfile.parse_line(raw)
        anchorfile.check_signature(anchor, key)
    except AnchorFileError as exc:
        raise AnchorRefused(f"アンカーファイルの最後の行が検証できません (the newest anchor does not verify: "
                            f"{exc.reason})") from None
    return anchor


def _head(last: Anchor | None) -> _Head:
    """The committed head, refusing a trail that disagrees with itself or with ``last`` (one statement)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT seq FROM audit_head WHERE id = 1), (SELECT hash FROM audit_head WHERE id = 1),"
            " (SELECT MAX(seq) FROM audit_record),"
            " (SELECT r.hash FROM audit_record r WHERE r.seq = (SELECT seq FROM audit_head WHERE id = 1)),"
            " (SELECT r.hash FROM audit_record r WHERE r.seq = %s)",
            [last.seq if last is not None else 0],
        )
        seq, hash_, top, at_head, at_last = cursor.fetchone()
    if seq is None:
        if top is not None:
            raise AnchorRefused("監査証跡の先頭行 (audit_head) がありません (the audit head is missing)")
        seq, hash_ = 0, GENESIS_HASH
    seq = int(seq)
    if (top or 0) != seq or (seq and at_head != hash_):
        raise AnchorRefused("監査証跡の先頭が最後の記録と一致しません (the head disagrees with the last record)")
    if last is not None and seq < last.seq:
        raise AnchorRefused(f"監査証跡が署名付きアンカーより短くなっています (the trail ends at seq {seq}, "
                            f"the newest anchor says {last.seq})")
    if last is not None and last.seq and at_last != last.hash:
        raise AnchorRefused(f"記録 seq {last.seq} が署名付きアンカーと異なります (record {last.seq} differs "
                            "from the newest anchor)")
    return _Head(seq, str(hash_))
