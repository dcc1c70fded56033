"""The database DEK store: bulk fetch and insert of ``PersonKey`` rows through the cursor.

Hot batch paths use one ``SELECT … IN`` per chunk and one ``executemany`` per chunk (performance.md:
``bulk_create`` of a BinaryField into PostgreSQL falls back to 11.5k rows/s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from jutaku.crypto.envelope import WrappedDek
from jutaku.crypto.models import PersonKey

TABLE = PersonKey._meta.db_table


class DbDekStore:
    """:class:`jutaku.crypto.envelope.DekStore` on the ``PersonKey`` table (database ``using``)."""

    def __init__(self, using: str = "default") -> None:
        self.using = using

    @property
    def _conn(self) -> Any:
        return connections[self.using]

    def fetch(self, person_refs: Sequence[str]) -> dict[str, WrappedDek]:
        conn = self._conn
        step = min(5_000, conn.features.max_query_params or 5_000)
        out: dict[str, WrappedDek] = {}
        with conn.cursor() as cur:
            for start in range(0, len(person_refs), step):
                part = list(person_refs[start:start + step])
                select = f"SELECT person_ref, kek_version, dek_version, wrapped_dek FROM {TABLE} WHERE person_ref "  # noqa: S608
                if conn.vendor == "postgresql":  # one array parameter: nothing to parse per value
                    cur.execute(select + "= ANY(%s)", [part])
                else:
                    cur.execute(select + f"IN ({', '.join(['%s'] * len(part))})", part)
                for ref, kek_version, dek_version, wrapped in cur.fetchall():
                    out[ref] = WrappedDek(ref, int(kek_version), int(dek_version), bytes(wrapped))
        return out

    def insert(self, rows: Sequence[WrappedDek], on_commit: Callable[[], None]) -> int:
        if not rows:
            on_commit()
            return 0
        conn = self._conn
        now = conn.ops.adapt_datetimefield_value(timezone.now())
        sql = (
            f"INSERT INTO {TABLE} (person_ref, kek_version, dek_version, wrapped_dek, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (person_ref) DO NOTHING"
        )
        with transaction.atomic(using=self.using), conn.cursor() as cur:
            if conn.vendor == "postgresql":
                # One statement over arrays: executemany costs a round trip per row on PostgreSQL.
                cur.execute(
                    f"INSERT INTO {TABLE} (person_ref, kek_version, dek_version, wrapped_dek, created_at) "  # noqa: S608
                    "SELECT r, k, d, w, %s FROM unnest(%s::text[], %s::int[], %s::int[], %s::bytea[]) AS t(r, k, d, w) "
                    "ON CONFLICT (person_ref) DO NOTHING",
                    [now, [r.person_ref for r in rows], [r.kek_version for r in rows],
                     [r.dek_version for r in rows], [r.wrapped for r in rows]],
                )
            else:
                cur.executemany(sql, [(r.person_ref, r.kek_version, r.dek_version, r.wrapped, now) for r in rows])
            inserted = cur.rowcount
            transaction.on_commit(on_commit, using=self.using)
        return int(inserted) if inserted is not None and inserted >= 0 else 0

    def delete(self, person_refs: Sequence[str]) -> int:
        conn = self._conn
        step = min(5_000, conn.features.max_query_params or 5_000)
        deleted = 0
        with conn.cursor() as cur:
            for start in range(0, len(person_refs), step):
                part = person_refs[start:start + step]
                cur.execute(
                    f"DELETE FROM {TABLE} WHERE person_ref IN ({', '.join(['%s'] * len(part))})",  # noqa: S608
                    list(part),
                )
                deleted += max(cur.rowcount, 0)
        return deleted
