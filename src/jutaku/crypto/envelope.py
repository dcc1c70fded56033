"""Field encryption under per-person data keys (envelope encryption, CRY-01).

Each person (個人ID, ``person_ref``) has one data key (DEK, 32 random bytes). The DEK is stored only
wrapped: AES-256-GCM under the current KEK with AAD ``b"jutaku/dek|" + person_ref + b"|" + kek_version``.
A field value is AES-256-GCM under the DEK; the token is::

    1 byte format (1) | 2 bytes DEK version (big endian) | 12-byte nonce | ciphertext + 16-byte tag

The AAD binds table, column, person and DEK version, so a token moved to another row, column or person
does not decrypt. The token names no KEK: rotating the KEK re-wraps DEKs and leaves every token as is.
Destroying a person's DEK (crypto-shredding) makes all of that person's tokens unreadable.

This module is pure (no Django); :mod:`jutaku.crypto.store` supplies the database-backed DEK store.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final, NamedTuple, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jutaku.crypto.keyring import KEY_BYTES, KeyRing, get_keyring

FORMAT_VERSION: Final = 1
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
HEADER_BYTES: Final = 3
MIN_TOKEN_BYTES: Final = HEADER_BYTES + NONCE_BYTES + TAG_BYTES
WRAPPED_DEK_BYTES: Final = NONCE_BYTES + KEY_BYTES + TAG_BYTES
DEK_VERSION: Final = 1
PERSON_REF_LENGTH: Final = 10
_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DEK_AAD_PREFIX: Final = b"jutaku/dek|"
_FIELD_AAD_PREFIX: Final = b"jutaku/field|1|"


class CryptoError(Exception):
    """Base class of the crypto errors. Messages never carry plaintext or key material."""


class DecryptionError(CryptoError):
    """The token does not decrypt: tampered, truncated, or moved to another row, column or person."""


class KeyDestroyed(DecryptionError):
    """The person's data key does not exist: it was destroyed (crypto-shredded) or never created."""


def check_person_ref(person_ref: str) -> bytes:
    """The 10-digit 個人ID as ASCII bytes (interfaces.md: 個人ID is 10 digits)."""
    if len(person_ref) != PERSON_REF_LENGTH or not person_ref.isascii() or not person_ref.isdigit():
        raise ValueError("person_ref must be the 10-digit 個人ID")
    return person_ref.encode("ascii")


def _check_name(kind: str, name: str) -> bytes:
    if not _NAME.match(name):
        raise ValueError(f"{kind} must be a lower-case identifier, not {name!r}")
    return name.encode("ascii")


def dek_aad(person_ref: str, kek_version: int) -> bytes:
    return _DEK_AAD_PREFIX + check_person_ref(person_ref) + b"|" + str(kek_version).encode("ascii")


def field_aad_prefix(table: str, column: str) -> bytes:
    return _FIELD_AAD_PREFIX + _check_name("table", table) + b"|" + _check_name("column", column) + b"|"


def field_aad(table: str, column: str, person_ref: str, dek_version: int) -> bytes:
    return field_aad_prefix(table, column) + check_person_ref(person_ref) + b"|" + dek_version.to_bytes(2, "big")


def wrap_dek(keyring: KeyRing, person_ref: str, dek: bytes, *, nonce: bytes | None = None,
             kek_version: int | None = None) -> tuple[int, bytes]:
    """``(kek_version, nonce | AES-GCM(KEK, dek))`` under the given (default: current) KEK."""
    version = keyring.current_kek_version if kek_version is None else kek_version
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    return version, nonce + keyring.kek_cipher(version).encrypt(nonce, dek, dek_aad(person_ref, version))


def unwrap_dek(keyring: KeyRing, person_ref: str, kek_version: int, wrapped: bytes) -> bytes:
    if len(wrapped) != WRAPPED_DEK_BYTES:
        raise DecryptionError(f"wrapped data key of person {person_ref} has a wrong length")
    try:
        return keyring.kek_cipher(kek_version).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], dek_aad(person_ref, kek_version)
        )
    except InvalidTag:
        raise DecryptionError(f"wrapped data key of person {person_ref} fails its integrity check") from None


