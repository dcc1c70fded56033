"""The media ledger for a screen: the latest files read or written, newest first (`jutaku media list`).

Rows hold a base file name, interface, counts, hash and user: never personal data (models docstring)."""

from __future__ import annotations

from django.db.models import QuerySet

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.permissions import Permission
from jutaku.exchange.models import MediaLedgerEntry

MAX_PAGE = 200


def recent_entries(*, actor: Actor, before_id: int | None = None, limit: int = 50) -> list[MediaLedgerEntry]:
    """Up to ``limit`` entries (at most :data:`MAX_PAGE`) older than ``before_id``, newest first."""
    require(actor, Permission.MEDIA_LEDGER_VIEW)
    query: QuerySet[MediaLedgerEntry] = MediaLedgerEntry.objects.all()
    if before_id is not None:
        query = query.filter(pk__lt=before_id)
    return list(query.order_by("-id")[:max(1, min(limit, MAX_PAGE))])
