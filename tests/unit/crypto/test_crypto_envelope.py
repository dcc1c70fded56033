"""Field encryption under per-person DEKs (CRY-01): round trip, AAD binding, tamper detection."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jutaku.crypto.envelope import (
    DecryptionError,
    DekCache,
    FieldCipher,
    KeyDestroyed,
    MemoryDekStore,
    forget_everywhere,
    unwrap_dek,
)
from jutaku.crypto.keyring import KeyRing

ALICE, BOB = "1000000001", "1000000002"
NUMBER = b"123456789018"


def test_round_trip(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ALICE, "numbers", "my_number", NUMBER)
    assert cipher.decrypt(ALICE, "numbers", "my_number", token) == NUMBER
    assert NUMBER not in token


def test_token_layout_is_version_dek_version_nonce_ciphertext_tag(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ALICE, "numbers", "my_number", NUMBER)
    assert token[0] == 1
    assert int.from_bytes(token[1:3], "big") == 1
    assert len(token) == 3 + 12 + len(NUMBER) + 16


def test_same_plaintext_encrypts_differently(cipher: FieldCipher) -> None:
    assert cipher.encrypt(ALICE, "t", "c", NUMBER) != cipher.encrypt(ALICE, "t", "c", NUMBER)


@pytest.mark.parametrize(
    ("person", "table", "column"),
    [(BOB, "numbers", "my_number"), (ALICE, "persons", "my_number"), (ALICE, "numbers", "integrated_number")],
    ids=["other-person", "other-table", "other-column"],
)
def test_token_moved_to_another_person_table_or_column_fails(
    cipher: FieldCipher, person: str, table: str, column: str
) -> None:
    cipher.encrypt(BOB, "numbers", "my_number", b"x")  # Bob has a DEK
    token = cipher.encrypt(ALICE, "numbers", "my_number", NUMBER)
    with pytest.raises(DecryptionError, match="integrity"):
        cipher.decrypt(person, table, column, token)


def test_copying_a_wrapped_dek_to_another_person_does_not_give_the_key(
    keyring: KeyRing, store: MemoryDekStore
) -> None:
    # The wrap's AAD names the person: Alice's wrapped DEK stored under Bob does not unwrap.
    cipher = FieldCipher(cache=DekCache(store, keyring))
    cipher.encrypt(ALICE, "t", "c", b"a")
    store.rows[BOB] = store.rows[ALICE]._replace(person_ref=BOB)
    token = cipher.encrypt(ALICE, "t", "c", NUMBER)
    with pytest.raises(DecryptionError):
        cipher.decrypt(BOB, "t", "c", token)


@pytest.mark.parametrize("position", [0, 1, 2, 3, 14, 15, -17, -1])
def test_any_flipped_byte_fails(cipher: FieldCipher, position: int) -> None:
    token = bytearray(cipher.encrypt(ALICE, "t", "c", NUMBER))
    token[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(ALICE, "t", "c", bytes(token))


def test_short_or_foreign_tokens_fail(cipher: FieldCipher) -> None:
    cipher.encrypt(ALICE, "t", "c", b"")
    with pytest.raises(DecryptionError, match="too short"):
        cipher.decrypt(ALICE, "t", "c", b"\x01\x00\x01")
    with pytest.raises(DecryptionError, match="format 9"):
        cipher.decrypt(ALICE, "t", "c", b"\x09" + bytes(40))


def test_decrypt_without_a_dek_raises_key_destroyed(cipher: FieldCipher, store: MemoryDekStore) -> None:
    token = cipher.encrypt(ALICE, "t", "c", NUMBER)
    store.delete([ALICE])
    forget_everywhere([ALICE])
    with pytest.raises(KeyDestroyed, match="destroyed"):
        cipher.decrypt(ALICE, "t", "c", token)
    with pytest.raises(KeyDestroyed):
        cipher.decrypt_many("t", "c", [(ALICE, token)])


def test_dek_is_stored_only_wrapped(cipher: FieldCipher, store: MemoryDekStore, keyring: KeyRing) -> None:
    cipher.encrypt(ALICE, "t", "c", NUMBER)
    row = store.rows[ALICE]
    dek = unwrap_dek(keyring, ALICE, row.kek_version, row.wrapped)
    assert len(row.wrapped) == 60 and dek not in row.wrapped


def test_wrapped_dek_is_bound_to_its_person(cipher: FieldCipher, store: MemoryDekStore, keyring: KeyRing) -> None:
    cipher.encrypt(ALICE, "t", "c", NUMBER)
    row = store.rows[ALICE]
    with pytest.raises(DecryptionError, match="integrity"):
        unwrap_dek(keyring, BOB, row.kek_version, row.wrapped)
    with pytest.raises(DecryptionError, match="length"):
        unwrap_dek(keyring, ALICE, row.kek_version, row.wrapped[:-1])


def test_bulk_and_single_paths_agree(cipher: FieldCipher) -> None:
    refs = [f"{2000000000 + i}" for i in range(50)]
    items = [(r, r.encode()) for r in refs]
    tokens = cipher.encrypt_many("t", "c", items)
    assert [cipher.decrypt(r, "t", "c", t) for r, t in zip(refs, tokens, strict=True)] == [p for _, p in items]
    assert cipher.decrypt_many("t", "c", list(zip(refs, tokens, strict=True))) == [p for _, p in items]


def test_bulk_dek_for_creates_once_and_reuses(keyring: KeyRing, store: MemoryDekStore) -> None:
    cache = DekCache(store, keyring, chunk_size=7)
    refs = [f"{3000000000 + i}" for i in range(20)]
    first = cache.bulk_dek_for(refs)
    assert len(store.rows) == 20
    other = DekCache(store, keyring)
    again = other.bulk_dek_for(refs)
    assert {r: d.wrapped for r, d in first.items()} == {r: d.wrapped for r, d in again.items()}
    assert cache.bulk_dek_for(refs[:3], create=False).keys() == set(refs[:3])


def test_cache_is_bounded(keyring: KeyRing, store: MemoryDekStore) -> None:
    cache = DekCache(store, keyring, max_entries=10)
    cache.bulk_dek_for([f"{4000000000 + i}" for i in range(25)])
    assert len(cache) == 10


@pytest.mark.parametrize("bad", ["123", "12345678901", "abcdefghij", "１２３４５６７８９０"])
def test_person_ref_must_be_ten_ascii_digits(cipher: FieldCipher, bad: str) -> None:
    with pytest.raises(ValueError, match="10-digit"):
        cipher.encrypt(bad, "t", "c", b"x")


@pytest.mark.parametrize(("table", "column"), [("T", "c"), ("t", "c|x"), ("", "c"), ("t", "a b")])
def test_table_and_column_must_be_identifiers(cipher: FieldCipher, table: str, column: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        cipher.encrypt(ALICE, table, column, b"x")


def test_rotated_kek_leaves_tokens_readable(keyring: KeyRing, store: MemoryDekStore) -> None:
    cipher = FieldCipher(cache=DekCache(store, keyring))
    token = cipher.encrypt(ALICE, "t", "c", NUMBER)
    keyring.create_next_kek()
    fresh = FieldCipher(cache=DekCache(store, keyring))
    assert fresh.decrypt(ALICE, "t", "c", token) == NUMBER  # old wrap, old KEK still present
    assert fresh.encrypt(BOB, "t", "c", b"x") and store.rows[BOB].kek_version == 2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plaintext=st.binary(max_size=300), person=st.integers(1_000_000_000, 9_999_999_999),
       table=st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True))
def test_property_round_trip(cipher: FieldCipher, plaintext: bytes, person: int, table: str) -> None:
    ref = str(person)
    token = cipher.encrypt(ref, table, "value", plaintext)
    assert cipher.decrypt(ref, table, "value", token) == plaintext


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plaintext=st.binary(min_size=1, max_size=64), data=st.data())
def test_property_any_single_bit_flip_fails(cipher: FieldCipher, plaintext: bytes, data: st.DataObject) -> None:
    token = bytearray(cipher.encrypt(ALICE, "t", "c", plaintext))
    i = data.draw(st.integers(0, len(token) - 1))
    bit = data.draw(st.integers(0, 7))
    token[i] ^= 1 << bit
    with pytest.raises(DecryptionError):
        cipher.decrypt(ALICE, "t", "c", bytes(token))


def test_dek_repr_never_shows_the_key(cipher: FieldCipher) -> None:
    cipher.encrypt(ALICE, "t", "c", NUMBER)
    dek = cipher.cache.get(ALICE, create=False)
    assert dek.key.hex() not in repr(dek) + str(dek) and "version=1" in repr(dek)
