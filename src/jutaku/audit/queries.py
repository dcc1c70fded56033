"""Read the audit trail: search for `jutaku audit list`, and the incident query (LOG-07).

Reading the trail is itself an operation to audit; the callers (commands, views) record
:data:`AuditEvent.AUDIT_SEARCH` with the criteria in the same transaction as the read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from jutaku.audit.events import AuditEvent
from jutaku.audit.models import AuditHead, AuditRecord

JST: Final = ZoneInfo("Asia/Tokyo")
MAX_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class Criteria:
    event: AuditEvent | None = None
    object_id: str | None = None
    username: str | None = None
    since: date | None = None  # a JST calendar day, inclusive
    until: date | None = None  # a JST calendar day, inclusive
    before_seq: int | None = None  # keyset paging: only records older than this seq
    limit: int = 100

    def as_detail(self) -> dict[str, str | int | None]:
        detail: dict[str, str | int | None] = {
            "event": self.event.value if self.event else None,
            "user": self.username,
            "since": self.since.isoformat() if self.since else None,
            "limit": self.limit,
        }
        if self.until is not None:
            detail["until"] = self.until.isoformat()
        if self.before_seq is not None:
            detail["before_seq"] = self.before_seq
        return detail


def object_filter(object_id: str) -> Q:
    """Records whose comma-joined ``objects`` column contains exactly ``object_id``."""
    return (
        Q(object_ids=object_id)
        | Q(object_ids__startswith=f"{object_id},")
        | Q(object_ids__endswith=f",{object_id}")
        | Q(object_ids__contains=f",{object_id},")
    )


def first_seq_at_or_after(moment: datetime) -> int:
    """The first seq whose ``at`` is at or after ``moment`` (head seq + 1 if none), by binary search.

    Valid because ``at`` is taken under the writers' lock and so never decreases along seq; the
    table has no index on ``at`` (ADR 0003). About log2(n) primary-key lookups.
    """
    low, high = 1, (AuditHead.objects.filter(id=1).values_list("seq", flat=True).first() or 0) + 1
    while low < high:
        middle = (low + high) // 2
        at = AuditRecord.objects.filter(seq__gte=middle).order_by("seq").values_list("at", flat=True).first()
        if at is None or at >= moment:
            high = middle
        else:
            low = middle + 1
    return low


def matching(criteria: Criteria) -> QuerySet[AuditRecord]:
    """Every record matching ``criteria`` (its ``limit`` aside), unordered. A period becomes a seq range
    first (:func:`first_seq_at_or_after`), so the database walks the primary key, not the whole table."""
    query: QuerySet[AuditRecord] = AuditRecord.objects.all()
    if criteria.event is not None:
        query = query.filter(event=AuditEvent(criteria.event).value)
    if criteria.object_id:
        query = query.filter(object_filter(criteria.object_id))
    if criteria.username:
        query = query.filter(username=criteria.username)
    if criteria.since is not None:
        moment = datetime.combine(criteria.since, time.min, tzinfo=JST)
        query = query.filter(seq__gte=first_seq_at_or_after(moment), at__gte=moment)
    if criteria.until is not None:
        end = datetime.combine(criteria.until + timedelta(days=1), time.min, tzinfo=JST)
        query = query.filter(seq__lt=first_seq_at_or_after(end), at__lt=end)
    if criteria.before_seq is not None:
        query = query.filter(seq__lt=criteria.before_seq)
    return query


def search(criteria: Criteria) -> list[AuditRecord]:
    """Matching records, newest first, at most ``criteria.limit`` (capped at :data:`MAX_LIMIT`)."""
    limit = max(1, min(criteria.limit, MAX_LIMIT))
    return list(matching(criteria).order_by("-seq")[:limit])


def touched_objects(
    *, start: datetime, end: datetime, username: str | None = None, job_id: int | None = None
) -> set[str]:
    """Incident query: every object id recorded for ``username`` / ``job_id`` in ``[start, end)``."""
    if username is None and job_id is None:
        raise ValueError("name a user or a job")
    query = AuditRecord.objects.filter(
        seq__gte=first_seq_at_or_after(start), seq__lt=first_seq_at_or_after(end), at__gte=start, at__lt=end
    )
    if username is not None:
        query = query.filter(username=username)
    if job_id is not None:
        query = query.filter(job_id=job_id)
    found: set[str] = set()
    for text in query.values_list("object_ids", flat=True).iterator(chunk_size=5000):
        if text:
            found.update(text.split(","))
    return found
