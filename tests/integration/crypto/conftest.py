"""Fixtures of the crypto integration tests: a temporary key ring (never the global home) and a cipher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jutaku.crypto.envelope import FieldCipher
from jutaku.crypto.keyring import KeyRing, initialise_keys, use_keyring
from jutaku.crypto.store import DbDekStore


@pytest.fixture
def keyring(tmp_path: Path) -> Iterator[KeyRing]:
    initialise_keys(tmp_path / "keys")
    ring = KeyRing.load(tmp_path / "keys")
    with use_keyring(ring):
        yield ring


@pytest.fixture
def cipher(keyring: KeyRing) -> FieldCipher:
    return FieldCipher(keyring, DbDekStore())


def refs(n: int, start: int = 1_000_000_000) -> list[str]:
    return [str(start + i) for i in range(n)]
