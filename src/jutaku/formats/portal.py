"""マイナポータル申請管理 downloads: a ZIP of ``<受付番号>.xml`` applications plus attachments.

Whole-archive rejection (``R_ZIP``, security checklist FILE-02) when the file is not a ZIP, is ZIP64 —
in its end records (counts or sizes 0xFFFF/0xFFFFFFFF, a ZIP64 end-of-central-directory locator) or in
any entry (a ZIP64 extra field, 0x0001, or a size or offset of 0xFFFFFFFF, in the central directory or
in the entry's local header) —, has more than ``max_entries`` entries (checked from the
end-of-central-directory record *before* the central directory is parsed), duplicate names, unsafe names (absolute, ``..``, backslashes, drive
letters, control characters), symbolic links, encrypted entries, compression other than stored or
deflate, nested archives (by name or by magic bytes), a CRC error, or more decompressed bytes than
``max_entry_bytes`` per entry or ``max_total_bytes`` in all. Decompressed bytes are *counted while
reading*; the sizes in the headers are never trusted. Nothing is ever extracted to disk.

XML is parsed only with :mod:`defusedxml` with DTDs, entities and external references forbidden
(VAL-05); any such construct or malformed XML rejects the archive (``R_XML``). Element text is
stripped of XML white space (pretty-printed files); CSV cells, by contrast, are never trimmed.
A missing element, a bad value, a repeated element (``F_ELEMENT``) or an entry name that differs from
the ``受付番号`` element (``F_ENTRY_NAME``) is an error of that row only.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Final
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from jutaku.formats import sniff
from jutaku.formats.csvio import FileInfo, Row
from jutaku.formats.errors import FieldError, FileRejected
from jutaku.formats.files import open_regular
from jutaku.formats.layouts import PORTAL, Layout
from jutaku.formats.validate import compile_layout

#: The limits registration applies (docs/formats/portal.md states them; ADR 0021): 50,000 applications
#: per download — the demo's 100,000-person world sends 19,004 in one; security checklist FILE-02 wants a
#: 100,000-entry archive refused — and 2 GiB decompressed in all, 32 MiB per entry, counted while read.
DEFAULT_MAX_TOTAL_BYTES: Final = 2 * 1024**3
DEFAULT_MAX_ENTRIES: Final = 50_000
DEFAULT_MAX_ENTRY_BYTES: Final = 32 * 1024**2
_CHUNK: Final = 64 * 1024
_EOCD: Final = struct.Struct("<4s4H2LH")
#: Local file header: signature, versions, flags, method, time, date, CRC, sizes, name and extra lengths.
_LOCAL: Final = struct.Struct("<4s2B4HL2L2H")
_ZIP64_LOCATOR: Final = b"PK\x06\x07"
_ZIP64_EXTRA: Final = 0x0001
_ZIP64_MARK: Final = 0xFFFFFFFF
_ARCHIVE_SUFFIXES: Final = (
    ".zip", ".gz", ".tgz", ".7z", ".rar", ".tar", ".bz2", ".tbz", ".xz", ".txz", ".lzh", ".lha", ".cab",
    ".jar", ".zst", ".z", ".lz", ".lzma", ".arj", ".iso",
)
_ARCHIVE_MAGIC: Final = (
    b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07",
    b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"MSCF", b"\x1f\x9d", b"\x1f\xa0",
)
_XML_SPACE: Final = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Limits:
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES


def _check_end_record(file: IO[bytes], limits: Limits) -> None:
    """Refuse oversize archives and entry counts from the end record, before zipfile reads anything."""
    size = file.seek(0, os.SEEK_END)
    if size > limits.max_total_bytes:
        raise FileRejected("R_SIZE", f"over {limits.max_total_bytes} bytes")
    tail_len = min(size, _EOCD.size + 0xFFFF)
    file.seek(size - tail_len)
    tail = file.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < _EOCD.size:
        raise not_a_zip(file)
    _sig, _disk, _cd_disk, on_disk, total, cd_size, offset, _comment = _EOCD.unpack_from(tail, pos)
    end = size - tail_len + pos
    if 0xFFFF in (on_disk, total) or _ZIP64_MARK in (cd_size, offset) or _zip64_locator(file, end):
        raise FileRejected("R_ZIP", "ZIP64 archives are not accepted")
    if total > limits.max_entries or on_disk != total or cd_size > limits.max_entries * 1024:
        raise FileRejected("R_ZIP", f"more than {limits.max_entries} entries")
    file.seek(0)


def not_a_zip(file: IO[bytes]) -> FileRejected:
    """``R_ZIP`` for a file that is no ZIP archive, saying what it is when its first bytes tell (a kit CSV
    handed to the portal registration, say: :mod:`jutaku.formats.sniff`)."""
    file.seek(0)
    found = sniff.identify(file.read(sniff.SNIFF_BYTES))
    if found.kind == "empty":
        return FileRejected("R_ZIP", "not a ZIP archive: empty", what="ファイルが空です（0 バイト）",
                            hint="マイナポータルからダウンロードした ZIP ファイルを指定してください（ダウンロードが完了しているか確認してください）。")
    if found.known is None and found.kind not in ("media", "manifest"):
        return FileRejected("R_ZIP", "not a ZIP archive",
                            what="ZIP ファイルではありません（マイナポータルの申請データは ZIP ファイルです）")
    return FileRejected("R_ZIP", f"not a ZIP archive: the file is {found.known or found.kind}",
                        what=f"{sniff.describe(found)}（「{sniff.title(sniff.PORTAL)}」の登録では読めません）",
                        hint=sniff.advice(found), belongs_to=found.known)


def _zip64_locator(file: IO[bytes], end: int) -> bool:
    """A ZIP64 end-of-central-directory locator just before the end record (zipfile would follow it)."""
    if end < 20:
        return False
    file.seek(end - 20)
    return file.read(4) == _ZIP64_LOCATOR


def _zip64_extra(extra: bytes) -> bool:
    """Whether an extra field holds a ZIP64 record (header id 0x0001)."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, pos)
        if tag == _ZIP64_EXTRA:
            return True
        pos += 4 + length
    return False


