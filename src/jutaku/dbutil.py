"""Bulk writes through the database cursor, for batch hot paths.

Django's ``bulk_create`` costs ~0.7 ms per row here (value preparation per field), far from the
raw-insert ceiling (``shared/spec/performance.md``). Batch jobs write through these helpers instead,
inside the chunk's transaction, with values already adapted by :func:`adapter`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from django.db import connection, models


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    meta = model._meta
    return [connection.ops.quote_name(meta.get_field(f).column) for f in fields]


def adapter(model: type[models.Model], field: str) -> Callable[[Any], Any]:
    """The backend's adaptation for one field (dates become ISO text on SQLite, stay dates on PostgreSQL)."""
    internal = model._meta.get_field(field).get_internal_type()
    ops = connection.ops
    if internal == "DateField":
        return ops.adapt_datefield_value
    if internal == "DateTimeField":
        return ops.adapt_datetimefield_value
    return lambda v: v


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """INSERT ``rows`` (tuples in ``fields`` order): ``COPY`` on PostgreSQL, one ``executemany`` on SQLite."""
    if not rows:
        return 0
    cols = _columns(model, fields)
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cur, cur.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return len(rows)
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(cols)}) "  # noqa: S608 - identifiers from model metadata; values are bound
           f"VALUES ({', '.join(['%s'] * len(cols))})")
    with connection.cursor() as cur:
        cur.executemany(sql, rows)
    return len(rows)


def bulk_update(model: type[models.Model], key: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """UPDATE by ``key``: each row is ``(*values in fields order, key value)``."""
    if not rows:
        return 0
    sets = ", ".join(f"{c} = %s" for c in _columns(model, fields))
    (key_col,) = _columns(model, [key])
    sql = f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {sets} WHERE {key_col} = %s"  # noqa: S608 - identifiers from model metadata; values are bound
    with connection.cursor() as cur:
        cur.executemany(sql, rows)
    return len(rows)


def update_in(model: type[models.Model], values: Mapping[str, Any], key: str, keys: Sequence[Any], *,
              step: int = 5000) -> int:
    """``UPDATE … SET field = value, … WHERE key IN keys``: one statement per ``step`` keys, the same values
    for every row (the batch paths' state changes; ``bulk_update`` costs a statement per row)."""
    if not keys:
        return 0
    fields = list(values)
    sets = ", ".join(f"{c} = %s" for c in _columns(model, fields))
    (key_col,) = _columns(model, [key])
    table = connection.ops.quote_name(model._meta.db_table)
    params = [values[f] for f in fields]
    changed = 0
    with connection.cursor() as cur:
        for start in range(0, len(keys), step):
            part = list(keys[start:start + step])
            if connection.vendor == "postgresql":
                cur.execute(f"UPDATE {table} SET {sets} WHERE {key_col} = ANY(%s)", [*params, part])  # noqa: S608 - identifiers from model metadata; values are bound
            else:
                marks = ", ".join(["%s"] * len(part))
                cur.execute(f"UPDATE {table} SET {sets} WHERE {key_col} IN ({marks})", [*params, *part])  # noqa: S608 - identifiers from model metadata; values are bound
            changed += max(cur.rowcount, 0)
    return changed


def delete_in(model: type[models.Model], key: str, keys: Sequence[Any], *, step: int = 5000) -> int:
    """``DELETE FROM table WHERE key IN keys``: one statement per ``step`` keys, an array parameter on
    PostgreSQL (no 5,000-parameter statement to parse), without loading rows (see :func:`delete_rows`)."""
    if not keys:
        return 0
    (key_col,) = _columns(model, [key])
    table = connection.ops.quote_name(model._meta.db_table)
    deleted = 0
    with connection.cursor() as cur:
        for start in range(0, len(keys), step):
            part = list(keys[start:start + step])
            if connection.vendor == "postgresql":
                cur.execute(f"DELETE FROM {table} WHERE {key_col} = ANY(%s)", [part])  # noqa: S608 - identifiers from model metadata; values are bound
            else:
                cur.execute(f"DELETE FROM {table} WHERE {key_col} IN ({', '.join(['%s'] * len(part))})", part)  # noqa: S608 - identifiers from model metadata; values are bound
            deleted += max(cur.rowcount, 0)
    return deleted


def delete_rows(query: models.QuerySet[Any]) -> int:
    """``DELETE FROM table WHERE id IN (query)`` in one statement; the number of rows deleted.

    ``QuerySet.delete()`` first loads every row of a model that other models point to (to check their
    PROTECT and CASCADE rules) — a million objects in a bulk deletion. Callers delete the rows pointing
    here first, so this skips the collection; the database's foreign keys still refuse anything left.
    """
    model = query.model
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql, params = query.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE {pk} IN ({sql})", params)  # noqa: S608 - identifiers from model metadata; the subquery is the ORM's, its values bound
        return max(cur.rowcount, 0)


def checkpoint_wal() -> None:
    """SQLite: write the write-ahead log back into the database file and truncate it, so that page
    images holding erased data do not linger in ``-wal`` (``secure_delete`` zeroes the database's own
    pages; settings). Best effort: a reader still open elsewhere may keep part of the log. PostgreSQL: no-op
    (its old row versions and WAL are the server's; ADR 0013)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def keyset_pages(sql: str, params: Callable[[Any], Sequence[Any]], *, start: Any = 0,
                 key: Callable[[tuple[Any, ...]], Any] = lambda row: row[0]) -> Iterator[list[tuple[Any, ...]]]:
    """Pages of ``sql`` walked by key (``… WHERE key > %s ORDER BY key LIMIT %s``), each query run to the
    end before the page is handed out, so the caller may commit between pages (the batch streams).

    ``params(last)`` gives the query's parameters for the last key seen (``start`` before the first page);
    ``key(row)`` is that key of a row.
    """
    last = start
    while True:
        with connection.cursor() as cur:
            cur.execute(sql, list(params(last)))
            page = cur.fetchall()
        if not page:
            return
        yield page
        last = key(page[-1])


def analyze(*models_: type[models.Model]) -> None:
    """Refresh PostgreSQL's statistics of these tables before a batch pages through them.

    A table a previous batch has just filled still carries the statistics of its empty self: the planner
    then reads the whole table for every page (a sequential scan per page, quadratic at a million rows;
    seen in the business export). One ANALYZE samples the table in well under a second. No-op on SQLite,
    whose planner walks the rowid order of these queries without statistics.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for model in models_:
            cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def as_date(value: date | str) -> date:
    """A date column read through a raw cursor: SQLite gives ISO text, PostgreSQL a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def select_in(sql: str, values: Sequence[Any], *, step: int = 5000) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``… WHERE column {in}``) over ``values`` in slices of ``step``.

    The batch paths' lookups: one query per chunk instead of one per row, without the ORM's per-value
    preparation (≈ 15 µs a value for a 5,000-value ``__in`` filter here). ``{in}`` becomes
    ``= ANY(%s)`` with one array parameter on PostgreSQL (no 5,000-parameter statement to parse and
    plan) and ``IN (%s, …)`` on SQLite.
    """
    out: list[tuple[Any, ...]] = []
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        for start in range(0, len(values), step):
            part = list(values[start:start + step])
            if not part:
                continue
            if postgres:
                cur.execute(sql.format(**{"in": "= ANY(%s)"}), [part])
            else:
                cur.execute(sql.format(**{"in": "IN (" + ", ".join(["%s"] * len(part)) + ")"}), part)
            out.extend(cur.fetchall())
    return out
