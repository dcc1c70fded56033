"""Builders of hostile and benign ZIP archives for the portal tests (synthetic data only).

``raw_zip`` writes the ZIP structures by hand so a test can lie in headers (sizes, flags, attributes)
and build a 1 GB zip bomb in well under a second: the deflate stream of 1 GiB of zeros is one
compressed 1 MiB block repeated (each block ends with a full flush, so the blocks are identical).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

LOCAL = struct.Struct("<4s5H3L2H")
CENTRAL = struct.Struct("<4s6H3L5H2L")
END = struct.Struct("<4s4H2LH")


@dataclass
class Entry:
    name: str
    data: bytes  # as stored (compressed when method == 8)
    crc: int
    size: int  # the real uncompressed size
    method: int = 8
    flags: int = 0x800  # UTF-8 names
    external_attr: int = 0o100644 << 16
    declared_size: int | None = None  # a lying header when set
    local_extra: bytes = b""  # the extra field of the local header
    central_extra: bytes = b""  # the extra field of the central-directory record
    local_sizes: int | None = None  # both sizes of the local header, when set (0xFFFFFFFF: ZIP64)


def zip64_extra(*values: int) -> bytes:
    """A ZIP64 extended-information extra field (header id 0x0001) holding ``values`` (8 bytes each)."""
    return struct.pack("<2H", 0x0001, 8 * len(values)) + b"".join(struct.pack("<Q", v) for v in values)


def deflated(name: str, content: bytes, **kwargs: object) -> Entry:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Entry(name, c.compress(content) + c.flush(), zlib.crc32(content), len(content), **kwargs)  # type: ignore[arg-type]


def zeros_bomb(name: str, gib: int = 1) -> Entry:
    block = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    blocks = 1024 * gib
    data = first + again * (blocks - 1) + c.flush()
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    return Entry(name, data, crc, blocks << 20)


def raw_zip(entries: list[Entry], *, declared_total: int | None = None, zip64_locator: bool = False) -> bytes:
    """``zip64_locator``: a ZIP64 end record and its locator before a plain end record (zipfile follows it)."""
    out = bytearray()
    central = bytearray()
    for e in entries:
        name = e.name.encode("utf-8")
        size = e.size if e.declared_size is None else e.declared_size
        offset = len(out)
        local_compressed, local_size = (len(e.data), size) if e.local_sizes is None else (e.local_sizes,) * 2
        out += LOCAL.pack(b"PK\x03\x04", 20, e.flags, e.method, 0, 0x21, e.crc, local_compressed, local_size,
                          len(name), len(e.local_extra))
        out += name + e.local_extra + e.data
        central += CENTRAL.pack(b"PK\x01\x02", (3 << 8) | 20, 20, e.flags, e.method, 0, 0x21, e.crc, len(e.data),
                                size, len(name), len(e.central_extra), 0, 0, 0, e.external_attr, offset)
        central += name + e.central_extra
    count = len(entries) & 0xFFFF if declared_total is None else declared_total
    start = len(out)
    out += central
    if zip64_locator:
        record = len(out)
        out += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, len(entries), len(entries),
                           len(central), start)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, record, 1)
    out += END.pack(b"PK\x05\x06", 0, 0, count, count, len(central), start, 0)
    return bytes(out)
