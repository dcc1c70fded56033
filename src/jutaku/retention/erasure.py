"""Erasing what a bulk deletion deletes, set-based (ADR 0013): one statement per kind of row per chunk.

Per person: the My Number (ciphertext and blind index), the integrated number and its requests, every
inquiry request and answer, every Juki-net query and answer, the filings (with their consent and 不開示希望),
the status history, the rejection rows naming the person, the notes of their subject requests, the data
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

from django.db.models import Q, QuerySet

from jutaku.crypto.models import PersonKey
from jutaku.dbutil import delete_rows
from jutaku.domain.retention import ERASED
from jutaku.domain.wareki import jst_date
from jutaku.jobs.models import Job
from jutaku.juki.models import JukiQuery, JukiResult
from jutaku.linkage.models import InquiryRequest, InquiryResult, IntegratedNumber, LinkageRequest
from jutaku.registry.models import Filing, ImportRejection, MyNumberRecord, Person, StatusChange
from jutaku.subjects.models import SubjectRequest


def _upto(field: str, before: datetime | None) -> dict[str, Any]:
    return {} if before is None else {f"{field}__lte": before}


def _of(pks: Sequence[int], field: str, before: datetime | None, requests: QuerySet[Any], link: str) -> Q:
    """Rows of these persons; with ``before`` also any row pointing at a request about to go (a restore
    must not trip over a PROTECT), which a live run never has (a row's person is its request's person)."""
    mine = Q(person_id__in=pks, **_upto(field, before))
    return mine if before is None else mine | Q(**{f"{link}__in": requests.values("pk")})


def _requests_and_answers(pks: Sequence[int], before: datetime | None, counts: Counter[str]) -> None:
    """Answers first (they point at their requests), then the requests; numbers before their requests."""
    inquiries: QuerySet[InquiryRequest] = InquiryRequest.objects.filter(person_id__in=pks, **_upto("created_at", before))
    queries: QuerySet[JukiQuery] = JukiQuery.objects.filter(person_id__in=pks, **_upto("created_at", before))
    linkage: QuerySet[LinkageRequest] = LinkageRequest.objects.filter(person_id__in=pks, **_upto("created_at", before))
    counts["inquiry_results"] = delete_rows(InquiryResult.objects.filter(
        _of(pks, "received_at", before, inquiries, "request")))
    counts["juki_results"] = delete_rows(JukiResult.objects.filter(_of(pks, "received_at", before, queries, "query")))
    counts["integrated"] = delete_rows(IntegratedNumber.objects.filter(
        _of(pks, "linked_at", before, linkage, "request")))
    counts["inquiry_requests"] = delete_rows(inquiries)
    counts["juki_queries"] = delete_rows(queries)
    counts["linkage_requests"] = delete_rows(linkage)


def erase(pks: Sequence[int], refs: Sequence[str], *, now: datetime, job_id: int | None,
          before: datetime | None = None) -> Counter[str]:
    """Erase these persons (primary keys ``pks``, 個人ID ``refs``); counts of rows by kind.

    With ``before``, only rows that existed at that moment (and a register entry not filled again since).
    """
    counts: Counter[str] = Counter()
    if not pks:
        return counts
    _requests_and_answers(pks, before, counts)
    counts["numbers"] = delete_rows(MyNumberRecord.objects.filter(person_id__in=pks, **_upto("registered_at", before)))
    counts["filings"] = delete_rows(Filing.objects.filter(person_id__in=pks, **_upto("updated_at", before)))
    counts["status_changes"] = delete_rows(StatusChange.objects.filter(person_id__in=pks,
                                                                       **_upto("recorded_at", before)))
    rejections = ImportRejection.objects.filter(person_id__in=refs)
    if before is not None:
        rejections = rejections.filter(job_id__in=Job.objects.filter(created_at__lte=before).values("pk"))
    counts["rejections"] = delete_rows(rejections)
    notes = SubjectRequest.objects.filter(person_id__in=pks).exclude(note="")
    if before is not None:
        notes = notes.filter(received_on__lte=jst_date(before))
    counts["subject_notes"] = notes.update(note="")
    counts["keys"] = delete_rows(PersonKey.objects.filter(person_ref__in=refs, **_upto("created_at", before)))
    counts["registers"] = Person.objects.filter(pk__in=pks, deleted_at__isnull=True, **_upto("updated_at", before)) \
        .update(**ERASED, deleted_at=before or now, updated_at=now, updated_job=job_id)
    return +counts