class WrappedDek(NamedTuple):
    """One row of the DEK store (the ``PersonKey`` model); the DEK in it is wrapped."""

    person_ref: str
    kek_version: int
    dek_version: int
    wrapped: bytes


class DekStore(Protocol):
    """Where wrapped DEKs live. The database store is :class:`jutaku.crypto.store.DbDekStore`."""

    def fetch(self, person_refs: Sequence[str]) -> dict[str, WrappedDek]: ...

    def insert(self, rows: Sequence[WrappedDek], on_commit: Callable[[], None]) -> int:
        """Insert new rows, skipping persons that already have one; call ``on_commit`` once durable.

        Returns how many rows were inserted.
        """
        ...


class MemoryDekStore:
    """A DEK store in a dict: for unit tests and the pure benchmark (nothing is durable)."""

    def __init__(self) -> None:
        self.rows: dict[str, WrappedDek] = {}

    def fetch(self, person_refs: Sequence[str]) -> dict[str, WrappedDek]:
        return {r: self.rows[r] for r in person_refs if r in self.rows}

    def insert(self, rows: Sequence[WrappedDek], on_commit: Callable[[], None]) -> int:
        inserted = 0
        for row in rows:
            if row.person_ref not in self.rows:
                self.rows[row.person_ref] = row
                inserted += 1
        on_commit()
        return inserted

    def delete(self, person_refs: Iterable[str]) -> int:
        return sum(self.rows.pop(r, None) is not None for r in person_refs)


class Dek(NamedTuple):
    """An unwrapped data key. Never printed; kept as bytes because an AES-GCM object per cached person
    costs ~10 µs of allocation to keep alive, while building one per use costs ~3 µs."""

    key: bytes
    version: int
    wrapped: bytes

    @property
    def cipher(self) -> AESGCM:
        return AESGCM(self.key)

    def __repr__(self) -> str:
        return f"Dek(version={self.version})"

    def __str__(self) -> str:
        return self.__repr__()


#: Every live cache, so that crypto-shredding can make them forget at once.
_CACHES: weakref.WeakSet[DekCache] = weakref.WeakSet()


def forget_everywhere(person_refs: Iterable[str]) -> None:
    """Drop these persons' DEKs from every cache in this process (after shredding)."""
    refs = list(person_refs)
    for cache in list(_CACHES):
        cache.forget(refs)


