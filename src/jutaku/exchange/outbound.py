"""Writing an outbound file: the layout's CSV, its manifest, media encryption by rule, the ledger, the expiry.

Every file the system writes for someone goes through :func:`write_export` (CSV layouts) or
:func:`write_output` (reports and charts), so that none is written without:

- mode 0600 and all-or-nothing (:mod:`jutaku.formats.files`, :class:`jutaku.crypto.media.MediaWriter`);
- encryption when it holds specific personal information (:func:`jutaku.domain.media.encrypted_by_default`):
  the rows are encrypted as they are written into ``<name>.enc`` under the media key — no working file, no
  plaintext on disk. ``plain=True`` is the explicit exception a person asks for (``--plain``); it is
  recorded (``media:plain``) in the transaction of the ledger row;
- a manifest (count and SHA-256 of the plaintext) for CSV layouts;
- a media-ledger row (外部記録媒体 管理台帳) and an :class:`~jutaku.exchange.models.OutputFile` row with the
  file's expiry, after which :mod:`jutaku.exchange.outputs` purges it (PIA: 作業後は直ちに削除).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.crypto.keyring import get_keyring
from jutaku.crypto.media import SUFFIX as ENCRYPTED_SUFFIX
from jutaku.crypto.media import MediaWriter
from jutaku.domain import free_text
from jutaku.domain.media import encrypted_by_default
from jutaku.exchange import outputs
from jutaku.exchange.media import MediaFile, record_media
from jutaku.exchange.models import MediaLedgerEntry
from jutaku.formats.csvio import FileInfo, write_csv
from jutaku.formats.files import write_private
from jutaku.formats.layouts import Layout
from jutaku.formats.manifest import write_manifest


class OutputExists(FileExistsError):
    """An encrypted output would replace an existing file: media files are never overwritten."""

    def __init__(self, target: Path) -> None:
        super().__init__(f"出力先 {target.name} は既にあります。別の出力先を指定してください"
                         "（送付済みのファイルは jutaku outputs purge で削除できます）。")


def write_export(
    path: Path,
    layout: Layout,
    rows: Iterable[Mapping[str, str]],
    *,
    actor: Actor,
    job_id: int | None = None,
    encoding: str = "utf-8",
    plain: bool = False,
    recipient: str = "",
    manifest: bool = True,
) -> tuple[Path, FileInfo]:
    """Write ``rows`` to ``path`` — or ``path.enc`` when the layout holds specific personal information and
    ``plain`` was not asked for — with its manifest, its ledger row and its expiry."""
    free_text.check(str(path), "出力先")  # the path is kept (outputs, ledger) until the file is purged
    now = datetime.now(UTC)
    encrypt = encrypted_by_default(layout.name) and not plain
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id = ""
    if encrypt:  # encrypted while written: the plaintext never reaches the disk (FILE-08, FILE-09)
        target = path.with_name(path.name + ENCRYPTED_SUFFIX)
        if target.exists():
            raise OutputExists(target)
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
    written = [target]
    if manifest:
        written.append(write_manifest(target, interface=layout.name, layout_version=layout.version,
                                      record_count=info.rows, sha256=info.sha256, created_at=now,
                                      created_by=actor.username, job_id=job_id))
    with transaction.atomic():
        entry = record_media("write", MediaFile(target, layout.name, info.sha256, info.size, info.rows, encrypt,
                                                key_id), actor=actor, job_id=job_id, recipient=recipient)
        _record_plain(entry, layout.name, plain=plain, actor=actor, job_id=job_id)
        for each in written:
            outputs.track(each, interface=layout.name, actor=actor, entry=entry, now=now)
    return target, info


def write_output(path: Path, data: bytes, *, interface: str, actor: Actor, records: int | None = None,
                 recipient: str = "", plain: bool = False) -> tuple[Path, MediaLedgerEntry]:
    """Write a report or chart (HTML, SVG) of ``interface``: 0600, ledger row, expiry; encrypted into
    ``path.enc`` when it holds specific personal information (the disclosure report carries the answers
    held) unless ``plain`` is asked for (audited). Returns the file written and its ledger row."""
    free_text.check(str(path), "出力先")
    now = datetime.now(UTC)
    encrypt = encrypted_by_default(interface) and not plain
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id = ""
    if encrypt:
        target = path.with_name(path.name + ENCRYPTED_SUFFIX)
        if target.exists():
            raise OutputExists(target)
        key = get_keyring().media_key
        writer = MediaWriter(target, key)
        try:
            writer.write(data)
        except BaseException:
            writer.abort()
            raise
        writer.close()
        key_id = key.key_id
    else:
        target = path
        write_private(path, data)
    with transaction.atomic():
        entry = record_media("write", MediaFile(target, interface, hashlib.sha256(data).hexdigest(), len(data),
                                                records, encrypt, key_id), actor=actor, recipient=recipient)
        _record_plain(entry, interface, plain=plain, actor=actor, job_id=None)
        outputs.track(target, interface=interface, actor=actor, entry=entry, now=now)
    return target, entry


def _record_plain(entry: MediaLedgerEntry, interface: str, *, plain: bool, actor: Actor, job_id: int | None) -> None:
    """The explicit exception: specific personal information written in clear at a person's request."""
    if plain and encrypted_by_default(interface):
        record(AuditEvent.MEDIA_PLAIN, actor=actor, objects=[f"media:{entry.pk}"], outcome=interface[:64],
               job_id=job_id, detail={"file": entry.file_name[:200]})
