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


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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
        digest, size = sha256_of(path), path.stat().st_size
    except OSError:
        digest, size = "0" * 64, 0
    with transaction.atomic():
        record_media("read", MediaFile(path, interface, digest, size), actor=actor, outcome=code)
