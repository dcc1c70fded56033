"""Envelope encryption on the database (SQLite and PostgreSQL): bulk DEKs, shredding, no key at rest."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.models import AuditRecord
from jutaku.crypto.blind_index import blind_index
from jutaku.crypto.envelope import FieldCipher, KeyDestroyed
from jutaku.crypto.keyring import KeyRing
from jutaku.crypto.models import PersonKey
from jutaku.crypto.shredding import shred
from jutaku.crypto.store import DbDekStore
from jutaku.domain import my_number

from .conftest import refs

pytestmark = pytest.mark.django_db(transaction=True)


def numbers_for(people: list[str]) -> list[bytes]:
    return [my_number.from_body(f"{int(p) % 10**11:011d}").encode() for p in people]


def test_bulk_dek_creation_uses_a_few_queries_per_chunk(keyring: KeyRing, cipher: FieldCipher) -> None:
    people = refs(6_000)
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        tokens = cipher.encrypt_many("numbers", "my_number", list(zip(people, numbers_for(people), strict=True)))
    assert PersonKey.objects.count() == 6_000
    assert len(ctx.captured_queries) <= 30  # one SELECT per ≤999/5000 refs, one executemany per chunk
    fresh = FieldCipher(keyring, DbDekStore())
    pairs = list(zip(people, tokens, strict=True))
    assert fresh.decrypt_many("numbers", "my_number", pairs) == numbers_for(people)
    assert set(PersonKey.objects.values_list("kek_version", flat=True)) == {1}


def test_single_path_creates_then_reuses_the_person_key(keyring: KeyRing, cipher: FieldCipher) -> None:
    with transaction.atomic():
        token = cipher.encrypt("1000000001", "numbers", "my_number", b"123456789018")
        again = cipher.encrypt("1000000001", "numbers", "other", b"x")
    assert PersonKey.objects.count() == 1
    fresh = FieldCipher(keyring, DbDekStore())
    assert fresh.decrypt("1000000001", "numbers", "my_number", token) == b"123456789018"
    assert fresh.decrypt("1000000001", "numbers", "other", again) == b"x"


def test_rolled_back_dek_is_not_reused_from_the_cache(keyring: KeyRing, cipher: FieldCipher) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        cipher.encrypt("1000000002", "numbers", "my_number", b"lost")
        raise RuntimeError("the registration failed")
    assert not PersonKey.objects.exists()
    with transaction.atomic():
        token = cipher.encrypt("1000000002", "numbers", "my_number", b"kept")
    assert FieldCipher(keyring, DbDekStore()).decrypt("1000000002", "numbers", "my_number", token) == b"kept"


def test_person_key_table_never_holds_a_key_in_clear(keyring: KeyRing, cipher: FieldCipher) -> None:
    people = refs(300)
    with transaction.atomic():
        cipher.encrypt_many("numbers", "my_number", list(zip(people, numbers_for(people), strict=True)))
    deks = [cipher.cache.get(p, create=False).key for p in people]
    secrets_ = [*deks, *(k.material for k in keyring.all_keys())]
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM crypto_person_key")
        raw = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for row in cur.fetchall() for v in row
        )
    assert len(raw) > 300 * 60
    for secret in secrets_:
        assert secret not in raw
        assert secret.hex().encode() not in raw


def test_shred_destroys_only_the_named_persons(keyring: KeyRing, cipher: FieldCipher) -> None:
    people = refs(20, start=2_000_000_000)
    with transaction.atomic():
        tokens = cipher.encrypt_many("numbers", "my_number", list(zip(people, numbers_for(people), strict=True)))
    cipher.decrypt(people[0], "numbers", "my_number", tokens[0])  # warm the cache
    result = shred(people[:5], actor=SYSTEM)
    assert (result.requested, result.destroyed) == (5, 5)
    for ref, token in zip(people[:5], tokens[:5], strict=True):
        with pytest.raises(KeyDestroyed, match="destroyed"):
            cipher.decrypt(ref, "numbers", "my_number", token)
    assert cipher.decrypt_many("numbers", "my_number", list(zip(people[5:], tokens[5:], strict=True))) == numbers_for(
        people[5:]
    )
    record = AuditRecord.objects.get(event="keys:shred")
    assert record.object_ids.split(",") == people[:5]
    assert "123456789018" not in str(record.detail)


def test_shred_of_unknown_persons_counts_nothing_and_refuses_bad_ids(keyring: KeyRing) -> None:
    assert shred(["3000000000"], actor=SYSTEM).destroyed == 0
    with pytest.raises(ValueError, match="10-digit"):
        shred(["123456789018"], actor=SYSTEM)


def test_blind_index_key_is_never_stored(keyring: KeyRing, cipher: FieldCipher) -> None:
    with transaction.atomic():
        cipher.encrypt("1000000003", "numbers", "my_number", b"123456789018")
    index = blind_index("123456789018")
    assert index == blind_index("1234 5678 9018")
    assert not PersonKey.objects.filter(wrapped_dek__contains=keyring.index_key.material).exists()
