"""Helpers that play a database owner against the audit tables (tamper tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction

from jutaku.audit import chain, triggers


def sql(statement: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@contextlib.contextmanager
def owner_rights() -> Iterator[None]:
    """Act as the database owner: the append-only triggers (and the head's guard) are off inside, back on
    after."""
    if connection.vendor == "postgresql":
        sql("ALTER TABLE audit_record DISABLE TRIGGER USER")
        sql("ALTER TABLE audit_head DISABLE TRIGGER USER")
    else:
        triggers.uninstall_on(connection)
    try:
        with transaction.atomic():
            yield
    finally:
        if connection.vendor == "postgresql":
            sql("ALTER TABLE audit_record ENABLE TRIGGER USER")
            sql("ALTER TABLE audit_head ENABLE TRIGGER USER")
        else:
            triggers.install_on(connection)


def row(seq: int) -> dict[str, Any]:
    cols = ("seq", "at", "username", "terminal", "event", "objects", "outcome", "job_id", "detail",
            "prev_hash", "hash")
    values = sql(f"SELECT {', '.join(cols)} FROM audit_record WHERE seq = %s", [seq])[0]
    return dict(zip(cols, values, strict=True))


def forge(seq: int, prev_hash: str, *, event: str = "number:read", objects: str = "P999",
          at: str = "2026-01-01 00:00:00") -> str:
    """Insert a record whose own hash is computed correctly (an attacker knows the algorithm)."""
    fields = {"seq": seq, "at": chain.canonical_at(at), "username": "attacker", "terminal": "10.9.9.9",
              "event": event, "objects": objects, "outcome": "ok", "job_id": None, "detail": "{}",
              "prev_hash": prev_hash}
    digest = chain.record_hash(**fields)
    db_at = connection.ops.adapt_datetimefield_value(chain_datetime(at))
    sql("INSERT INTO audit_record (seq, at, username, terminal, event, objects, outcome, job_id, detail,"
        " prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [seq, db_at, "attacker", "10.9.9.9", event, objects, "ok", None, "{}", prev_hash, digest])
    return digest


def chain_datetime(text: str) -> Any:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)
