"""The register's name search keys, computed again for persons already held (ADR 0023).

``Person.kanji_key`` is derived from ``Person.name`` by :func:`jutaku.domain.japanese.name_search_key`,
whose variant table (``domain/data/kanji_variants.csv``) is data the business owner may extend. A key
stored under an older table would no longer match what a search computes, so a change of the table
comes with a data migration that calls :func:`refresh_kanji_keys` with ``only_missing=False``;
:data:`VARIANT_TABLE_SHA256` names the table the stored keys follow and a unit test fails until both
are updated together. Migration ``registry.0006`` fills the keys of the persons held before the
column existed.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from django.db import connections, transaction

from jutaku.domain.japanese import KANJI_VARIANTS, name_search_key

#: :func:`variant_table_digest` of the table the stored ``kanji_key`` values were computed with.
VARIANT_TABLE_SHA256: Final = "f263d6dcec493dc93831534fb5d002383c2727fec3025ca472c3b41248390e0d"
CHUNK: Final = 2000


def variant_table_digest() -> str:
    """SHA-256 over the variant table's pairs (sorted; the CSV's order, comments and kinds do not count)."""
    pairs = "\n".join(f"{variant}\t{standard}" for variant, standard in sorted(KANJI_VARIANTS.items()))
    return hashlib.sha256(pairs.encode("utf-8")).hexdigest()


def refresh_kanji_keys(person_model: Any, *, using: str = "default", only_missing: bool = True,
                       chunk: int | None = None) -> int:
    """Compute ``kanji_key`` from ``name`` for every live person, ``chunk`` persons per transaction
    (keyset pagination by primary key, so an interrupted run resumes where it stopped when run again
    with ``only_missing``). ``person_model`` may be a migration's historical model. Returns the number of
    keys written. Shells (削除済み) keep their blank key."""
    size = chunk or CHUNK
    table = connections[using].ops.quote_name(person_model._meta.db_table)
    sql = f"UPDATE {table} SET kanji_key = %s WHERE id = %s"  # noqa: S608 - identifier from model metadata
    persons = person_model.objects.using(using).filter(deleted_at__isnull=True).exclude(name="")
    if only_missing:
        persons = persons.filter(kanji_key="")
    written, last = 0, 0
    while True:
        with transaction.atomic(using=using):
            rows = list(persons.filter(pk__gt=last).order_by("pk").values_list("pk", "name", "kanji_key")[:size])
            if not rows:
                return written
            changed = [(key, pk) for pk, name, held in rows if (key := name_search_key(name)) != held]
            if changed:
                with connections[using].cursor() as cur:
                    cur.executemany(sql, changed)
            written += len(changed)
            last = rows[-1][0]