class DekCache:
    """Unwrapped DEKs by person, fetched and created in bulk: one query and one insert per chunk.

    A DEK created here is *pending* until the store reports its insert durable (on commit); a pending
    entry is checked against the store before reuse, so a rolled-back transaction cannot leave a DEK
    in the cache that the database does not hold.
    """

    def __init__(self, store: DekStore, keyring: KeyRing | None = None, *, chunk_size: int = 5_000,
                 max_entries: int = 500_000) -> None:
        self.store = store
        self._keyring = keyring
        self.chunk_size = chunk_size
        self.max_entries = max_entries
        self._deks: dict[str, Dek] = {}
        self._pending: set[str] = set()
        self._lock = threading.RLock()
        _CACHES.add(self)

    @property
    def keyring(self) -> KeyRing:
        return self._keyring if self._keyring is not None else get_keyring()

    def __len__(self) -> int:
        return len(self._deks)

    def forget(self, person_refs: Iterable[str] | None = None) -> None:
        with self._lock:
            if person_refs is None:
                self._deks.clear()
                self._pending.clear()
                return
            for ref in person_refs:
                self._deks.pop(ref, None)
                self._pending.discard(ref)

    def get(self, person_ref: str, *, create: bool) -> Dek:
        dek = self._deks.get(person_ref)
        if dek is not None and person_ref not in self._pending:
            return dek
        found = self.bulk_dek_for([person_ref], create=create)
        if person_ref not in found:
            raise KeyDestroyed(
                f"no data key for person {person_ref}: destroyed (crypto-shredded) or never created"
            )
        return found[person_ref]

    def bulk_dek_for(self, person_refs: Iterable[str], *, create: bool = True) -> dict[str, Dek]:
        """The DEK of every person in ``person_refs``; missing ones are created when ``create``."""
        refs = list(dict.fromkeys(person_refs))
        result: dict[str, Dek] = {}
        with self._lock:
            for start in range(0, len(refs), self.chunk_size):
                result.update(self._chunk(refs[start:start + self.chunk_size], create))
            self._trim()
        return result

    def _chunk(self, refs: list[str], create: bool) -> dict[str, Dek]:
        out: dict[str, Dek] = {}
        wanted = []
        for ref in refs:
            dek = self._deks.get(ref)
            if dek is not None and ref not in self._pending:
                out[ref] = dek
            else:
                if len(ref) != PERSON_REF_LENGTH or not ref.isdigit() or not ref.isascii():
                    check_person_ref(ref)  # raises
                wanted.append(ref)
        if not wanted:
            return out
        keyring = self.keyring
        stored = self.store.fetch(wanted)
        for ref, row in stored.items():
            cached = self._deks.get(ref)
            if cached is not None and cached.wrapped == row.wrapped:
                out[ref] = cached  # still pending until its transaction commits
                continue
            dek = Dek(unwrap_dek(keyring, ref, row.kek_version, row.wrapped), row.dek_version, row.wrapped)
            self._deks[ref] = out[ref] = dek
            self._pending.discard(ref)
        missing = [r for r in wanted if r not in stored]
        if missing and create:
            out.update(self._create(keyring, missing))
        return out

    def _create(self, keyring: KeyRing, refs: list[str]) -> dict[str, Dek]:
        n = len(refs)
        material = secrets.token_bytes(KEY_BYTES * n)
        nonces = os.urandom(NONCE_BYTES * n)  # one call per chunk, sliced (performance.md)
        version = keyring.current_kek_version
        kek = keyring.kek_cipher(version)
        suffix = b"|" + str(version).encode("ascii")  # dek_aad() inlined: refs are checked in _chunk
        rows: list[WrappedDek] = []
        created: dict[str, Dek] = {}
        for i, ref in enumerate(refs):
            dek = material[i * KEY_BYTES:(i + 1) * KEY_BYTES]
            nonce = nonces[i * NONCE_BYTES:(i + 1) * NONCE_BYTES]
            wrapped = nonce + kek.encrypt(nonce, dek, _DEK_AAD_PREFIX + ref.encode("ascii") + suffix)
            rows.append(WrappedDek(ref, version, DEK_VERSION, wrapped))
            created[ref] = Dek(dek, DEK_VERSION, wrapped)
        self._deks.update(created)
        self._pending.update(created)
        inserted = self.store.insert(rows, on_commit=lambda: self._confirm(created))
        if inserted != len(rows):
            # A concurrent writer created some of these first and its row wins: adopt the stored DEKs.
            stored = self.store.fetch(refs)
            lost = [r for r, row in stored.items() if row.wrapped != created[r].wrapped]
            for ref in lost:
                row = stored[ref]
                dek_obj = Dek(unwrap_dek(keyring, ref, row.kek_version, row.wrapped), row.dek_version, row.wrapped)
                self._deks[ref] = created[ref] = dek_obj
        return created

    def _confirm(self, created: Mapping[str, Dek]) -> None:
        with self._lock:
            for ref, dek in created.items():
                if self._deks.get(ref) is dek:
                    self._pending.discard(ref)

    def _trim(self) -> None:
        excess = len(self._deks) - self.max_entries
        if excess > 0:
            for ref in list(self._deks)[:excess]:
                del self._deks[ref]
                self._pending.discard(ref)


