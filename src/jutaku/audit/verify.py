"""Recompute the audit hash chain from the records (checklist LOG-04; ADR 0003).

Streams records in seq order with keyset pagination (constant memory) and stops at the first
broken record. Appends that commit while it runs are followed, not reported as tampering: the
head is compared only once the scan has caught up with it. What is known from outside the database (a
checkpoint file, the signed anchors of :mod:`jutaku.audit.anchors`) is checked as the scan passes each
anchored seq, and a trail shorter than the newest of them is BROKEN. A missing or unreadable audit table
is a BROKEN verdict too, not an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Final

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from jutaku.audit import chain
from jutaku.audit.events import AuditEvent

CHUNK: Final = 5000
_SELECT: Final = (
    "SELECT seq, at, username, terminal, event, objects, outcome, job_id, detail, prev_hash, hash"
    " FROM audit_record WHERE seq >= %s ORDER BY seq LIMIT %s"
)
_EVENTS: Final = frozenset(e.value for e in AuditEvent)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """``first_bad_seq`` is the first seq whose record is missing, altered or out of place."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    last_seq: int = 0
    last_hash: str = chain.GENESIS_HASH
    #: The newest signed anchor the chain was checked against (seq, UTC time), how many lines the anchor
    #: file has and how many of them record a restore (filled by :func:`jutaku.audit.trail.verify_trail`).
    anchor_seq: int | None = None
    anchor_time: str = ""
    anchor_lines: int = 0
    restores: int = 0


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A (seq, hash) pair kept outside the database; the chain must still contain it."""

    seq: int
    hash: str
    at: str = ""


@dataclass(frozen=True, slots=True)
class Expected:
    """A (seq, hash) the chain must still hold, and what to say when it does not."""

    seq: int
    hash: str
    differs: str
    shorter: str

    @classmethod
    def of_checkpoint(cls, cp: Checkpoint) -> Expected:
        return cls(cp.seq, cp.hash, "hash differs from the checkpoint (chain rewritten)",
                   f"the chain is shorter than the checkpoint ({cp.seq})")


class _Broken(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def iter_records(from_seq: int = 1, *, chunk: int = CHUNK) -> Iterator[tuple[Any, ...]]:
    """Raw record tuples in seq order from ``from_seq`` (keyset pagination)."""
    connection = connections[DEFAULT_DB_ALIAS]
    next_seq = from_seq
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_SELECT, [next_seq, chunk])
            rows = cursor.fetchall()
        if not rows:
            return
        yield from rows
        next_seq = int(rows[-1][0]) + 1


class _Scan:
    def __init__(self, from_seq: int, prev: str, anchored: Mapping[int, Expected]) -> None:
        self.expected = from_seq
        self.prev = prev
        self.checked = 0
        self.anchored = anchored
        self.last_at_raw: Any = None
        self.last_at = ""

    def run(self) -> None:
        for row in iter_records(self.expected):
            self.check(row)

    def check(self, row: tuple[Any, ...]) -> None:
        seq, at, username, terminal, event, objects, outcome, job_id, detail, prev_hash, digest = row
        if seq != self.expected:
            raise _Broken(self.expected, f"seq {self.expected} missing (next is {seq})")
        if prev_hash != self.prev:
            raise _Broken(seq, "prev_hash does not match the previous record (inserted/deleted/reordered)")
        if at != self.last_at_raw:  # a batch shares one timestamp: convert it once
            self.last_at_raw, self.last_at = at, chain.canonical_at(at)
        actual = sha256(
            chain.canonical(seq=seq, at=self.last_at, username=username, terminal=terminal, event=event,
                            objects=objects, outcome=outcome, job_id=job_id, detail=detail,
                            prev_hash=prev_hash)
        ).hexdigest()
        if actual != digest:
            raise _Broken(seq, "content does not match its hash (modified)")
        if event not in _EVENTS:
            raise _Broken(seq, "event outside the vocabulary")
        known = self.anchored.get(seq)
        if known is not None and digest != known.hash:
            raise _Broken(seq, known.differs)
        self.prev = digest
        self.expected += 1
        self.checked += 1


def verify(*, from_seq: int = 1, checkpoint: Checkpoint | None = None,
           anchored: Mapping[int, Expected] | None = None) -> VerifyResult:
    """Recompute the chain from ``from_seq``; compare it with the head, ``checkpoint`` and ``anchored``.

    Detects modified content (hash), deleted rows (gap), inserted or reordered rows (prev_hash or
    hash), an unknown event, a truncated tail or records beyond the head, a chain rewritten or cut since
    ``checkpoint`` or any of ``anchored`` (seq → what the chain must hold there), and missing tables. With
    ``from_seq > 1`` the stored hash of record ``from_seq - 1`` is the trusted starting point.
    """
    if from_seq < 1:
        raise ValueError("from_seq starts at 1")
    known = {seq: e for seq, e in (anchored or {}).items() if seq >= 1}
    if checkpoint is not None and checkpoint.seq >= 1:
        known[checkpoint.seq] = Expected.of_checkpoint(checkpoint)
    scan: _Scan | None = None
    try:
        prev = chain.GENESIS_HASH if from_seq == 1 else _stored_hash(from_seq - 1)
        if prev is None:
            raise _Broken(from_seq - 1, f"record {from_seq - 1} (the starting point) is missing")
        _check_before(known, from_seq, checkpoint)
        scan = _Scan(from_seq, prev, known)
        _scan_to_head(scan)
        if known and max(known) > scan.expected - 1:
            raise _Broken(scan.expected, known[max(known)].shorter)
    except _Broken as broken:
        return VerifyResult(False, scan.checked if scan else 0, broken.seq, broken.reason)
    except DatabaseError as exc:  # DROP TABLE audit_record / audit_head: a verdict, not a traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        return VerifyResult(False, scan.checked if scan else 0, None,
                            f"監査テーブルがないか読めません (audit table missing or unreadable: {first})")
    return VerifyResult(True, scan.checked, None, "", scan.expected - 1, scan.prev)


def _scan_to_head(scan: _Scan) -> None:
    """Scan, then compare with the head; rescan while concurrent appends moved the head on."""
    while True:
        scan.run()
        last = scan.expected - 1
        head, beyond = _head_and_next(last)
        if head is None:
            if last == 0 and not beyond:
                return
            raise _Broken(max(last, 1), "audit head missing")
        head_seq, head_hash = head
        if head_seq > last and beyond:
            continue  # appended while we were scanning
        if head_seq > last:
            raise _Broken(last + 1, f"tail truncated: the head is at {head_seq}")
        if head_seq < last:
            raise _Broken(head_seq + 1, f"records beyond the head ({head_seq})")
        if beyond:
            raise _Broken(last + 1, f"record beyond seq {last} out of sequence")
        if head_hash != scan.prev:
            raise _Broken(last, "the head hash differs from the last record")
        return


def _head_and_next(last: int) -> tuple[tuple[int, str] | None, bool]:
    """The head and whether any record with seq > ``last`` exists, in one statement (one snapshot)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT seq FROM audit_head WHERE id = 1), (SELECT hash FROM audit_head WHERE id = 1),"
            " (SELECT MIN(seq) FROM audit_record WHERE seq > %s)",
            [last],
        )
        head_seq, head_hash, next_seq = cursor.fetchone()
    head = None if head_seq is None else (int(head_seq), str(head_hash))
    return head, next_seq is not None


def _check_before(known: Mapping[int, Expected], from_seq: int, checkpoint: Checkpoint | None) -> None:
    """Points the scan will not pass (before ``from_seq``): the newest of them and the checkpoint."""
    before = [seq for seq in known if seq < from_seq]
    points = {max(before)} if before else set()
    if checkpoint is not None and 1 <= checkpoint.seq < from_seq:
        points.add(checkpoint.seq)
    for seq in sorted(points):
        if _stored_hash(seq) != known[seq].hash:
            raise _Broken(seq, known[seq].differs)


def _stored_hash(seq: int) -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT hash FROM audit_record WHERE seq = %s", [seq])
        row = cursor.fetchone()
    return None if row is None else str(row[0])
