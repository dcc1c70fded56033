"""Fixtures of the pure crypto tests: a fresh key ring in a temporary keys folder (no database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jutaku.crypto.envelope import DekCache, FieldCipher, MemoryDekStore
from jutaku.crypto.keyring import KeyRing, initialise_keys, use_keyring


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    initialise_keys(path)
    return path


@pytest.fixture
def keyring(keys_dir: Path) -> Iterator[KeyRing]:
    ring = KeyRing.load(keys_dir)
    with use_keyring(ring):
        yield ring


@pytest.fixture
def store() -> MemoryDekStore:
    return MemoryDekStore()


@pytest.fixture
def cipher(keyring: KeyRing, store: MemoryDekStore) -> FieldCipher:
    return FieldCipher(cache=DekCache(store, keyring))
