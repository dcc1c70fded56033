"""Opening an inbound interchange file: plain or encrypted (``.enc``), checked whole before use.

An import first calls :func:`inspect` which, in one streaming pass, decrypts (when the file is
``<name>.enc``: every AES-GCM chunk is authenticated, so truncated or altered media is refused),
checks encoding, CSV structure, header and limits, computes the SHA-256 of the plaintext and verifies
the manifest when one lies beside the file. Only then are rows read, from a fresh stream. Decrypted
content is never written to disk: there is no working file to delete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from jutaku.crypto.keyring import get_keyring
from jutaku.crypto.media import MAGIC as MEDIA_MAGIC
from jutaku.crypto.media import MediaIntegrityError, MediaReader, open_media
from jutaku.formats import sniff
from jutaku.formats.csvio import CsvReader, FileInfo, Row, prescan
from jutaku.formats.errors import FileRejected
from jutaku.formats.files import check_input
from jutaku.formats.layouts import Layout
from jutaku.formats.manifest import verify_manifest

ENCRYPTED_SUFFIX = ".enc"


@dataclass(frozen=True)
class Inbound:
    path: Path
    layout: Layout
    info: FileInfo
    encrypted: bool
    key_id: str
    opener: Callable[[], IO[bytes] | Path]

    @contextmanager
    def rows(self, *, validate: bool = True) -> Iterator[CsvReader]:
        """A fresh reader over the file's rows; the underlying (decrypting) stream is closed after use.

        ``validate=False``: fields unchecked (only the width), for a pass that validates the few rows it keeps.
        """
        source = self.opener()
        try:
            with CsvReader(source, self.layout, encoding=self.info.encoding,  # type: ignore[arg-type]
                           validate=validate) as reader:
                yield reader
        finally:
            if not isinstance(source, Path):
                source.close()


def _opener(path: Path) -> tuple[Callable[[], IO[bytes] | Path], bool, str]:
    if path.name.endswith(ENCRYPTED_SUFFIX):
        key = get_keyring().media_key
        return (lambda: open_media(path, key)), True, key.key_id
    return (lambda: path), False, ""


def identify(stream: IO[bytes]) -> sniff.Identified:
    """What the file read from ``stream`` is (:func:`jutaku.formats.sniff.identify`), decrypting the first
    chunk of an encrypted media file with the media key (one that cannot be decrypted stays ``media``).
    The stream is read from its start; its position afterwards is unspecified."""
    stream.seek(0)
    head = stream.read(sniff.SNIFF_BYTES)
    if head.startswith(MEDIA_MAGIC):
        stream.seek(0)
        reader = MediaReader(stream, get_keyring().media_key)  # type: ignore[arg-type]
        try:
            head = reader.read(sniff.SNIFF_BYTES) or b""
        except MediaIntegrityError:
            return sniff.Identified("media")
        finally:
            reader.close()
    return sniff.identify(head)


def check_regular(path: Path) -> None:
    """Refuse a missing path (``R_NOT_FOUND``), one that may not be read (``R_UNREADABLE``) or one that is
    not a regular file (``R_NOT_FILE``: a folder; a device such as ``/dev/zero`` never ends, a FIFO blocks)
    before anything opens it; readers count bytes as well (:func:`jutaku.formats.files.check_input`)."""
    check_input(path)


def inspect(path: Path, layout: Layout, *, encoding: str | None = None, manifest_required: bool = False,
            visit: Callable[[Row], None] | None = None) -> Inbound:
    """Whole-file checks before anything is applied; raises :class:`FileRejected`.

    ``visit`` is handed to :func:`jutaku.formats.csvio.prescan` (the registration's conflict pre-pass).
    """
    check_regular(path)
    opener, encrypted, key_id = _opener(path)
    source = opener()
    try:
        info = prescan(source, layout, encoding, visit=visit)  # type: ignore[arg-type]
    except MediaIntegrityError:
        raise FileRejected("R_MANIFEST_HASH", "encrypted media failed authentication") from None
    finally:
        if not isinstance(source, Path):
            source.close()
    verify_manifest(path, info, layout.name, layout_version=layout.version, required=manifest_required)
    return Inbound(path=path, layout=layout, info=info, encrypted=encrypted, key_id=key_id, opener=opener)
