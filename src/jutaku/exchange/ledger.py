"""The media ledger (外部記録媒体 管理台帳) for people: reading it, and recording what happened to a file
after the system wrote or read it — the medium it was carried on and by whom (引渡し), then its erasure
from that medium after the transfer (消去確認, 論理削除) (PIA II-6, III 保管・消去; docs/runbooks/media.md).

Which entries still wait for an erasure confirmation is the rule :func:`jutaku.domain.media.awaits_erasure`,
written here once more as a query (:func:`awaiting_erasure_q`). Rows hold a base file name, interface,
counts, hash, users, the medium id and the carrier's name: never a resident's personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain.media import (
    ERRORS,
    LedgerState,
    awaits_erasure,
    erasure_error,
    handover_error,
    non_specific_interfaces,
)
from jutaku.exchange.models import MediaLedgerEntry

MAX_PAGE = 200


class MediaRecordRefused(ValueError):
    """A hand-over or erasure that cannot be recorded; nothing was changed (message in Japanese)."""

    def __init__(self, code: str, entry_id: int) -> None:
        super().__init__(f"{code} 台帳 #{entry_id}: {ERRORS[code]}")
        self.code = code
        self.entry_id = entry_id


def state_of(entry: MediaLedgerEntry) -> LedgerState:
    return LedgerState(entry.interface, entry.outcome, entry.media_id, entry.handed_over_at is not None,
                       entry.erased_at is not None)


def awaiting_erasure_q() -> Q:
    """:func:`jutaku.domain.media.awaits_erasure` as a query."""
    specific = Q(outcome="ok") & ~Q(interface__in=sorted(non_specific_interfaces()))
    return Q(erased_at__isnull=True) & (Q(handed_over_at__isnull=False) | specific)


def recent_entries(*, actor: Actor, before_id: int | None = None, limit: int = 50,
                   unerased: bool = False) -> list[MediaLedgerEntry]:
    """Up to ``limit`` entries (at most :data:`MAX_PAGE`) older than ``before_id``, newest first;
    ``unerased``: only those still awaiting an erasure confirmation."""
    require(actor, Permission.MEDIA_LEDGER_VIEW)
    query: QuerySet[MediaLedgerEntry] = MediaLedgerEntry.objects.all()
    if unerased:
        query = query.filter(awaiting_erasure_q())
    if before_id is not None:
        query = query.filter(pk__lt=before_id)
    return list(query.order_by("-id")[:max(1, min(limit, MAX_PAGE))])


def awaiting_count() -> int:
    return MediaLedgerEntry.objects.filter(awaiting_erasure_q()).count()


def awaits(entry: MediaLedgerEntry) -> bool:
    return awaits_erasure(state_of(entry))


def _locked(entry_ids: Sequence[int]) -> list[MediaLedgerEntry]:
    found = {e.pk: e for e in MediaLedgerEntry.objects.select_for_update().filter(pk__in=list(entry_ids))}
    missing = [i for i in entry_ids if i not in found]
    if missing:
        raise MediaRecordRefused("M05", missing[0])
    return [found[i] for i in dict.fromkeys(entry_ids)]


def record_handover(entry_ids: Sequence[int], *, medium: str, carrier: str, actor: Actor,
                    now: datetime | None = None) -> list[MediaLedgerEntry]:
    """Record that the files of ``entry_ids`` were put on ``medium`` and carried by ``carrier`` (all or none)."""
    require(actor, Permission.MEDIA_RECORD)
    now, carrier = now or datetime.now(UTC), carrier.strip()
    with transaction.atomic():
        entries = _locked(entry_ids)
        for entry in entries:
            if (code := handover_error(state_of(entry), medium, carrier)) is not None:
                raise MediaRecordRefused(code, entry.pk)
        for entry in entries:
            entry.media_id, entry.carrier, entry.handed_over_at, entry.handed_over_by = (
                medium, carrier, now, actor.username)
            entry.save(update_fields=["media_id", "carrier", "handed_over_at", "handed_over_by"])
            record(AuditEvent.MEDIA_HANDOVER, actor=actor, objects=[f"media:{entry.pk}", f"medium:{medium}"],
                   detail={"interface": entry.interface, "file": entry.file_name[:200], "carrier": carrier})
    return entries


def confirm_erasure(entry_ids: Sequence[int], *, medium: str, actor: Actor,
                    now: datetime | None = None) -> list[MediaLedgerEntry]:
    """Record that the files of ``entry_ids`` were erased from ``medium`` after the transfer (all or none)."""
    require(actor, Permission.MEDIA_RECORD)
    now = now or datetime.now(UTC)
    with transaction.atomic():
        entries = _locked(entry_ids)
        for entry in entries:
            if (code := erasure_error(state_of(entry), medium)) is not None:
                raise MediaRecordRefused(code, entry.pk)
        for entry in entries:
            entry.media_id, entry.erased_at, entry.erased_by = medium, now, actor.username
            entry.save(update_fields=["media_id", "erased_at", "erased_by"])
            record(AuditEvent.MEDIA_ERASE, actor=actor, objects=[f"media:{entry.pk}", f"medium:{medium}"],
                   detail={"interface": entry.interface, "file": entry.file_name[:200]})
    return entries
