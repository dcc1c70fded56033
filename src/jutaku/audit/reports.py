"""What auditors do with the trail from a screen or the command line: search it, verify it, export it.

Each use case is one function that checks its permission and records itself on the trail, in the same
transaction as the read where there is one (seed III: reads and searches of the operation history are
operations too; LOG-01). The export is staff-facing CSV (formula cells escaped, :mod:`jutaku.formats`)
written through :func:`jutaku.exchange.outbound.write_export`, so it carries a manifest and a media-ledger
row like any other file that leaves the system.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django.db import DatabaseError, transaction

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.models import AuditRecord
from jutaku.audit.queries import Criteria, matching, search
from jutaku.audit.service import AuditError, InvalidAuditContent, record
from jutaku.audit.trail import verify_trail
from jutaku.audit.verify import Checkpoint, VerifyResult
from jutaku.domain import free_text
from jutaku.domain.jst import format_time
from jutaku.formats.layouts import Column, Layout

#: At most this many records in one export; a longer period is exported in parts (the summary says so).
EXPORT_MAX: Final = 1_000_000
CHUNK: Final = 5000

AUDIT_REPORT = Layout(
    "audit-report", "監査用エクスポート（操作履歴）", "export",
    tuple(Column(name, "text", required=False) for name in (
        "連番", "日時", "利用者", "端末", "操作", "対象", "結果", "ジョブ", "詳細", "ハッシュ")),
    staff_facing=True,
    description="Ours: audit records as stored (never a My Number: the trail refuses one at write).",
)


@dataclass(frozen=True)
class Verification:
    result: VerifyResult
    recorded: bool  # False when the verification could not be written to the (broken) trail


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    sha256: str
    truncated: bool


def _check_criteria(criteria: Criteria) -> None:
    """Search criteria are recorded with the search: one holding a My Number is refused, with the
    field's name (ADR 0020), before the audit writer's guard would have to."""
    for value, field in ((criteria.object_id, "対象ID"), (criteria.username, "利用者名")):
        free_text.check(value or "", field, InvalidAuditContent)


def search_recorded(criteria: Criteria, *, actor: Actor) -> list[AuditRecord]:
    """:func:`jutaku.audit.queries.search`, with its AUDIT_SEARCH record in the same transaction.

    Raises :class:`jutaku.audit.service.InvalidAuditContent` when the criteria cannot be recorded
    (an object id with spaces or commas, or one shaped like a 個人番号): such a search is not run."""
    require(actor, Permission.AUDIT_SEARCH)
    _check_criteria(criteria)
    with transaction.atomic():
        rows = search(criteria)
        record(AuditEvent.AUDIT_SEARCH, actor=actor, objects=[criteria.object_id] if criteria.object_id else (),
               detail={**criteria.as_detail(), "hits": len(rows)})
    return rows


def verify_recorded(*, actor: Actor, from_seq: int = 1, checkpoint: Checkpoint | None = None,
                    earlier_anchors: Path | None = None) -> Verification:
    """Recompute the hash chain against the signed anchors (always; and ``checkpoint`` and an auditor's copy of
    the anchor file when given: :func:`jutaku.audit.trail.verify_trail`) and record the outcome (AUDIT_VERIFY).
    A trail too broken to take the record (a missing table, a missing head) still has its verification
    reported (``recorded=False``)."""
    require(actor, Permission.AUDIT_VERIFY)
    result = verify_trail(from_seq=from_seq, checkpoint=checkpoint, earlier=earlier_anchors)
    try:
        with transaction.atomic():
            record(AuditEvent.AUDIT_VERIFY, actor=actor, outcome="ok" if result.ok else "broken",
                   detail={"checked": result.checked, "first_bad_seq": result.first_bad_seq,
                           "from_seq": from_seq, "checkpoint_seq": checkpoint.seq if checkpoint else None,
                           "anchor_seq": result.anchor_seq})
    except (AuditError, DatabaseError):
        return Verification(result, recorded=False)
    return Verification(result, recorded=True)


def last_verification() -> AuditRecord | None:
    """The latest AUDIT_VERIFY record (what the dashboard and the audit screen report)."""
    return AuditRecord.objects.filter(event=AuditEvent.AUDIT_VERIFY).order_by("-seq").first()


def first_bad_seq(verification: AuditRecord) -> int | None:
    value = json.loads(verification.detail or "{}").get("first_bad_seq")
    return value if isinstance(value, int) else None


def export_report(path: Path, criteria: Criteria, *, actor: Actor) -> ExportResult:
    """Write every record matching ``criteria`` (oldest first, at most :data:`EXPORT_MAX`) as CSV for
    auditors, with its manifest and media-ledger row, and record who took the copy (AUDIT_EXPORT)."""
    from jutaku.exchange.outbound import write_export

    require(actor, Permission.AUDIT_REPORT)
    _check_criteria(criteria)  # refused before a file is written, not after
    target, info = write_export(path, AUDIT_REPORT, _rows(criteria), actor=actor)
    truncated = info.rows >= EXPORT_MAX
    detail = {key: value for key, value in criteria.as_detail().items() if key not in ("limit", "before_seq")}
    with transaction.atomic():
        record(AuditEvent.AUDIT_EXPORT, actor=actor,
               objects=[f"sha256:{info.sha256}", *([criteria.object_id] if criteria.object_id else [])],
               detail={**detail, "rows": info.rows, "truncated": truncated})
    return ExportResult(target, info.rows, info.sha256, truncated)


def _rows(criteria: Criteria) -> Iterator[dict[str, str]]:
    """The matching records in seq order, read by keyset in chunks (constant memory)."""
    query = matching(criteria)
    after, written = 0, 0
    while written < EXPORT_MAX:
        chunk = list(query.filter(seq__gt=after).order_by("seq")[:min(CHUNK, EXPORT_MAX - written)])
        if not chunk:
            return
        for r in chunk:
            yield {"連番": str(r.seq), "日時": format_time(r.at), "利用者": r.username,
                   "端末": r.terminal, "操作": r.event, "対象": r.object_ids, "結果": r.outcome,
                   "ジョブ": "" if r.job_id is None else str(r.job_id), "詳細": r.detail, "ハッシュ": r.hash}
        written += len(chunk)
        after = chunk[-1].seq