def _zip64_entry(file: IO[bytes], info: zipfile.ZipInfo) -> bool:
    """ZIP64 in the entry's central-directory record or in its local header (read here: zipfile skips its
    extra field, so a ZIP64 local header behind a plain central record would otherwise pass)."""
    if _zip64_extra(info.extra) or _ZIP64_MARK in (info.file_size, info.compress_size, info.header_offset):
        return True
    file.seek(info.header_offset)
    head = file.read(_LOCAL.size)
    if len(head) != _LOCAL.size or head[:4] != b"PK\x03\x04":
        return False  # not a local header: zipfile refuses the entry when it is read
    *_, compressed, size, name_length, extra_length = _LOCAL.unpack(head)
    if _ZIP64_MARK in (compressed, size):
        return True
    file.seek(name_length, os.SEEK_CUR)
    return _zip64_extra(file.read(extra_length))


def _unsafe_name(name: str) -> bool:
    if not name or name[0] == "/" or "\\" in name or any(ord(ch) < 0x20 or ch == "\x7f" for ch in name):
        return True
    if len(name) >= 2 and name[1] == ":" and name[0].isascii() and name[0].isalpha():
        return True
    return any(part == ".." for part in name.split("/"))


def _check_entry(info: zipfile.ZipInfo) -> None:
    if _unsafe_name(info.filename) or _unsafe_name(info.orig_filename):
        raise FileRejected("R_ZIP", "unsafe entry name")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise FileRejected("R_ZIP", "symbolic link entry")
    if info.flag_bits & 0x1:
        raise FileRejected("R_ZIP", "encrypted entry")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise FileRejected("R_ZIP", "unsupported compression")
    if info.filename.lower().endswith(_ARCHIVE_SUFFIXES):
        raise FileRejected("R_ZIP", "nested archive")


