"""The canonical serialisation and hash of one audit record (pure: no Django).

``canonical(...)`` is exactly ``json.dumps(fields, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode("utf-8")`` over the ten stored columns; it is built from a fixed template
because it runs once per record on the batch path (a test pins the equality with ``json.dumps``).
Changing it breaks every existing chain: add a new version instead (ADR 0003).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Final

GENESIS_HASH: Final = "0" * 64

# json.encoder.encode_basestring is the C escaper json.dumps uses when ensure_ascii=False.
_q = json.encoder.encode_basestring

_TEMPLATE: Final = (
    '{"at":%s,"detail":%s,"event":%s,"job_id":%s,"objects":%s,"outcome":%s,'
    '"prev_hash":%s,"seq":%d,"terminal":%s,"username":%s}'
)


def canonical_at(value: datetime | str) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC. Accepts what either database driver returns.

    SQLite (raw cursor) returns the stored text ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (naive, UTC);
    PostgreSQL returns an aware datetime.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(
    *,
    seq: int,
    at: str,
    username: str,
    terminal: str,
    event: str,
    objects: str,
    outcome: str,
    job_id: int | None,
    detail: str,
    prev_hash: str,
) -> bytes:
    """The bytes that are hashed; ``at`` already in :func:`canonical_at` form."""
    return (
        _TEMPLATE
        % (
            _q(at),
            _q(detail),
            _q(event),
            "null" if job_id is None else str(int(job_id)),
            _q(objects),
            _q(outcome),
            _q(prev_hash),
            seq,
            _q(terminal),
            _q(username),
        )
    ).encode("utf-8")


def record_hash(**fields: object) -> str:
    """SHA-256 hex of :func:`canonical` over ``fields``."""
    return hashlib.sha256(canonical(**fields)).hexdigest()  # type: ignore[arg-type]


def canonical_detail(detail: object) -> str:
    """Canonical JSON text of a detail mapping (``{}`` for none)."""
    if not detail:
        return "{}"
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