class FieldCipher:
    """Encrypt and decrypt field values of one person (CRY-01).

    ``FieldCipher()`` uses the installation's key ring and the database DEK store; tests pass a
    :class:`KeyRing` and a :class:`MemoryDekStore` or their own :class:`DekCache`.
    """

    def __init__(self, keyring: KeyRing | None = None, store: DekStore | None = None, *,
                 cache: DekCache | None = None) -> None:
        if cache is None:
            if store is None:
                from jutaku.crypto.store import DbDekStore

                store = DbDekStore()
            cache = DekCache(store, keyring)
        self.cache = cache
        self._prefixes: dict[tuple[str, str], bytes] = {}
        self._headers = {DEK_VERSION: bytes([FORMAT_VERSION]) + DEK_VERSION.to_bytes(2, "big")}

    def _prefix(self, table: str, column: str) -> bytes:
        key = (table, column)
        prefix = self._prefixes.get(key)
        if prefix is None:
            prefix = self._prefixes[key] = field_aad_prefix(table, column)
        return prefix

    def _header(self, dek_version: int) -> bytes:
        header = self._headers.get(dek_version)
        if header is None:
            header = self._headers[dek_version] = bytes([FORMAT_VERSION]) + dek_version.to_bytes(2, "big")
        return header

    def encrypt(self, person_ref: str, table: str, column: str, plaintext: bytes) -> bytes:
        dek = self.cache.get(person_ref, create=True)
        nonce = os.urandom(NONCE_BYTES)
        aad = self._prefix(table, column) + person_ref.encode("ascii") + b"|" + dek.version.to_bytes(2, "big")
        return self._header(dek.version) + nonce + dek.cipher.encrypt(nonce, plaintext, aad)

    def decrypt(self, person_ref: str, table: str, column: str, token: bytes) -> bytes:
        version = _token_dek_version(token)
        return self._open(self.cache.get(person_ref, create=False), version, person_ref,
                          self._prefix(table, column), token)

    def encrypt_many(self, table: str, column: str, items: Sequence[tuple[str, bytes]]) -> list[bytes]:
        """Encrypt ``(person_ref, plaintext)`` pairs; DEKs fetched/created in bulk, one urandom per call."""
        deks = self.cache.bulk_dek_for((ref for ref, _ in items), create=True)
        prefix = self._prefix(table, column)
        nonces = os.urandom(NONCE_BYTES * len(items))
        out: list[bytes] = []
        append = out.append
        for i, (ref, plaintext) in enumerate(items):
            dek = deks[ref]
            nonce = nonces[i * NONCE_BYTES:(i + 1) * NONCE_BYTES]
            vb = dek.version.to_bytes(2, "big")
            append(self._header(dek.version) + nonce
                   + AESGCM(dek.key).encrypt(nonce, plaintext, prefix + ref.encode("ascii") + b"|" + vb))
        return out

    def decrypt_many(self, table: str, column: str, items: Sequence[tuple[str, bytes]]) -> list[bytes]:
        """Decrypt ``(person_ref, token)`` pairs; any failure raises (no partial answers)."""
        deks = self.cache.bulk_dek_for((ref for ref, _ in items), create=False)
        prefix = self._prefix(table, column)
        out: list[bytes] = []
        for ref, token in items:
            dek = deks.get(ref)
            if dek is None:
                raise KeyDestroyed(f"no data key for person {ref}: destroyed (crypto-shredded) or never created")
            out.append(self._open(dek, _token_dek_version(token), ref, prefix, token))
        return out

    @staticmethod
    def _open(dek: Dek, version: int, person_ref: str, prefix: bytes, token: bytes) -> bytes:
        if version != dek.version:
            raise DecryptionError(f"token of person {person_ref} names DEK version {version}, "
                                  f"the person's data key is version {dek.version}")
        nonce = token[HEADER_BYTES:HEADER_BYTES + NONCE_BYTES]
        aad = prefix + person_ref.encode("ascii") + b"|" + token[1:HEADER_BYTES]
        try:
            return dek.cipher.decrypt(nonce, token[HEADER_BYTES + NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionError(
                f"token of person {person_ref} fails its integrity check "
                "(tampered, or from another row, column or person)"
            ) from None


def _token_dek_version(token: bytes) -> int:
    if len(token) < MIN_TOKEN_BYTES:
        raise DecryptionError("token too short")
    if token[0] != FORMAT_VERSION:
        raise DecryptionError(f"unknown token format {token[0]}")
    return int.from_bytes(token[1:HEADER_BYTES], "big")
