"""Write the audit trail (inside the caller's transaction) and verify it.

Checklist LOG-01 (every operation, same transaction), LOG-02 (no 個人番号: :mod:`.guard`),
LOG-03 (append-only: triggers in migration 0001), LOG-04 (hash chain, :func:`verify`), LOG-06
(fail closed: :func:`record` refuses to run outside ``transaction.atomic()``). ADR 0003.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from itertools import islice
from typing import Any, Final

from django.db import DEFAULT_DB_ALIAS, connections

from jutaku.accounts.actor import Actor
from jutaku.audit import chain, guard
from jutaku.audit.events import ANCHORED_EVENTS, AuditEvent
from jutaku.audit.verify import Checkpoint, VerifyResult, verify

DetailValue = str | int | bool | None

#: Rows per executemany (batch path) and per SELECT (verify).
CHUNK: Final = 5000
_OBJECT_RE: Final = re.compile(r"[^\s,\x00-\x1f\x7f]{1,200}")
_OUTCOME_RE: Final = re.compile(r"[A-Za-z0-9_:.\-]{1,64}")
_KEY_RE: Final = re.compile(r"[A-Za-z0-9_]{1,64}")
_MAX_DETAIL_VALUE: Final = 2000
_EVENT_VALUES: Final[dict[str, str]] = {e.value: e.value for e in AuditEvent}
#: Outcomes and detail keys already validated (small vocabularies; bounded caches).
_OUTCOMES_SEEN: set[str] = set()
_KEYS_SEEN: set[str] = set()
_TWELVE_DIGITS_MIN: Final = 10**11

_INSERT: Final = (
    "INSERT INTO audit_record (seq, at, username, terminal, event, objects, outcome, job_id, detail,"
    " prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_COPY: Final = (
    "COPY audit_record (seq, at, username, terminal, event, objects, outcome, job_id, detail, prev_hash,"
    " hash) FROM STDIN"
)
_SELECT_HEAD: Final = "SELECT seq, hash FROM audit_head WHERE id = 1"
_SELECT_HEAD_FOR_UPDATE: Final = _SELECT_HEAD + " FOR UPDATE"
#: Transaction-level advisory lock taken only while a missing head is recreated (PostgreSQL).
_HEAD_LOCK_KEY: Final = 0x6A75_7461_6B75_0001


class AuditError(RuntimeError):
    """The audit record could not be written; the caller's transaction must not commit."""


class NotInTransaction(AuditError):
    """record() was called outside ``transaction.atomic()`` (fail closed, LOG-06)."""


class InvalidAuditContent(AuditError, ValueError):
    """Event, objects, outcome or detail outside what the audit trail accepts."""


class MyNumberInAudit(InvalidAuditContent, guard.MyNumberInAudit):
    """A value looked like a 個人番号 (LOG-02). Never carries the value."""


__all__ = [
    "AuditEntry", "AuditError", "BrokenHead", "Checkpoint", "InvalidAuditContent", "MyNumberInAudit",
    "NotInTransaction", "VerifyResult", "record", "record_many", "verify",
]


class BrokenHead(AuditError):
    """The head row is missing while records exist: the trail has been tampered with."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One record on the batch path (:func:`record_many`); actor, time and job are per batch."""

    event: AuditEvent
    objects: Sequence[str] = ()
    outcome: str = "ok"
    detail: Mapping[str, DetailValue] | None = None


# --------------------------------------------------------------------------------------------- write


def record(
    event: AuditEvent,
    *,
    actor: Actor,
    objects: Sequence[str] = (),
    outcome: str = "ok",
    job_id: int | None = None,
    detail: Mapping[str, DetailValue] | None = None,
) -> int:
    """Append one audit record in the caller's transaction and return its seq.

    Must run inside ``transaction.atomic()`` so that the record commits or rolls back with the
    change it describes; raises :class:`NotInTransaction` otherwise. The events an insider would most want
    to erase (approvals, roles, exports…) are anchored outside the database as soon as they commit.
    """
    seq = _append([AuditEntry(event, objects, outcome, detail)], actor=actor, job_id=job_id)[1]
    if event in ANCHORED_EVENTS:
        from jutaku.audit.anchors import after_commit

        after_commit()
    return seq


