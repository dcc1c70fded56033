"""Blind index (CRY-02): canonical input, separate key, truncation, candidates decrypted and compared."""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.crypto.blind_index import BlindIndexer, blind_index, canonical, get_indexer, match_candidates
from jutaku.crypto.envelope import FieldCipher
from jutaku.crypto.keyring import KeyRing
from jutaku.domain import my_number

NUMBER = "123456789018"


def test_same_number_in_any_spelling_gives_the_same_index(keyring: KeyRing) -> None:
    assert blind_index(NUMBER) == blind_index("1234-5678-9018") == blind_index("１２３４ ５６７８ ９０１８")
    assert len(blind_index(NUMBER)) == 16


def test_different_numbers_give_different_indexes(keyring: KeyRing) -> None:
    assert blind_index(NUMBER) != blind_index(my_number.from_body("12345678902"))


def test_index_is_hmac_sha256_under_the_index_key_only(keyring: KeyRing) -> None:
    expected = hmac.new(keyring.index_key.material, b"jutaku/blind-index|my_number|" + NUMBER.encode(),
                        hashlib.sha256).digest()[:16]
    assert blind_index(NUMBER) == expected
    kek = keyring.kek(1).material
    assert BlindIndexer(kek).compute(NUMBER) != expected


def test_context_separates_index_domains(keyring: KeyRing) -> None:
    assert get_indexer(context="integrated_number").compute(NUMBER) != blind_index(NUMBER)


@pytest.mark.parametrize(("bits", "length", "last_mask"), [(128, 16, 0xFF), (12, 2, 0xF0), (3, 1, 0xE0), (256, 32, 0xFF)])
def test_bit_length_truncates_and_masks(keyring: KeyRing, bits: int, length: int, last_mask: int) -> None:
    value = blind_index(NUMBER, bits=bits)
    assert len(value) == length and value[-1] & ~last_mask & 0xFF == 0


@pytest.mark.parametrize("bits", [0, 257])
def test_bit_length_is_bounded(keyring: KeyRing, bits: int) -> None:
    with pytest.raises(ValueError, match="bits"):
        BlindIndexer(keyring.index_key, bits=bits)


@pytest.mark.parametrize("bad", ["", "12a4", "--", "１２３x"])
def test_non_numbers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        canonical(bad)


def test_repr_hides_the_key(keyring: KeyRing) -> None:
    indexer = get_indexer(bits=8)
    assert keyring.index_key.material.hex() not in repr(indexer)
    assert get_indexer(bits=8) is indexer


def test_tiny_index_collides_but_lookup_still_returns_the_right_person(keyring: KeyRing, cipher: FieldCipher) -> None:
    """With a 4-bit index 200 persons share 16 buckets; decrypting candidates finds exactly one."""
    indexer = BlindIndexer(keyring.index_key, bits=4)
    persons = {f"{5000000000 + i}": my_number.from_body(f"{10000000000 + i * 7919:011d}") for i in range(200)}
    buckets: dict[bytes, list[tuple[str, bytes]]] = defaultdict(list)
    for ref, number in persons.items():
        token = cipher.encrypt(ref, "numbers", "my_number", number.encode())
        buckets[indexer.compute(number)].append((ref, token))
    assert len(buckets) <= 16 and max(len(b) for b in buckets.values()) > 1

    def reveal(ref: str, token: bytes) -> bytes:
        return cipher.decrypt(ref, "numbers", "my_number", token)

    for ref, number in persons.items():
        candidates = buckets[indexer.compute(f"{number[:4]}-{number[4:8]}-{number[8:]}")]
        assert match_candidates(number, candidates, reveal) == [ref]
    absent = my_number.from_body("99999999999")
    assert absent not in persons.values()
    assert match_candidates(absent, buckets[indexer.compute(absent)], reveal) == []


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_property_bulk_and_single_paths_agree(value: str) -> None:
    indexer = BlindIndexer(b"k" * 32, bits=80)
    assert indexer.compute_many([value]) == [indexer.compute(value)]