def _entries(archive: zipfile.ZipFile, file: IO[bytes], limits: Limits) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise FileRejected("R_ZIP", f"more than {limits.max_entries} entries")
    if len({info.filename for info in infos}) != len(infos):
        raise FileRejected("R_ZIP", "duplicate entry names")
    for info in infos:
        _check_entry(info)
        if _zip64_entry(file, info):
            raise FileRejected("R_ZIP", "ZIP64 entries are not accepted")
    return infos


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, used: int, limits: Limits,
                keep: bool) -> tuple[bytes, int]:
    """Decompress one entry counting the real bytes; return its bytes (when ``keep``) and the new total."""
    parts: list[bytes] = []
    size = 0
    with archive.open(info) as entry:
        while chunk := entry.read(_CHUNK):
            if size == 0 and chunk.startswith(_ARCHIVE_MAGIC):
                raise FileRejected("R_ZIP", "nested archive")
            size += len(chunk)
            used += len(chunk)
            if size > limits.max_entry_bytes or used > limits.max_total_bytes:
                raise FileRejected("R_ZIP", "decompressed size over the limit")
            if keep:
                parts.append(chunk)
    return b"".join(parts), used


def _parse(data: bytes, root_tag: str) -> Element:
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (defusedxml.DefusedXmlException, ParseError, ValueError):
        raise FileRejected("R_XML") from None
    if root.tag != root_tag:
        raise FileRejected("R_XML", "not an application document")
    return root


def _row(ordinal: int, stem: str, root: Element, layout: Layout) -> Row:
    cells: list[str] = []
    bad: list[FieldError] = []
    for col in layout.columns:
        found = root.findall(layout.extra[col.name])
        if len(found) > 1 or (found and len(found[0])):
            bad.append(FieldError.of(col.name, "F_ELEMENT"))
            found = []
        cells.append((found[0].text or "").strip(_XML_SPACE) if found else "")
    values, errors = compile_layout(layout)(cells)
    skip = {e.column for e in bad}
    merged = [e for e in errors if e.column not in skip] + bad
    number_column = layout.columns[0].name
    if cells[0] != stem:  # the cell as written: a withheld value (F_MY_NUMBER) is not also misnamed
        merged.append(FieldError.of(number_column, "F_ENTRY_NAME"))
    return Row(ordinal, values, tuple(merged))


def _application_stem(name: str) -> str | None:
    base = name.rsplit("/", 1)[-1]
    return base[:-4] if base.lower().endswith(".xml") and len(base) > 4 else None


def read_portal_zip(
    path: str | os.PathLike[str],
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
    layout: Layout = PORTAL,
) -> Iterator[Row]:
    """Yield one :class:`Row` per ``<受付番号>.xml`` entry; ``line_no`` is the entry's 1-based ordinal.

    Raises ``FileRejected`` (``R_SIZE``, ``R_ZIP``, ``R_XML``) possibly after rows were yielded: run
    :func:`prescan_portal` first to reject the whole archive before applying anything.
    """
    limits = Limits(max_total_bytes, max_entries, max_entry_bytes)
    with open_regular(path) as file:
        _check_end_record(file, limits)
        try:
            archive = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error):
            raise not_a_zip(file) from None
        with archive:
            yield from _rows(archive, _entries(archive, file, limits), limits, layout)


def _rows(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits, layout: Layout) -> Iterator[Row]:
    used = 0
    for ordinal, info in enumerate(infos, 1):
        if info.is_dir():
            continue
        stem = _application_stem(info.filename)
        try:
            data, used = _read_entry(archive, info, used, limits, keep=stem is not None)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
                RuntimeError, struct.error):
            raise FileRejected("R_ZIP", f"entry {ordinal} is corrupt") from None
        if stem is not None:
            yield _row(ordinal, stem, _parse(data, layout.extra["root"]), layout)


def prescan_portal(
    path: str | os.PathLike[str],
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
) -> FileInfo:
    """Every whole-archive check (limits, names, XML well-formedness and defusal) before anything is
    applied; returns the archive's SHA-256 and size and the number of applications."""
    rows = sum(1 for _ in read_portal_zip(
        path, max_total_bytes=max_total_bytes, max_entries=max_entries, max_entry_bytes=max_entry_bytes
    ))
    digest = hashlib.sha256()
    size = 0
    with open_regular(path) as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)  # counted as read: the file may have grown since it was checked
            if size > max_total_bytes:
                raise FileRejected("R_SIZE", f"over {max_total_bytes} bytes")
    return FileInfo(digest.hexdigest(), size, rows, "zip")