def record_many(entries: Iterable[AuditEntry], *, actor: Actor, job_id: int | None = None) -> int:
    """Append one record per entry (batch path, one timestamp) and return how many were written.

    Streams ``entries`` in chunks of :data:`CHUNK`, computes the chain in Python and inserts with
    ``executemany``. Same transaction rule as :func:`record`; if any entry is invalid, nothing the
    caller's transaction wrote is kept (the exception propagates).
    """
    return _append(entries, actor=actor, job_id=job_id)[0]


def _append(entries: Iterable[AuditEntry], *, actor: Actor, job_id: int | None) -> tuple[int, int]:
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block:
        raise NotInTransaction("audit.record() must be called inside transaction.atomic()")
    username = _bounded(actor.username, 150, "username")
    terminal = _bounded(actor.terminal, 64, "terminal")
    guard_values = [username, terminal]
    _guard(guard_values)
    if job_id is not None and (isinstance(job_id, bool) or not isinstance(job_id, int)):
        raise InvalidAuditContent("job_id must be an int")
    job_text = "null" if job_id is None else str(job_id)
    # The constant part of the canonical form, escaped once per batch.
    q = chain._q
    tail = f',"terminal":{q(terminal)},"username":{q(username)}}}'
    job_part = f',"job_id":{job_text},"objects":'

    with connection.cursor() as cursor:
        seq, prev = _lock_head(cursor)
        # Taken under the lock, so that ``at`` never decreases along seq (queries rely on it).
        now = datetime.now(tz=UTC)
        at_db = connection.ops.adapt_datetimefield_value(now)
        head_prefix = '{"at":' + q(chain.canonical_at(now)) + ',"detail":'
        written = 0
        memo = _DetailMemo()
        it = iter(entries)
        while chunk := list(islice(it, CHUNK)):
            rows = []
            for entry in chunk:
                event, objects, outcome, detail = _validated(entry, memo)
                seq += 1
                text = (
                    f'{head_prefix}{q(detail)},"event":{q(event)}{job_part}{q(objects)},'
                    f'"outcome":{q(outcome)},"prev_hash":"{prev}","seq":{seq}{tail}'
                )
                digest = sha256(text.encode("utf-8")).hexdigest()
                rows.append((seq, at_db, username, terminal, event, objects, outcome, job_id, detail, prev, digest))
                prev = digest
            _insert(cursor, rows)
            written += len(rows)
        if written:
            cursor.execute("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", [seq, prev])
    return written, seq


