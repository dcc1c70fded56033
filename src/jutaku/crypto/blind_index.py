"""Blind index for exact lookup of a number without decrypting (CRY-02).

``HMAC-SHA-256(index key, context | canonical number)`` truncated to ``bits`` (default 128). The
index key is its own file (``index.key``), never an encryption key, never in the database. The number
is canonicalised first (full-width digits to ASCII, spaces and hyphens removed), so every spelling of
one number has one index. A truncated index can collide: a lookup returns *candidates*, and the caller
decrypts each and compares (:func:`match_candidates`), which is what the tiny-length test proves.
"""

from __future__ import annotations

import hashlib
import hmac
import weakref
from collections.abc import Callable, Iterable
from typing import Final, TypeVar

from jutaku.crypto.keyring import KeyRing, SecretKey, get_keyring
from jutaku.domain import my_number

DEFAULT_BITS: Final = 128
MY_NUMBER: Final = "my_number"
INTEGRATED_NUMBER: Final = "integrated_number"

T = TypeVar("T")


def canonical(number: str) -> str:
    """The canonical form hashed by the index: ASCII digits only (else ``ValueError``)."""
    value = my_number.normalise(number)
    if not value or not value.isascii() or not value.isdigit():
        raise ValueError("a number of ASCII or full-width digits is expected")
    return value


class BlindIndexer:
    """A precomputed HMAC object per context, copied per value (performance.md: 1.25M/s)."""

    def __init__(self, key: SecretKey | bytes, *, bits: int = DEFAULT_BITS, context: str = MY_NUMBER) -> None:
        if not 1 <= bits <= 256:
            raise ValueError("bits must be between 1 and 256")
        material = key.material if isinstance(key, SecretKey) else key
        self.bits = bits
        self.context = context
        self._nbytes = (bits + 7) // 8
        spare = self._nbytes * 8 - bits
        self._last_mask = (0xFF << spare) & 0xFF
        self._base = hmac.new(material, b"jutaku/blind-index|" + context.encode("ascii") + b"|", hashlib.sha256)

    def __repr__(self) -> str:
        return f"BlindIndexer(context={self.context!r}, bits={self.bits})"

    def compute(self, number: str) -> bytes:
        return self.compute_canonical(canonical(number))

    def compute_canonical(self, value: str) -> bytes:
        """Index of a value already in canonical form (the bulk path skips re-normalising)."""
        h = self._base.copy()
        h.update(value.encode("ascii"))
        digest = h.digest()[:self._nbytes]
        if self._last_mask != 0xFF:
            digest = digest[:-1] + bytes([digest[-1] & self._last_mask])
        return digest

    def compute_many(self, values: Iterable[str]) -> list[bytes]:
        return [self.compute_canonical(v) for v in values]


_indexers: weakref.WeakKeyDictionary[SecretKey, dict[tuple[int, str], BlindIndexer]] = weakref.WeakKeyDictionary()


def get_indexer(keyring: KeyRing | None = None, *, bits: int = DEFAULT_BITS, context: str = MY_NUMBER) -> BlindIndexer:
    """The indexer of the key ring's index key, built once per (key, bits, context)."""
    key = (keyring if keyring is not None else get_keyring()).index_key
    per_key = _indexers.setdefault(key, {})
    indexer = per_key.get((bits, context))
    if indexer is None:
        indexer = per_key[(bits, context)] = BlindIndexer(key, bits=bits, context=context)
    return indexer


def blind_index(number: str, *, bits: int = DEFAULT_BITS, keyring: KeyRing | None = None) -> bytes:
    """The blind index of a My Number under the installation's index key."""
    return get_indexer(keyring, bits=bits).compute(number)


def match_candidates(number: str, candidates: Iterable[tuple[T, bytes]],
                     reveal: Callable[[T, bytes], bytes]) -> list[T]:
    """Keep the candidates whose decrypted value is ``number``.

    ``candidates`` are ``(row, token)`` pairs that share the blind index; ``reveal(row, token)``
    decrypts the token (for example with :meth:`FieldCipher.decrypt` and the row's person).
    """
    wanted = canonical(number).encode("ascii")
    return [row for row, token in candidates if hmac.compare_digest(reveal(row, token), wanted)]
