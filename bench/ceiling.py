"""Raw-insert ceilings: the denominators every batch benchmark is reported against.

The same rows a registration writes (person id, ciphertext, blind index) plus one audit row per
record, inserted as fast as each database allows with no application logic:
- SQLite: executemany in one transaction, WAL, 512 MB page cache, unique index on the blind index.
- PostgreSQL: COPY into tables with a unique index on the blind index (and, for reference, the
  primary key only).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

Row = tuple[str, bytes, bytes]  # person_id, ciphertext, blind_index


def _audit_rows(rows: Sequence[Row]) -> list[tuple[int, str, str, str, str]]:
    hexes = os.urandom(32).hex()
    return [(i + 1, "number:store", r[0], hexes, hexes) for i, r in enumerate(rows)]


def sqlite_ceiling(rows: Sequence[Row], workdir: Path | None = None) -> float:
    """Persons per second for the SQLite bulk insert (numbers + audit) in one transaction."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = Path(tmp) / "ceiling.sqlite3"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-524288;"
            "CREATE TABLE num (id INTEGER PRIMARY KEY, person_id TEXT NOT NULL, ciphertext BLOB NOT NULL,"
            " blind_index BLOB NOT NULL);"
            "CREATE UNIQUE INDEX num_bi ON num(blind_index);"
            "CREATE TABLE audit (seq INTEGER PRIMARY KEY, event TEXT, objects TEXT, prev_hash TEXT, hash TEXT);"
        )
        audit = _audit_rows(rows)
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO num (person_id, ciphertext, blind_index) VALUES (?,?,?)", rows)
        conn.executemany("INSERT INTO audit VALUES (?,?,?,?,?)", audit)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
    return len(rows) / elapsed


def postgres_ceiling(rows: Sequence[Row], url: str, *, with_index_and_audit: bool = True) -> float:
    """Persons per second for PostgreSQL COPY (numbers [+ unique blind index + audit]) in one transaction."""
    import psycopg

    schema = f"bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(
                f"CREATE TABLE {schema}.num (id bigserial PRIMARY KEY, person_id text NOT NULL,"
                " ciphertext bytea NOT NULL, blind_index bytea NOT NULL)"
            )
            conn.execute(
                f"CREATE TABLE {schema}.audit (seq bigint PRIMARY KEY, event text, objects text,"
                " prev_hash text, hash text)"
            )
            if with_index_and_audit:
                conn.execute(f"CREATE UNIQUE INDEX ON {schema}.num (blind_index)")
            audit = _audit_rows(rows) if with_index_and_audit else []
            start = time.perf_counter()
            with conn.transaction():
                with conn.cursor().copy(
                    f"COPY {schema}.num (person_id, ciphertext, blind_index) FROM STDIN"
                ) as copy:
                    for r in rows:
                        copy.write_row(r)
                if audit:
                    with conn.cursor().copy(f"COPY {schema}.audit FROM STDIN") as copy:
                        for a in audit:
                            copy.write_row(a)
            elapsed = time.perf_counter() - start
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return len(rows) / elapsed
