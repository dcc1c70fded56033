"""Recording every file read from or written to external media (PIA: 外部記録媒体の使用記録).

``record_media`` writes the ledger row and its audit event in the caller's transaction, so a file is
never used without a trace, and a rolled-back import leaves no ledger row claiming it was applied.
"""

from __future__ import annotations

import contextvars
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text
from jutaku.exchange.models import MediaLedgerEntry

#: Files uploaded through the web are stored under generated names; the worker tells the ledger the name
#: the user gave ({stored name: user's name}), so that the ledger records the file as the user knows it.
uploaded_as: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("jutaku_uploaded_as",
                                                                                    default=None)


def _file_name(path: Path) -> str:
    """The file's name as the user knows it; withheld when it holds a written My Number (ADR 0020)."""
    names = uploaded_as.get()
    return free_text.shown(names.get(path.name, path.name)[:255] if names else path.name)


@dataclass(frozen=True)
class MediaFile:
    path: Path
    interface: str
    sha256: str
    size: int
    record_count: int | None = None
    encrypted: bool = False
    key_id: str = ""


#: No SHA-256 (a refused file that is not a regular file, or too large to hash): 64 zeros in the ledger.
NO_DIGEST = "0" * 64
#: The most a refused file is read to hash it for the ledger (the largest file any import accepts).
MAX_HASHED_BYTES = 4 * 1024**3


def sha256_of(path: Path, chunk: int = 1 << 20, *, max_bytes: int = MAX_HASHED_BYTES) -> tuple[str, int]:
    """SHA-256 and size of a regular file, counting the bytes actually read (issue 13 item 9: a device
    such as ``/dev/zero`` reports size 0 and never ends). A path that is not a regular file is not read
    at all and a file past ``max_bytes`` not hashed to its end: both give :data:`NO_DIGEST`."""
    from jutaku.formats.errors import FileRejected
    from jutaku.formats.files import open_regular

    digest, size = hashlib.sha256(), 0
    try:
        fh = open_regular(path)
    except FileRejected:
        return NO_DIGEST, 0
    with fh:
        while block := fh.read(chunk):
            size += len(block)
            if size > max_bytes:
                return NO_DIGEST, size
            digest.update(block)
    return digest.hexdigest(), size


def record_media(
    direction: str,
    media: MediaFile,
    *,
    actor: Actor,
    job_id: int | None = None,
    recipient: str = "",
    media_id: str = "",
    outcome: str = "ok",
    now: datetime | None = None,
) -> MediaLedgerEntry:
    """Write one ledger row and its audit event. Call inside ``transaction.atomic()``."""
    entry = MediaLedgerEntry.objects.create(
        at=now or datetime.now(UTC),
        username=actor.username,
        terminal=actor.terminal,
        direction=direction,
        interface=media.interface,
        file_name=_file_name(media.path),
        sha256=media.sha256,
        size=media.size,
        record_count=media.record_count,
        encrypted=media.encrypted,
        key_id=media.key_id,
        recipient=recipient,
        media_id=media_id,
        job_id=job_id,
        outcome=outcome,
    )
    event = AuditEvent.MEDIA_READ if direction == "read" else AuditEvent.MEDIA_WRITE
    record(
        event,
        actor=actor,
        objects=[f"media:{entry.pk}", f"sha256:{media.sha256}"],
        outcome=outcome,
        job_id=job_id,
        detail={
            "interface": media.interface,
            "file": _file_name(media.path),
            "records": media.record_count,
            "encrypted": media.encrypted,
        },
    )
    return entry


def record_refused(path: Path, interface: str, code: str, *, actor: Actor) -> None:
    """Record a file that was read and refused whole (the ledger keeps every use of external media)."""
    from django.db import transaction

    try:
        digest, size = sha256_of(path)
    except OSError:
        digest, size = NO_DIGEST, 0
    with transaction.atomic():
        record_media("read", MediaFile(path, interface, digest, size), actor=actor, outcome=code)
