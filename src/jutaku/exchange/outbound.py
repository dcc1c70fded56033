"""Writing an outbound file: the layout's CSV, its manifest, optional media encryption, the ledger.

Every export goes through :func:`write_export` so that none leaves without a manifest (count and
SHA-256 of the plaintext) and a media-ledger row. With ``encrypt=True`` the rows are encrypted as they
are written (:class:`jutaku.crypto.media.MediaWriter`) into ``<name>.enc`` under the media key: no
working file, no plaintext on disk (PIA: 作業ファイルは使用後直ちに削除 — there is none to delete).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.crypto.keyring import get_keyring
from jutaku.crypto.media import MediaWriter
from jutaku.exchange.media import MediaFile, record_media
from jutaku.formats.csvio import FileInfo, write_csv
from jutaku.formats.layouts import Layout
from jutaku.formats.manifest import write_manifest


def write_export(
    path: Path,
    layout: Layout,
    rows: Iterable[Mapping[str, str]],
    *,
    actor: Actor,
    job_id: int | None = None,
    encoding: str = "utf-8",
    encrypt: bool = False,
    recipient: str = "",
) -> tuple[Path, FileInfo]:
    """Write ``rows`` to ``path`` (or ``path.enc``), its manifest and the media-ledger row."""
    now = datetime.now(UTC)
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id = ""
    if encrypt:  # encrypted while written: the plaintext never reaches the disk (FILE-08, FILE-09)
        target = path.with_name(path.name + ".enc")
        key = get_keyring().media_key
        writer = MediaWriter(target, key)
        try:
            info = write_csv(writer, layout, rows, encoding=encoding)  # type: ignore[arg-type]
        except BaseException:
            writer.abort()
            raise
        writer.close()
        key_id = key.key_id
    else:
        target = path
        info = write_csv(target, layout, rows, encoding=encoding)  # type: ignore[arg-type]
    write_manifest(target, interface=layout.name, layout_version=layout.version, record_count=info.rows,
                   sha256=info.sha256, created_at=now, created_by=actor.username, job_id=job_id)
    with transaction.atomic():
        record_media("write", MediaFile(target, layout.name, info.sha256, info.size, info.rows, encrypt, key_id),
                     actor=actor, job_id=job_id, recipient=recipient)
    return target, info
