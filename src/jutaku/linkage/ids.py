"""Request ids (要求番号 / 照会番号): a prefix and ten digits from a counter that never goes back.

Ten digits, not twelve: an id then never looks like a My Number to the audit guard or a leak scan.
"""

from __future__ import annotations

from typing import Final

from django.db import connection

PREFIXES: Final = {"linkage": "LK", "inquiry": "IQ", "juki": "JK"}
DIGITS: Final = 10


def allocate(kind: str, count: int) -> list[str]:
    """``count`` new ids of ``kind``; call inside the transaction that stores them (a rollback returns
    nothing to the counter: ids are then skipped, never reused)."""
    if not connection.in_atomic_block:
        raise RuntimeError("allocate ids inside the transaction that uses them")
    if count <= 0:
        return []
    prefix = PREFIXES[kind]
    with connection.cursor() as cur:
        cur.execute("INSERT INTO linkage_requestcounter (name, next_value) VALUES (%s, 1) "
                    "ON CONFLICT (name) DO NOTHING", [kind])
        cur.execute("UPDATE linkage_requestcounter SET next_value = next_value + %s WHERE name = %s "
                    "RETURNING next_value", [count, kind])
        row = cur.fetchone()
    if row is None:
        raise RuntimeError(f"no request counter {kind!r}")
    first = int(row[0]) - count
    if first + count - 1 >= 10**DIGITS:
        raise RuntimeError(f"request ids of {kind!r} exhausted")
    return [f"{prefix}{n:0{DIGITS}d}" for n in range(first, first + count)]
