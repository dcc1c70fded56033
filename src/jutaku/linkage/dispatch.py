"""Dispatches: the one design of the three outbound request files (linkage, inquiry, Juki-net).

Every request file is made in two steps (ADR 0009, ADR 0011):

1. **create** opens a :class:`~jutaku.linkage.models.Dispatch` and its job inserts requests into it
   (state ``open``), chunk by chunk;
2. **write** pages through the requests of every dispatch of that kind (and procedure and year) not yet
   sent, in id order, writes them to the file, then — in one transaction, after the file and its
   media-ledger row exist — marks those *dispatches* sent with the file's hash and audits per person.

No request row is rewritten when a file is sent: at a million persons that rewrite (every row and its
index entries, five million rows for one inquiry file) was most of the PostgreSQL run. A dispatch left
unsent by a crash is simply written again with the next one. An answer is accepted only for a request
whose dispatch was sent (:data:`SENT_ONLY`): the other side cannot answer what never left.

The create step and the write step of one kind hold :func:`file_lock` together, so a write never sees
a dispatch its create job is still filling.

Before a write, :func:`withhold` closes (state ``cancelled``) the open requests of persons who may no longer
be asked about — whose use was suspended (``X07``) or whose integrated number awaits re-acquisition
(``X08``) since the request was made — and puts them on the exclusion list of the run's job: a request made
before a suspension is never sent after it. A dispatch left with no open request is not written.
"""

from __future__ import annotations

import contextlib
import functools
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models, transaction

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.dbutil import adapter, bulk_insert, keyset_pages, select_in, update_in
from jutaku.domain.inquiry import EXCLUSION_LABELS, Exclusion
from jutaku.jobs.locks import kind_lock
from jutaku.linkage.models import Dispatch
from jutaku.registry.models import ImportRejection

PAGE = 5000
_TABLES = {"linkage": "linkage_linkagerequest", "inquiry": "linkage_inquiryrequest", "juki": "juki_jukiquery"}
_NUMBERS = {"linkage": "request_no", "inquiry": "request_no", "juki": "query_no"}
_EVENTS = {"linkage": AuditEvent.LINKAGE_REQUEST, "inquiry": AuditEvent.INQUIRY_REQUEST, "juki": AuditEvent.JUKI_REQUEST}

#: The join an answer import finds its requests through: a request whose file has not gone out does not
#: exist for the other side, so its id in an answer is unknown (``L01``/``Q01``/``J01``).
SENT_ONLY = "JOIN linkage_dispatch d ON d.id = r.dispatch_id AND d.sent_at IS NOT NULL"


@dataclass
class Written:
    """What a write step remembers, in O(dispatches + exceptions) memory."""

    rows: dict[int, int] = field(default_factory=dict)  # dispatch -> requests written
    missing: list[int] = field(default_factory=list)  # requests not written: their person lost the number
    flagged: list[int] = field(default_factory=list)  # requests sent with 不開示コード 2 (inquiries)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def file_lock(kind: str) -> contextlib.AbstractContextManager[None]:
    """Held for create + write of one kind of request file (raises ``JobBusy`` when another holds it)."""
    return kind_lock(f"{kind}-file")


def open_dispatch(kind: str, *, procedure: str = "", year: int | None = None) -> int:
    """A new, empty dispatch (its own transaction); the create job fills it."""
    with transaction.atomic():
        row = Dispatch.objects.create(kind=kind, procedure_code=procedure, fiscal_year=year,
                                      created_at=datetime.now(UTC))
    return int(row.pk)


def set_job(dispatch_id: int, job_id: int) -> None:
    Dispatch.objects.filter(pk=dispatch_id).update(created_job=job_id)