def _insert(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: COPY (3x executemany there); SQLite: executemany. Same transaction either way."""
    if cursor.db.vendor == "postgresql":
        # The driver's own cursor: its errors are translated to django.db's like every other statement's.
        with cursor.db.wrap_database_errors, cursor.cursor.copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(_INSERT, rows)


def _bounded(value: str, limit: int, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or not value.isprintable():
        raise InvalidAuditContent(f"{name}: 1..{limit} printable characters expected")
    return value


def _guard(values: Iterable[str]) -> None:
    try:
        guard.check(values)
    except guard.MyNumberInAudit as exc:
        raise MyNumberInAudit(str(exc)) from None


def _validated(entry: AuditEntry, memo: _DetailMemo | None = None) -> tuple[str, str, str, str]:
    """(event, objects text, outcome, detail JSON) of one entry, or raise InvalidAuditContent."""
    event = _EVENT_VALUES.get(entry.event)  # StrEnum members hash as their values
    if event is None:
        raise InvalidAuditContent("event outside the AuditEvent vocabulary")
    objects = entry.objects
    if isinstance(objects, str):
        raise InvalidAuditContent("objects must be a sequence of ids, not a string")
    for obj in objects:
        if not isinstance(obj, str) or not _OBJECT_RE.fullmatch(obj):
            raise InvalidAuditContent("object ids: 1..200 characters, no spaces, commas or controls")
    outcome = entry.outcome
    if outcome not in _OUTCOMES_SEEN:
        if not isinstance(outcome, str) or not _OUTCOME_RE.fullmatch(outcome):
            raise InvalidAuditContent("outcome: 1..64 characters of [A-Za-z0-9_:.-]")
        if len(_OUTCOMES_SEEN) < 1000:
            _OUTCOMES_SEEN.add(outcome)
    _guard(objects)
    return event, ",".join(objects), outcome, (memo.json(entry.detail) if memo is not None
                                               else _detail_json(entry.detail))


class _DetailMemo:
    """The batch paths pass one detail mapping to many entries: validate and serialise it once.

    Keyed by identity *and* checked by equality, so a mapping changed between two entries is never
    served stale (a frozen copy is kept for the comparison)."""

    __slots__ = ("frozen", "ident", "text")

    def __init__(self) -> None:
        self.ident = 0
        self.frozen: dict[str, DetailValue] = {}
        self.text = "{}"

    def json(self, detail: Mapping[str, DetailValue] | None) -> str:
        if not detail:
            return "{}"
        if id(detail) == self.ident and detail == self.frozen:
            return self.text
        text = _detail_json(detail)
        self.ident, self.frozen, self.text = id(detail), dict(detail), text
        return text


def _detail_json(detail: Mapping[str, DetailValue] | None) -> str:
    """Validate ``detail`` and return its canonical JSON (same bytes as chain.canonical_detail)."""
    if not detail:
        return "{}"
    parts = []
    for key in sorted(detail):
        value = detail[key]
        if key not in _KEYS_SEEN:
            if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
                raise InvalidAuditContent("detail keys: 1..64 characters of [A-Za-z0-9_]")
            if len(_KEYS_SEEN) < 10_000:
                _KEYS_SEEN.add(key)
        if isinstance(value, str):
            if len(value) > _MAX_DETAIL_VALUE or "\x00" in value:
                raise InvalidAuditContent("detail value too long or contains NUL")
            _guard((value,))
            text = chain._q(value)
        elif value is None:
            text = "null"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
            if _TWELVE_DIGITS_MIN <= abs(value) < _TWELVE_DIGITS_MIN * 10:
                _guard((text,))
        else:
            raise InvalidAuditContent("detail values: str, int, bool or None")
        parts.append(f'"{key}":{text}')
    return "{" + ",".join(parts) + "}"


def _lock_head(cursor: Any) -> tuple[int, str]:
    """Lock the head row (PostgreSQL row lock; SQLite's IMMEDIATE transaction already serialises).

    After a test-suite flush (or on a database created without migration 0001's data step) the
    head is missing: recreate the genesis head only if there are no records; otherwise fail closed.
    """
    select = _SELECT_HEAD_FOR_UPDATE if cursor.db.features.has_select_for_update else _SELECT_HEAD
    cursor.execute(select)
    row = cursor.fetchone()
    if row is None and cursor.db.vendor == "postgresql":
        # Concurrent first writers: without this lock one could miss the head (not yet committed) and
        # then see another's committed records, and fail closed for nothing. Read again under the lock.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_HEAD_LOCK_KEY])
        cursor.execute(select)
        row = cursor.fetchone()
    if row is None:
        cursor.execute("SELECT 1 FROM audit_record LIMIT 1")
        if cursor.fetchone() is not None:
            raise BrokenHead("audit head missing while records exist (tampering?)")
        insert = "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, %s)"
        if cursor.db.vendor == "postgresql":
            insert += " ON CONFLICT (id) DO NOTHING"
        cursor.execute(insert, [chain.GENESIS_HASH])
        cursor.execute(select)
        row = cursor.fetchone()
    return int(row[0]), str(row[1])
