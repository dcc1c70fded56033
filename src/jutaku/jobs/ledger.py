"""The job ledger for a screen: the latest jobs, newest first, by keyset pages (`jutaku jobs list`).

Job rows carry no personal data (kind, file name and hash, counts by outcome code, who ran it)."""

from __future__ import annotations

from django.db.models import QuerySet

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.permissions import Permission
from jutaku.jobs.models import Job

MAX_PAGE = 200


def recent_jobs(*, actor: Actor, kind: str = "", before_id: int | None = None, limit: int = 50) -> list[Job]:
    """Up to ``limit`` jobs (at most :data:`MAX_PAGE`) older than ``before_id``, newest first."""
    require(actor, Permission.JOBS_VIEW)
    query: QuerySet[Job] = Job.objects.all()
    if kind:
        query = query.filter(kind=kind)
    if before_id is not None:
        query = query.filter(pk__lt=before_id)
    return list(query.order_by("-id")[:max(1, min(limit, MAX_PAGE))])
