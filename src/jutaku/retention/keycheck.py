"""Whether this key ring opens a restored copy (ADR 0019): a sample, not every row.

Every KEK version that wraps a data key in the copy must be in the key ring, and a sample of the data
keys of each version must unwrap under it (a KEK of another home, or a retired one, does not). A sample of
the My Numbers must decrypt and give back their own blind index under this index key (another home's
index key would make every number unsearchable). Plaintext exists only in memory, one number at a time,
and is compared, never kept or shown.
"""

from __future__ import annotations

from typing import Final

from jutaku.crypto.blind_index import get_indexer
from jutaku.crypto.envelope import DecryptionError, DekCache, FieldCipher, KeyDestroyed, unwrap_dek
from jutaku.crypto.keyring import get_keyring
from jutaku.crypto.models import PersonKey
from jutaku.crypto.store import DbDekStore
from jutaku.domain.restore import RestoreRefused
from jutaku.registry.models import MyNumberRecord
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE

SAMPLE: Final = 16


def check_keys(versions: set[int]) -> None:
    """:class:`RestoreRefused` R07 unless the key ring opens the sample (the default connection's database)."""
    ring = get_keyring()
    for version in sorted(versions):
        if version not in ring.kek_versions:
            raise RestoreRefused("R07", f"鍵 kek-{version:04d} がありません（廃止済みか、別のホームの鍵です）")
        rows = PersonKey.objects.filter(kek_version=version).order_by("id").values_list("person_ref", "wrapped_dek")
        for ref, wrapped in rows[:SAMPLE]:
            try:
                unwrap_dek(ring, ref, version, bytes(wrapped))
            except DecryptionError:
                raise RestoreRefused("R07", f"鍵 kek-{version:04d} でデータ鍵を開けません") from None
    _check_numbers()


def _check_numbers() -> None:
    cipher = FieldCipher(cache=DekCache(DbDekStore(), get_keyring()))
    indexer = get_indexer()
    sample = MyNumberRecord.objects.order_by("id").values_list("person__person_id", "ciphertext", "blind_index")
    for ref, token, index in sample[:SAMPLE]:
        try:
            number = cipher.decrypt(ref, CIPHER_TABLE, CIPHER_COLUMN, bytes(token)).decode("ascii")
        except KeyDestroyed:
            continue  # a person whose key a deletion destroyed (the re-applied deletion removes the row)
        except DecryptionError:
            raise RestoreRefused("R07", "個人番号を復号できません") from None
        if indexer.compute_canonical(number) != bytes(index):
            raise RestoreRefused("R07", "検索索引の鍵 (index) が異なります")
