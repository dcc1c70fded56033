"""Recompute the audit hash chain from the records (checklist LOG-04; ADR 0003).

Streams records in seq order with keyset pagination (constant memory) and stops at the first
broken record. Appends that commit while it runs are followed, not reported as tampering: the
head is compared only once the scan has caught up with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Final

from django.db import DEFAULT_DB_ALIAS, connections

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


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A (seq, hash) pair kept outside the database; the chain must still contain it."""

    seq: int
    hash: str
    at: str = ""


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
    def __init__(self, from_seq: int, prev: str, checkpoint: Checkpoint | None) -> None:
        self.expected = from_seq
        self.prev = prev
        self.checked = 0
        self.checkpoint = checkpoint
        self.seen_checkpoint = False
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
        cp = self.checkpoint
        if cp is not None and seq == cp.seq:
            if digest != cp.hash:
                raise _Broken(seq, "hash differs from the checkpoint (chain rewritten)")
            self.seen_checkpoint = True
        self.prev = digest
        self.expected += 1
        self.checked += 1


def verify(*, from_seq: int = 1, checkpoint: Checkpoint | None = None) -> VerifyResult:
    """Recompute the chain from ``from_seq``; compare it with the head and ``checkpoint``.

    Detects modified content (hash), deleted rows (gap), inserted or reordered rows (prev_hash or
    hash), an unknown event, a truncated tail or records beyond the head, and a chain rewritten
    since ``checkpoint``. With ``from_seq > 1`` the stored hash of record ``from_seq - 1`` is the
    trusted starting point.
    """
    if from_seq < 1:
        raise ValueError("from_seq starts at 1")
    scan: _Scan | None = None
    try:
        prev = chain.GENESIS_HASH if from_seq == 1 else _stored_hash(from_seq - 1)
        if prev is None:
            raise _Broken(from_seq - 1, f"record {from_seq - 1} (the starting point) is missing")
        scan = _Scan(from_seq, prev, checkpoint)
        _scan_to_head(scan)
        if checkpoint is not None and not scan.seen_checkpoint:
            _check_checkpoint(checkpoint, from_seq, scan.expected - 1)
    except _Broken as broken:
        return VerifyResult(False, scan.checked if scan else 0, broken.seq, broken.reason)
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


def _check_checkpoint(cp: Checkpoint, from_seq: int, last: int) -> None:
    if cp.seq > last:
        raise _Broken(last + 1, f"the chain is shorter than the checkpoint ({cp.seq})")
    if 1 <= cp.seq < from_seq and _stored_hash(cp.seq) != cp.hash:
        raise _Broken(cp.seq, "hash differs from the checkpoint (chain rewritten)")


def _stored_hash(seq: int) -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT hash FROM audit_record WHERE seq = %s", [seq])
        row = cursor.fetchone()
    return None if row is None else str(row[0])
