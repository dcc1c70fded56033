"""Encrypted files for external media (FILE-08): streaming AES-256-GCM in 64 KiB chunks.

File layout (``<name>.enc``)::

    header  = b"JTKMEDIA" | format (1 byte) | chunk size (4 bytes BE) | key id (8) | nonce prefix (8)
    chunk i = AES-256-GCM(media key, nonce = prefix | i (4 bytes BE),
                          data = plaintext[i*size:(i+1)*size],
                          aad = header | i (8 bytes BE) | final flag (1 byte))

Every chunk is ``size + 16`` bytes except the last, which is shorter (possibly only its 16-byte tag)
and the only one sealed with the final flag. So any truncation, reordering, appended data or changed
byte makes a chunk fail its tag: :class:`MediaIntegrityError`. The key id is a one-way fingerprint
of the key (never the key). Decryption to a file writes ``<dst>.part`` and renames only when the
whole file verified; the streaming reader yields data before the end is verified, so its consumer
must treat what it read as void when the reader raises (import inside a transaction).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets
import struct
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jutaku.crypto.keyring import KEY_BYTES, SecretKey

MAGIC: Final = b"JTKMEDIA"
FORMAT_VERSION: Final = 1
CHUNK_SIZE: Final = 64 * 1024
TAG_BYTES: Final = 16
SUFFIX: Final = ".enc"
_HEADER: Final = struct.Struct(">8sBI8s8s")
HEADER_BYTES: Final = _HEADER.size
MAX_CHUNKS: Final = 2**32


class MediaIntegrityError(Exception):
    """The encrypted file is not intact: truncated, reordered, extended, altered, or not ours."""


class MediaKeyMismatch(MediaIntegrityError):
    """The file was encrypted under another key than the one given."""


@dataclass(frozen=True)
class MediaInfo:
    """What the media ledger records about one encrypted file (no key material)."""

    path: Path
    key_id: str
    plaintext_bytes: int
    encrypted_bytes: int
    chunks: int
    sha256: str  # of the encrypted file as written to the medium
    plaintext_sha256: str


def _material(key: SecretKey | bytes) -> tuple[bytes, bytes, str]:
    if isinstance(key, SecretKey):
        return key.material, key.fingerprint, key.key_id
    if len(key) != KEY_BYTES:
        raise ValueError("a media key is 32 bytes")
    fp = hmac.new(key, b"jutaku/key-id", hashlib.sha256).digest()[:8]
    return key, fp, f"media:{fp.hex()}"


def encrypted_name(path: Path | str) -> Path:
    """``report.csv`` → ``report.csv.enc``."""
    p = Path(path)
    return p if p.name.endswith(SUFFIX) else p.with_name(p.name + SUFFIX)


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def _nonce(prefix: bytes, index: int) -> bytes:
    if index >= MAX_CHUNKS:
        raise MediaIntegrityError("file has too many chunks")
    return prefix + index.to_bytes(4, "big")


def _read_full(fh: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining:
        data = fh.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _open_exclusive(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def encrypt_stream(src: BinaryIO, dst: BinaryIO, key: SecretKey | bytes, *,
                   chunk_size: int = CHUNK_SIZE) -> tuple[int, int, int, str, str]:
    """Encrypt ``src`` into ``dst``; returns (plaintext bytes, encrypted bytes, chunks, sha256s)."""
    material, fingerprint, _ = _material(key)
    if not 1 <= chunk_size <= 2**24:
        raise ValueError("chunk size out of range")
    prefix = secrets.token_bytes(8)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, chunk_size, fingerprint, prefix)
    cipher = AESGCM(material)
    digest, plain_digest = hashlib.sha256(header), hashlib.sha256()
    dst.write(header)
    written, total, index = len(header), 0, 0
    block = _read_full(src, chunk_size)
    while True:
        following = _read_full(src, chunk_size) if len(block) == chunk_size else b""
        final = not following
        sealed = cipher.encrypt(_nonce(prefix, index), block, _aad(header, index, final))
        dst.write(sealed)
        digest.update(sealed)
        plain_digest.update(block)
        written += len(sealed)
        total += len(block)
        index += 1
        if final:
            return total, written, index, digest.hexdigest(), plain_digest.hexdigest()
        block = following


class MediaWriter(io.RawIOBase):
    """Encrypt while writing: the same file format as :func:`encrypt_stream`, chunk by chunk, so that no
    plaintext ever reaches the disk. Written to ``<dst>.part`` (0600, new) and renamed on :meth:`close`;
    :meth:`abort` removes it instead."""

    def __init__(self, dst: Path | str, key: SecretKey | bytes, *, chunk_size: int = CHUNK_SIZE) -> None:
        super().__init__()
        self.dst = Path(dst)
        if not self.dst.name.endswith(SUFFIX):
            raise ValueError(f"encrypted media files are named <name>{SUFFIX}: {self.dst.name}")
        if self.dst.exists():
            raise FileExistsError(f"{self.dst} exists: encrypted media files are never overwritten")
        material, fingerprint, self.key_id = _material(key)
        self._size = chunk_size
        self._prefix = secrets.token_bytes(8)
        self._header = _HEADER.pack(MAGIC, FORMAT_VERSION, chunk_size, fingerprint, self._prefix)
        self._cipher = AESGCM(material)
        self._part = self.dst.with_name(self.dst.name + ".part")
        self._fh = _open_exclusive(self._part)
        self._fh.write(self._header)
        self._buf = bytearray()
        self._index = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buf += data
        while len(self._buf) > self._size:  # a chunk goes out only once more data follows it
            block = bytes(self._buf[:self._size])
            del self._buf[:self._size]
            self._seal(block, final=False)
        return len(data)

    def _seal(self, block: bytes, *, final: bool) -> None:
        self._fh.write(self._cipher.encrypt(_nonce(self._prefix, self._index), block,
                                            _aad(self._header, self._index, final)))
        self._index += 1

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._seal(bytes(self._buf), final=True)
            self._buf.clear()
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self._part, self.dst)
        finally:
            self._part.unlink(missing_ok=True)
            super().close()

    def abort(self) -> None:
        """Drop what was written (nothing is renamed)."""
        self._buf.clear()
        self._fh.close()
        self._part.unlink(missing_ok=True)
        super().close()


def encrypt_file(src: Path | str, dst: Path | str, key: SecretKey | bytes, *,
                 chunk_size: int = CHUNK_SIZE) -> MediaInfo:
    """Encrypt the file ``src`` to ``dst`` (which must end in ``.enc`` and not exist yet)."""
    dst = Path(dst)
    if not dst.name.endswith(SUFFIX):
        raise ValueError(f"encrypted media files are named <name>{SUFFIX}: {dst.name}")
    if dst.exists():
        raise FileExistsError(f"{dst} exists: encrypted media files are never overwritten")
    part = dst.with_name(dst.name + ".part")
    try:
        with open(src, "rb") as fin, _open_exclusive(part) as fout:
            plain, enc, chunks, sha, plain_sha = encrypt_stream(fin, fout, key, chunk_size=chunk_size)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(part, dst)
    finally:
        part.unlink(missing_ok=True)
    return MediaInfo(dst, _material(key)[2], plain, enc, chunks, sha, plain_sha)


def decrypt_chunks(src: BinaryIO, key: SecretKey | bytes) -> Generator[bytes, None, None]:
    """Yield the plaintext chunk by chunk; raises :class:`MediaIntegrityError` at the first fault."""
    material, fingerprint, key_id = _material(key)
    header = _read_full(src, HEADER_BYTES)
    if len(header) != HEADER_BYTES:
        raise MediaIntegrityError("not an encrypted Jutaku media file (header truncated)")
    magic, version, chunk_size, file_fp, prefix = _HEADER.unpack(header)
    if magic != MAGIC:
        raise MediaIntegrityError("not an encrypted Jutaku media file (bad magic)")
    if version != FORMAT_VERSION:
        raise MediaIntegrityError(f"unsupported media format version {version}")
    if not 1 <= chunk_size <= 2**24:
        raise MediaIntegrityError("corrupt header (chunk size)")
    if not hmac.compare_digest(file_fp, fingerprint):
        raise MediaKeyMismatch(f"file encrypted under key id media:{file_fp.hex()}, not {key_id}")
    cipher = AESGCM(material)
    sealed_size = chunk_size + TAG_BYTES
    block = _read_full(src, sealed_size)
    index = 0
    while True:
        following = _read_full(src, sealed_size) if len(block) == sealed_size else b""
        final = not following
        if len(block) < TAG_BYTES:
            raise MediaIntegrityError(f"chunk {index} truncated")
        try:
            plain = cipher.decrypt(_nonce(prefix, index), block, _aad(header, index, final))
        except InvalidTag:
            raise MediaIntegrityError(
                f"chunk {index} fails its integrity check (file truncated, reordered, extended or altered)"
            ) from None
        yield plain
        if final:
            return
        block = following
        index += 1


def decrypt_file(src: Path | str, dst: Path | str, key: SecretKey | bytes) -> MediaInfo:
    """Decrypt ``src`` into ``dst`` (0600); ``dst`` appears only if the whole file verified."""
    dst = Path(dst)
    if dst.exists():
        raise FileExistsError(f"{dst} exists")
    part = dst.with_name(dst.name + ".part")
    total = chunks = 0
    plain_digest = hashlib.sha256()
    try:
        with open(src, "rb") as fin, _open_exclusive(part) as fout:
            for plain in decrypt_chunks(fin, key):
                fout.write(plain)
                plain_digest.update(plain)
                total += len(plain)
                chunks += 1
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(part, dst)
    finally:
        part.unlink(missing_ok=True)
    return MediaInfo(Path(src), _material(key)[2], total, os.path.getsize(src), chunks,
                     _file_sha256(Path(src)), plain_digest.hexdigest())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MediaReader(io.RawIOBase):
    """A readable binary stream over an encrypted file (wrap in ``io.TextIOWrapper`` for CSV).

    Data is returned before the end of the file is verified: a :class:`MediaIntegrityError` raised
    by a later read voids everything read so far.
    """

    def __init__(self, src: Path | str | BinaryIO, key: SecretKey | bytes) -> None:
        super().__init__()
        self._own = isinstance(src, str | Path)
        self._fh: BinaryIO = open(src, "rb") if isinstance(src, str | Path) else src  # noqa: SIM115
        self._chunks = decrypt_chunks(self._fh, key)
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._chunks.close()
            if self._own:
                self._fh.close()
        super().close()


def open_media(src: Path | str, key: SecretKey | bytes, *, encoding: str | None = None,
               newline: str | None = "") -> IO[Any]:
    """Open an encrypted file for streaming reads: bytes, or text when ``encoding`` is given."""
    raw = io.BufferedReader(MediaReader(src, key), buffer_size=CHUNK_SIZE)
    if encoding is None:
        return raw
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline=newline)
