"""The business export (業務システム連携用ファイル作成, F6): inquiry results for the housing business system.

Dual control (AUTHZ-06): an inquirer asks for the export of one procedure and fiscal year
(:func:`request_export`), a *different* supervisor approves it (``jutaku approvals approve ID``), then the
inquirer runs it (:func:`run_export`), once. The file (layout ``business-export``) is keyed by the housing
system's 個人ID and holds, per answered request, the information code, the result code, the answer's
items, and the discrepancy flag and text; it never holds a My Number or an integrated number (the
query below does not even read them). Each export is in the media ledger and audited per person.

A person whose use is suspended when the export runs (:func:`jutaku.subjects.suspension.suspended_persons`)
is left out: none of their rows is written, and each (受付番号, person) left out is on the export's exclusion
list with ``X07`` (:func:`write_exclusions`, layout ``rejections``, written beside the export).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from django.db import transaction

from jutaku.accounts import approvals
from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.crypto.envelope import FieldCipher
from jutaku.dbutil import analyze, keyset_pages
from jutaku.domain.inquiry import EXCLUSION_LABELS, Exclusion
from jutaku.domain.wareki import format_date, jst_date
from jutaku.exchange.outbound import write_export
from jutaku.formats.csvio import FileInfo
from jutaku.formats.layouts import BUSINESS_EXPORT, REJECTIONS
from jutaku.linkage.inquiry_results import CIPHER_COLUMN, CIPHER_TABLE
from jutaku.linkage.models import InquiryRequest, InquiryResult
from jutaku.registry.models import Filing, Person
from jutaku.subjects.suspension import suspended_persons

KIND: Final = "business-export"
PAGE: Final = 5000
RECIPIENT: Final = "都営住宅管理総合システム"

_ROWS_SQL = (
    "SELECT r.id, p.person_id, f.receipt_no, q.procedure_code, r.info_code, r.result_code, r.data, "
    "r.discrepancy, r.received_at, r.person_id FROM linkage_inquiryresult r "
    "JOIN linkage_inquiryrequest q ON q.id = r.request_id "
    "JOIN registry_filing f ON f.id = q.filing_id "
    "JOIN registry_person p ON p.id = r.person_id "
    "WHERE q.procedure_code = %s AND q.fiscal_year = %s AND r.result_code IN ('00', '01', '02') AND r.id > %s "
    "ORDER BY r.id LIMIT %s"
)



def register() -> None:
    """Register the dual-control kind (called by the app's ``ready``)."""
    approvals.register_kind(approvals.Kind(KIND, "業務システム連携ファイルの作成", Permission.EXPORT_BUSINESS,
                                           Permission.EXPORT_APPROVE))


_PROCEDURE_CODE: Final = re.compile(r"JT[0-9]{14}")


class ExportRefused(Exception):
    """The export may not run: not an approved business-export request, or already executed."""


@dataclass(frozen=True)
class ExportResult:
    approval_id: int
    path: Path
    sha256: str
    rows: int
    persons: int
    #: (受付番号, 個人ID) left out because the person's use is suspended (X07), in file order.
    excluded: tuple[tuple[str, str], ...] = ()


def request_export(procedure: str, year: int, *, actor: Actor, reason: str) -> Approval:
    """Ask for the export of ``procedure``/``year``; a different supervisor must approve it."""
    if not _PROCEDURE_CODE.fullmatch(procedure):  # kept in the request and shown to approvers: a code only
        raise approvals.ApprovalError("手続コードは JT と14桁の数字で指定してください")
    return approvals.request_approval(KIND, {"procedure": procedure, "year": year}, actor=actor, reason=reason)


def _rows(procedure: str, year: int, persons: dict[str, int],
          excluded: dict[tuple[str, str], None]) -> Iterator[dict[str, str]]:
    cipher = FieldCipher()
    suspended = suspended_persons()
    for page in keyset_pages(_ROWS_SQL, lambda last: [procedure, year, last, PAGE]):
        excluded.update(((r[2], r[1]), None) for r in page if r[9] in suspended)
        page = [r[:9] for r in page if r[9] not in suspended]
        sealed = [(r[1], bytes(r[6])) for r in page if r[6] is not None]
        opened = iter(cipher.decrypt_many(CIPHER_TABLE, CIPHER_COLUMN, sealed))
        for _, pid, receipt, proc, info, code, data, discrepancy, received in page:
            items = json.loads(next(opened)) if data is not None else None
            persons[pid] = persons.get(pid, 0) + 1
            yield {"個人ID": pid, "受付番号": receipt, "手続コード": proc, "特定個人情報名コード": info,
                   "結果コード": code,
                   "結果データ": json.dumps(items, ensure_ascii=False, sort_keys=True) if items is not None else "",
                   "相違フラグ": "1" if discrepancy else "0", "相違内容": discrepancy,
                   "取得日": format_date(jst_date(_aware(received)))}


def _aware(value: str | datetime) -> datetime:
    """A raw cursor gives SQLite's stored text (UTC) or PostgreSQL's aware datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def run_export(approval_id: int, out: Path, *, actor: Actor, plain: bool = False) -> ExportResult:
    """Write the approved export once; the approval is marked executed with the file's ledger row."""
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None or approval.kind != KIND:
        raise ExportRefused(f"承認依頼 #{approval_id} は業務システム連携の依頼ではありません")
    if approval.state != ApprovalState.APPROVED:
        raise ExportRefused(f"承認依頼 #{approval_id} は承認済みではありません（{approval.get_state_display()}）")
    if approval.requested_by != actor.username:
        raise ExportRefused("依頼した担当者だけが実行できます")
    procedure, year = str(approval.payload["procedure"]), int(approval.payload["year"])
    analyze(InquiryResult, InquiryRequest, Filing, Person)  # the import just filled the results table
    persons: dict[str, int] = {}
    excluded: dict[tuple[str, str], None] = {}  # insertion-ordered set
    path, info = write_export(out, BUSINESS_EXPORT, _rows(procedure, year, persons, excluded), actor=actor,
                              plain=plain, recipient=RECIPIENT)
    detail: dict[str, str | int | bool | None] = {"file_sha256": info.sha256, "procedure": procedure,
                                                  "approval": approval_id}
    with transaction.atomic():
        approvals.mark_executed(approval_id, actor=actor)
        record_many((AuditEntry(AuditEvent.EXPORT_BUSINESS, [pid], "ok", detail) for pid in persons),
                    actor=actor)
    return ExportResult(approval_id, path, info.sha256, info.rows, len(persons), tuple(excluded))


def write_exclusions(result: ExportResult, path: Path, *, actor: Actor) -> tuple[Path, FileInfo]:
    """The export's exclusion list (照会結果連携 対象外リスト, layout ``rejections``): one row per
    (受付番号, person) left out, with ``X07``. Holds no number; recorded in the media ledger."""
    code = Exclusion.SUSPENDED.value
    return write_export(path, REJECTIONS, ({"行番号": str(i), "受付番号": receipt, "個人ID": pid, "結果コード": code,
                                            "理由": EXCLUSION_LABELS[code]}
                                           for i, (receipt, pid) in enumerate(result.excluded, start=1)), actor=actor)


def export_requests(*, actor: Actor) -> list[Approval]:
    """The actor's own business-export requests not yet run (waiting for approval, or approved and ready):
    the screen shows them and offers to run the approved ones. Only the requester may run an export
    (:func:`run_export` checks again), so nobody else's requests are listed."""
    require(actor, Permission.EXPORT_BUSINESS)
    return list(Approval.objects.filter(kind=KIND, requested_by=actor.username,
                                        state__in=[ApprovalState.PENDING, ApprovalState.APPROVED]).order_by("-id"))
