"""Erasing what a bulk deletion deletes, set-based (ADR 0013): one statement per kind of row per chunk.

Per person: the My Number (ciphertext and blind index), the integrated number and its requests, every
inquiry request and answer, every Juki-net query and answer, the filings (with their consent and 不開示希望),
the Mynaportal applications (受付番号, consent and 不開示希望), the status history and its notices, the rejection rows naming the person, the notes of their subject requests, the data
key (crypto-erase), and the register entry's personal fields (the person becomes a shell,
:mod:`jutaku.domain.retention`). Kept: the shell (個人ID, 区分, 住宅区分, 状態), the 削除記録, the deletion
targets, the subject requests without their notes, and the audit trail (identifiers only).

``before`` limits the erasure to what existed at a past deletion: a restore re-applies old deletions
without touching what was registered for the person since (a person who came back). Runs inside the
caller's transaction (the deletion chunk, or one slice of a restore).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q

from jutaku.crypto.models import PersonKey
from jutaku.dbutil import delete_in, delete_rows
from jutaku.domain.retention import ERASED
from jutaku.domain.wareki import jst_date
from jutaku.jobs.models import Job
from jutaku.juki.models import JukiQuery, JukiResult
from jutaku.linkage.models import InquiryRequest, InquiryResult, IntegratedNumber, LinkageRequest
from jutaku.registry.models import (
    Filing,
    ImportRejection,
    MyNumberRecord,
    Person,
    PortalApplication,
    StatusChange,
    StatusNotice,
)
from jutaku.subjects.models import SubjectRequest


def _upto(field: str, before: datetime | None) -> dict[str, Any]:
    return {} if before is None else {f"{field}__lte": before}


def _requests_and_answers(pks: Sequence[int], before: datetime, counts: Counter[str]) -> None:
    """Answers first (they point at their requests), then the requests. An answer or number pointing at a
    request about to go goes too, whatever its own time (a PROTECT must not stop the restore)."""
    inquiries = InquiryRequest.objects.filter(person_id__in=pks, created_at__lte=before)
    queries = JukiQuery.objects.filter(person_id__in=pks, created_at__lte=before)
    linkage = LinkageRequest.objects.filter(person_id__in=pks, created_at__lte=before)
    counts["inquiry_results"] = delete_rows(InquiryResult.objects.filter(
        Q(person_id__in=pks, received_at__lte=before) | Q(request__in=inquiries.values("pk"))))
    counts["juki_results"] = delete_rows(JukiResult.objects.filter(
        Q(person_id__in=pks, received_at__lte=before) | Q(query__in=queries.values("pk"))))
    counts["integrated"] = delete_rows(IntegratedNumber.objects.filter(
        Q(person_id__in=pks, linked_at__lte=before) | Q(request__in=linkage.values("pk"))))
    counts["inquiry_requests"] = delete_rows(inquiries)
    counts["juki_queries"] = delete_rows(queries)
    counts["linkage_requests"] = delete_rows(linkage)


def erase(pks: Sequence[int], refs: Sequence[str], *, now: datetime, job_id: int | None,
          before: datetime | None = None) -> Counter[str]:
    """Erase these persons (primary keys ``pks``, 個人ID ``refs``); counts of rows by kind.

    With ``before``, only rows that existed at that moment (and a register entry not filled again since).
    """
    if not pks:
        return Counter()
    counts = _everything(pks, refs) if before is None else _existing_at(pks, refs, before)
    counts["registers"] = Person.objects.filter(pk__in=pks, deleted_at__isnull=True, **_upto("updated_at", before)) \
        .update(**ERASED, deleted_at=before or now, updated_at=now, updated_job=job_id)
    return +counts


def _everything(pks: Sequence[int], refs: Sequence[str]) -> Counter[str]:
    """A live run: every row of these persons, one ``DELETE … WHERE person = ANY(…)`` per table (the hot
    path of a million-person deletion: no per-value statement parsing, no subquery)."""
    counts: Counter[str] = Counter()
    for name, model in (("inquiry_results", InquiryResult), ("juki_results", JukiResult),
                        ("integrated", IntegratedNumber), ("inquiry_requests", InquiryRequest),
                        ("juki_queries", JukiQuery), ("linkage_requests", LinkageRequest),
                        ("numbers", MyNumberRecord), ("filings", Filing), ("status_changes", StatusChange),
                        ("status_notices", StatusNotice), ("portal_applications", PortalApplication)):
        counts[name] = delete_in(model, "person", pks)
    counts["rejections"] = delete_in(ImportRejection, "person_id", refs)
    counts["subject_notes"] = SubjectRequest.objects.filter(person_id__in=pks).exclude(note="").update(note="")
    counts["keys"] = delete_in(PersonKey, "person_ref", refs)
    return counts


def _existing_at(pks: Sequence[int], refs: Sequence[str], before: datetime) -> Counter[str]:
    """A restore's re-application: only what existed at the deletion, by each table's own time."""
    counts: Counter[str] = Counter()
    _requests_and_answers(pks, before, counts)
    counts["numbers"] = delete_rows(MyNumberRecord.objects.filter(person_id__in=pks, registered_at__lte=before))
    counts["filings"] = delete_rows(Filing.objects.filter(person_id__in=pks, updated_at__lte=before))
    counts["status_changes"] = delete_rows(StatusChange.objects.filter(person_id__in=pks, recorded_at__lte=before))
    counts["status_notices"] = delete_rows(StatusNotice.objects.filter(person_id__in=pks, recorded_at__lte=before))
    counts["portal_applications"] = delete_rows(PortalApplication.objects.filter(person_id__in=pks,
                                                                                 recorded_at__lte=before))
    counts["rejections"] = delete_rows(ImportRejection.objects.filter(
        person_id__in=refs, job_id__in=Job.objects.filter(created_at__lte=before).values("pk")))
    counts["subject_notes"] = SubjectRequest.objects.filter(person_id__in=pks, received_on__lte=jst_date(before)) \
        .exclude(note="").update(note="")
    counts["keys"] = delete_rows(PersonKey.objects.filter(person_ref__in=refs, created_at__lte=before))
    return counts
