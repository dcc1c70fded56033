"""The stored kanji keys follow the variant table (ADR 0023): a change of the table needs a data migration."""

from __future__ import annotations

from jutaku.registry.search_keys import VARIANT_TABLE_SHA256, variant_table_digest


def test_the_variant_table_is_the_one_the_stored_keys_were_computed_with() -> None:
    assert variant_table_digest() == VARIANT_TABLE_SHA256, (
        "domain/data/kanji_variants.csv changed: Person.kanji_key values in existing registers were computed "
        "with the old table. Add a registry data migration that calls "
        "jutaku.registry.search_keys.refresh_kanji_keys(Person, only_missing=False), then update "
        "VARIANT_TABLE_SHA256 (docs/adr/0023-person-search-as-staff-think.md).")
