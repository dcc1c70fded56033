"""Encrypted external-media files (FILE-08): any truncation, reorder, append or flipped byte fails."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jutaku.crypto.keyring import KeyRing, SecretKey
from jutaku.crypto.media import (
    CHUNK_SIZE,
    HEADER_BYTES,
    MediaIntegrityError,
    MediaKeyMismatch,
    decrypt_chunks,
    decrypt_file,
    encrypt_file,
    encrypt_stream,
    encrypted_name,
    open_media,
)

SEALED = CHUNK_SIZE + 16


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(os.urandom(3 * CHUNK_SIZE + 1234))
    return path


@pytest.fixture
def encrypted(plain: Path, keyring: KeyRing) -> Path:
    dst = encrypted_name(plain)
    encrypt_file(plain, dst, keyring.media_key)
    return dst


def decrypt_bytes(data: bytes, keyring: KeyRing) -> bytes:
    return b"".join(decrypt_chunks(io.BytesIO(data), keyring.media_key))


def test_round_trip_and_info(plain: Path, keyring: KeyRing, tmp_path: Path) -> None:
    dst = tmp_path / "export.csv.enc"
    info = encrypt_file(plain, dst, keyring.media_key)
    assert (info.chunks, info.plaintext_bytes, info.key_id) == (4, plain.stat().st_size, keyring.media_key.key_id)
    assert info.encrypted_bytes == dst.stat().st_size == HEADER_BYTES + plain.stat().st_size + 4 * 16
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600
    assert dst.read_bytes()[:8] == b"JTKMEDIA"
    out = tmp_path / "back.csv"
    back = decrypt_file(dst, out, keyring.media_key)
    assert out.read_bytes() == plain.read_bytes()
    assert back.plaintext_sha256 == info.plaintext_sha256 and back.sha256 == info.sha256


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE])
def test_boundary_sizes_round_trip(size: int, keyring: KeyRing) -> None:
    data = os.urandom(size)
    sink = io.BytesIO()
    encrypt_stream(io.BytesIO(data), sink, keyring.media_key)
    assert decrypt_bytes(sink.getvalue(), keyring) == data


def test_names_end_in_enc_and_are_never_overwritten(plain: Path, encrypted: Path, keyring: KeyRing) -> None:
    assert encrypted.name == "export.csv.enc" and encrypted_name(encrypted) == encrypted
    with pytest.raises(ValueError, match=r"\.enc"):
        encrypt_file(plain, plain.with_suffix(".bin"), keyring.media_key)
    with pytest.raises(FileExistsError):
        encrypt_file(plain, encrypted, keyring.media_key)


@pytest.mark.parametrize(
    "cut",
    [0, 5, HEADER_BYTES - 1, HEADER_BYTES, HEADER_BYTES + 10, HEADER_BYTES + SEALED, HEADER_BYTES + SEALED + 1,
     HEADER_BYTES + 2 * SEALED, HEADER_BYTES + 3 * SEALED, HEADER_BYTES + 3 * SEALED + 100, -16, -1],
)
def test_truncation_anywhere_fails(encrypted: Path, keyring: KeyRing, cut: int) -> None:
    data = encrypted.read_bytes()
    with pytest.raises(MediaIntegrityError):
        decrypt_bytes(data[:cut], keyring)


def test_truncated_file_leaves_no_output(encrypted: Path, keyring: KeyRing, tmp_path: Path) -> None:
    encrypted.write_bytes(encrypted.read_bytes()[:HEADER_BYTES + SEALED])
    out = tmp_path / "out.csv"
    with pytest.raises(MediaIntegrityError, match="chunk 0"):
        decrypt_file(encrypted, out, keyring.media_key)
    assert not out.exists() and not (tmp_path / "out.csv.part").exists()


@pytest.mark.parametrize("position", [0, 8, 9, 13, 21, 28, HEADER_BYTES, HEADER_BYTES + SEALED + 7, -1])
def test_any_flipped_byte_fails(encrypted: Path, keyring: KeyRing, position: int) -> None:
    data = bytearray(encrypted.read_bytes())
    data[position] ^= 0x80
    with pytest.raises(MediaIntegrityError):
        decrypt_bytes(bytes(data), keyring)


def test_reordered_chunks_fail(encrypted: Path, keyring: KeyRing) -> None:
    data = encrypted.read_bytes()
    header, body = data[:HEADER_BYTES], data[HEADER_BYTES:]
    c0, c1, rest = body[:SEALED], body[SEALED:2 * SEALED], body[2 * SEALED:]
    with pytest.raises(MediaIntegrityError, match="chunk 0"):
        decrypt_bytes(header + c1 + c0 + rest, keyring)


@pytest.mark.parametrize("extra", [b"\x00", os.urandom(16), os.urandom(SEALED)])
def test_appended_data_fails(encrypted: Path, keyring: KeyRing, extra: bytes) -> None:
    with pytest.raises(MediaIntegrityError):
        decrypt_bytes(encrypted.read_bytes() + extra, keyring)


def test_appending_a_copy_of_the_final_chunk_fails(encrypted: Path, keyring: KeyRing) -> None:
    data = encrypted.read_bytes()
    last = data[HEADER_BYTES + 3 * SEALED:]
    with pytest.raises(MediaIntegrityError):
        decrypt_bytes(data + last, keyring)


def test_wrong_key_and_foreign_files_are_refused(encrypted: Path, keyring: KeyRing) -> None:
    with pytest.raises(MediaKeyMismatch, match="media:"):
        other = SecretKey(name="media", material=os.urandom(32), created_at=keyring.media_key.created_at)
        b"".join(decrypt_chunks(io.BytesIO(encrypted.read_bytes()), other))
    with pytest.raises(MediaIntegrityError, match="magic"):
        decrypt_bytes(b"PK\x03\x04" + bytes(40), keyring)
    data = bytearray(encrypted.read_bytes())
    data[8] = 2
    with pytest.raises(MediaIntegrityError, match="version 2"):
        decrypt_bytes(bytes(data), keyring)


def test_raw_bytes_key_works_and_must_be_32_bytes(plain: Path, tmp_path: Path) -> None:
    key = os.urandom(32)
    info = encrypt_file(plain, tmp_path / "raw.enc", key)
    assert info.key_id.startswith("media:")
    decrypt_file(tmp_path / "raw.enc", tmp_path / "raw.out", key)
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_file(plain, tmp_path / "bad.enc", b"short")


def test_streaming_reader_reads_text(tmp_path: Path, keyring: KeyRing) -> None:
    src = tmp_path / "rows.csv"
    text = "".join(f"{i},氏名{i}\r\n" for i in range(20_000))
    src.write_text(text, encoding="cp932", newline="")
    encrypt_file(src, tmp_path / "rows.csv.enc", keyring.media_key)
    with open_media(tmp_path / "rows.csv.enc", keyring.media_key, encoding="cp932") as fh:
        assert fh.read() == text
    with open_media(tmp_path / "rows.csv.enc", keyring.media_key) as raw:
        assert raw.read(5) == b"0,\x8e\x81\x96"


def test_streaming_reader_raises_on_truncation_at_the_end(tmp_path: Path, keyring: KeyRing) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(2 * CHUNK_SIZE + 5))
    enc = encrypt_file(src, tmp_path / "big.bin.enc", keyring.media_key).path
    enc.write_bytes(enc.read_bytes()[:HEADER_BYTES + 2 * SEALED])
    with open_media(enc, keyring.media_key) as fh, pytest.raises(MediaIntegrityError):
        fh.read()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=700), chunk=st.integers(1, 64), cut=st.integers(1, 2000))
def test_property_round_trip_and_every_truncation_fails(keyring: KeyRing, data: bytes, chunk: int, cut: int) -> None:
    sink = io.BytesIO()
    encrypt_stream(io.BytesIO(data), sink, keyring.media_key, chunk_size=chunk)
    sealed = sink.getvalue()
    assert decrypt_bytes(sealed, keyring) == data
    with pytest.raises(MediaIntegrityError):
        decrypt_bytes(sealed[:len(sealed) - 1 - (cut % len(sealed))], keyring)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=300), chunk=st.integers(1, 32), where=st.integers(0, 10**6))
def test_property_any_flipped_byte_fails(keyring: KeyRing, data: bytes, chunk: int, where: int) -> None:
    sink = io.BytesIO()
    encrypt_stream(io.BytesIO(data), sink, keyring.media_key, chunk_size=chunk)
    sealed = bytearray(sink.getvalue())
    sealed[where % len(sealed)] ^= 0x01
    with pytest.raises(MediaIntegrityError):
        decrypt_bytes(bytes(sealed), keyring)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=300), max_size=12), st.sampled_from([1, 7, 64, 256]))
def test_the_streaming_writer_makes_the_same_format(keyring: KeyRing, tmp_path_factory: pytest.TempPathFactory,
                                                    pieces: list[bytes], chunk: int) -> None:
    """Written piece by piece (any split, any chunk size), the file decrypts to the concatenation, with the
    same chunk layout and final-chunk rule as encrypt_stream: no plaintext ever touches the disk."""
    from jutaku.crypto.media import MediaWriter

    dst = tmp_path_factory.mktemp("w") / "out.csv.enc"
    writer = MediaWriter(dst, keyring.media_key, chunk_size=chunk)
    for piece in pieces:
        writer.write(piece)
    writer.close()
    data = b"".join(pieces)
    assert decrypt_bytes(dst.read_bytes(), keyring) == data
    reference = io.BytesIO()
    encrypt_stream(io.BytesIO(data), reference, keyring.media_key, chunk_size=chunk)
    assert dst.stat().st_size == len(reference.getvalue())  # same number of chunks and tags
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600 and not dst.with_name(dst.name + ".part").exists()


def test_an_aborted_writer_leaves_nothing(keyring: KeyRing, tmp_path: Path) -> None:
    from jutaku.crypto.media import MediaWriter

    out = tmp_path / "out"
    out.mkdir()
    writer = MediaWriter(out / "x.csv.enc", keyring.media_key, chunk_size=16)
    writer.write(b"0123456789" * 10)
    writer.abort()
    assert list(out.iterdir()) == []