def pending(kind: str, *, procedure: str = "", year: int | None = None) -> list[int]:
    """Unsent dispatches of this kind (and procedure and year), oldest first. On PostgreSQL the request
    table is analysed first: the create job has just added its rows, and the pages must be planned on
    the ``(dispatch, id)`` index, not on the statistics of an empty table."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {_TABLES[kind]}")  # see jutaku.dbutil.analyze
    return still_open(kind, list(Dispatch.objects.filter(
        kind=kind, procedure_code=procedure, fiscal_year=year, sent_at__isnull=True).order_by("id")
        .values_list("id", flat=True)))


def still_open(kind: str, dispatches: Sequence[int]) -> list[int]:
    """The dispatches that hold an open request. One whose requests were all closed before sending
    (withheld, or the number deleted) stays unsent — it never went out — and is not written."""
    sql = f"SELECT 1 FROM {_TABLES[kind]} WHERE dispatch_id = %s AND state = 'open' LIMIT 1"  # noqa: S608 - table name from a fixed map
    kept: list[int] = []
    with connection.cursor() as cur:
        for dispatch in dispatches:
            cur.execute(sql, [dispatch])
            if cur.fetchone() is not None:
                kept.append(dispatch)
    return kept


def pages(sql: str, dispatches: Sequence[int]) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """``(dispatch, page)`` of ``sql`` (``… WHERE r.dispatch_id = %s AND r.id > %s ORDER BY r.id LIMIT %s``)
    over each dispatch in turn, in request id order (the ``(dispatch, id)`` index of each request table)."""
    for dispatch in dispatches:
        for page in keyset_pages(sql, functools.partial(_page_params, dispatch)):
            yield dispatch, page


def _page_params(dispatch: int, last: int) -> list[int]:
    return [dispatch, last, PAGE]


def mark_sent(rows: dict[int, int], sha256: str) -> None:
    """Inside the caller's transaction: the dispatches ``rows`` ({dispatch: requests written}) went out in
    the file ``sha256``. Refuses (raises) when another run sent one of them meanwhile."""
    if not connection.in_atomic_block:
        raise RuntimeError("mark dispatches sent inside the transaction that audits them")
    now = adapter(Dispatch, "sent_at")(datetime.now(UTC))
    changed = 0
    with connection.cursor() as cur:
        for dispatch, count in rows.items():
            cur.execute("UPDATE linkage_dispatch SET sent_at = %s, sent_file_sha256 = %s, sent_rows = %s "
                        "WHERE id = %s AND sent_at IS NULL", [now, sha256, count, dispatch])
            changed += max(cur.rowcount, 0)
    if changed != len(rows):
        raise RuntimeError(f"{changed} of {len(rows)} dispatches marked sent: another run sent them")


def discard_empty(kind: str) -> int:
    """Delete unsent dispatches of ``kind`` that hold no request (a create run that found nothing to do)."""
    table = _TABLES[kind]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM linkage_dispatch WHERE kind = %s AND sent_at IS NULL AND NOT EXISTS "  # noqa: S608 - table name from a fixed map
                    f"(SELECT 1 FROM {table} r WHERE r.dispatch_id = linkage_dispatch.id)", [kind])
        return max(cur.rowcount, 0)


def withhold(kind: str, dispatches: Sequence[int], codes: Mapping[int, str], *, actor: Actor,
             job_id: int | None) -> int:
    """Close as ``cancelled`` the open requests of ``dispatches`` whose person is in ``codes`` ({person
    pk: exclusion code}), audit each person and, with a ``job_id``, add them to that job's exclusion list
    (行番号 after its last row, 受付番号 = the request's number). Its own transaction; returns how many."""
    if not dispatches or not codes:
        return 0
    model = _models()[kind]
    sql = (f"SELECT r.id, r.{_NUMBERS[kind]}, r.person_id, p.person_id, r.dispatch_id FROM {_TABLES[kind]} r "  # noqa: S608 - names from fixed maps
           "JOIN registry_person p ON p.id = r.person_id WHERE r.state = 'open' AND r.person_id {in}")
    wanted = set(dispatches)
    found = sorted(row for row in select_in(sql, sorted(codes)) if int(row[4]) in wanted)
    if not found:
        return 0
    with transaction.atomic():
        update_in(model, {"state": "cancelled"}, "id", [int(r[0]) for r in found])
        if job_id is not None:
            last = ImportRejection.objects.filter(job_id=job_id).order_by("-line_no").values_list("line_no", flat=True)
            start = (last.first() or 0) + 1
            bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), [
                (job_id, start + i, str(no)[:20], pid, codes[int(ppk)], EXCLUSION_LABELS[codes[int(ppk)]])
                for i, (_, no, ppk, pid, _) in enumerate(found)])
        persons: dict[str, tuple[str, int]] = {}
        for _, _, ppk, pid, _ in found:
            code, n = persons.get(pid, (codes[int(ppk)], 0))
            persons[pid] = (code, n + 1)
        record_many((AuditEntry(_EVENTS[kind], [pid], "withheld", {"code": code, "requests": n})
                     for pid, (code, n) in persons.items()), actor=actor, job_id=job_id)
    return len(found)


def exclude_suspended(chunk: list[tuple[int, tuple[int, str]]], suspended: frozenset[int],
                      job_id: int) -> Counter[str]:
    """Inside a create job's chunk: put the chunk's persons whose use is suspended on the job's exclusion
    list (``X07``) and return their count. For the create jobs whose items are (person pk, 個人ID): linkage
    requests and Juki-net queries (the caller leaves them out of its requests)."""
    code = Exclusion.SUSPENDED.value
    left = [(index + 1, pid) for index, (pk, pid) in chunk if pk in suspended]
    bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), [
        (job_id, line, "", pid, code, EXCLUSION_LABELS[code]) for line, pid in left])
    return Counter({code: len(left)}) if left else Counter()


def excluded_count(job_id: int) -> int:
    """Rows on a create job's exclusion list (left out by the create step, or withheld by the write)."""
    return ImportRejection.objects.filter(job_id=job_id).count()


def _models() -> dict[str, type[models.Model]]:
    from jutaku.juki.models import JukiQuery
    from jutaku.linkage.models import InquiryRequest, LinkageRequest

    return {"linkage": LinkageRequest, "inquiry": InquiryRequest, "juki": JukiQuery}
