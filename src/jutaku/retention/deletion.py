"""Retention and bulk deletion (F7): propose → request → approval by a different supervisor → run.

* **propose** lists persons who still hold specific personal information (a My Number or an integrated
  number) and whose register status says it is no longer needed: moved out (理由 1), withdrawn or failed
  (2), deceased for longer than the configured period (3), or whose use is suspended (4: a handled
  use-suspension request, not lifted, :func:`jutaku.subjects.suspension.suspended_persons`).
* **request** reads a deletion list (layout ``deletion-targets``) whole: any malformed row, unknown
  person, or a reason that contradicts the register (e.g. 退去 for a current resident) refuses the whole
  list — deletion cannot be undone. The list becomes one dual-control approval request.
* **run** (once approved, by a job: chunk = one transaction, resumable) erases, per person, everything but
  what the 削除記録 and the access record need (:mod:`jutaku.retention.erasure`, ADR 0013): the number's
  ciphertext and blind index, the integrated number, every request to other systems and every answer,
  the filings (with the 不開示希望), the status history, the rejection rows naming the person, the notes of
  their subject requests and the register entry's personal fields (the person becomes a shell: 個人ID,
  区分, 住宅区分, 状態), and destroys the person's data key (crypto-erase). It then writes the 削除記録 —
  also the tombstone a restore re-applies — with the day by which the last backup still holding the
  person expires, and the deletion report. No number and no personal content is in any of them.

  What a backup taken before the run holds is *not* made unreadable by destroying the data key (the
  backup holds the wrapped key too): it lasts until the backup expires and is pruned
  (:mod:`jutaku.retention.catalogue`), and a restore re-applies the deletion (:mod:`jutaku.retention.backup`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from django.db import transaction
from django.db.models import Q

from jutaku.accounts import approvals
from jutaku.accounts.actor import Actor
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.crypto.envelope import forget_everywhere
from jutaku.dbutil import adapter, bulk_insert, checkpoint_wal, select_in
from jutaku.domain import free_text
from jutaku.domain.wareki import format_timestamp
from jutaku.exchange import inbound
from jutaku.exchange.media import MediaFile, record_media, record_refused
from jutaku.exchange.outbound import write_export
from jutaku.formats.csvio import FileInfo
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import DELETION_REPORT, DELETION_TARGETS
from jutaku.jobs.runner import ChunkContext, JobResult, run_job
from jutaku.linkage.models import IntegratedNumber
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.retention import catalogue
from jutaku.retention.erasure import erase
from jutaku.retention.models import DeletionRecord, DeletionTarget
from jutaku.subjects.suspension import suspended_persons

KIND: Final = "bulk-deletion"
DECEASED_AFTER_DAYS: Final = 90
ITEMS: Final = ("個人番号（暗号文・検索索引）、団体内統合利用番号、情報照会・住基ネット照会の要求と結果、手続（不開示希望を含む）、"
                "状態の履歴、差戻記録、請求のメモ、氏名・生年月日・性別・住所等の登録情報、データ鍵")
METHOD: Final = "行削除・登録情報の消去＋データ鍵の暗号消去"
#: Register status each reason needs (理由 4 利用停止請求 and 9 その他 apply to anyone, with approval).
_STATUS_FOR_REASON: Final = {"1": "2", "2": "3", "3": "4"}
_REASON_FOR_STATUS: Final = {v: k for k, v in _STATUS_FOR_REASON.items()}


class DeletionRefused(Exception):
    """The deletion list or the run was refused whole; nothing was deleted."""


@dataclass(frozen=True)
class DeletionResult:
    approval_id: int
    job: JobResult
    report: Path
    report_info: FileInfo
    backup_expires_on: date | None = None  # the last backup holding a deleted person expires by then


def register() -> None:
    approvals.register_kind(approvals.Kind(KIND, "個人番号の一括削除", Permission.DELETION_REQUEST,
                                           Permission.DELETION_APPROVE))


# --- propose --------------------------------------------------------------------------------------

def candidates(today: date, *, deceased_after_days: int = DECEASED_AFTER_DAYS) -> Iterator[dict[str, str]]:
    """Rows of a proposed deletion list, in 個人ID order."""
    holders = set(MyNumberRecord.objects.values_list("person_id", flat=True)) | set(
        IntegratedNumber.objects.values_list("person_id", flat=True))
    limit = today - timedelta(days=deceased_after_days)
    suspended = suspended_persons()
    persons = (Person.objects.filter(Q(status__in=list(_REASON_FOR_STATUS)) | Q(pk__in=suspended))
               .order_by("person_id").values_list("pk", "person_id", "status", "status_date"))
    for pk, pid, status, since in persons.iterator(chunk_size=5000):
        if pk not in holders:
            continue
        if pk in suspended:
            yield {"個人ID": pid, "削除理由": "4"}
        elif status in _REASON_FOR_STATUS and not (status == "4" and (since is None or since > limit)):
            yield {"個人ID": pid, "削除理由": _REASON_FOR_STATUS[status]}


def propose(out: Path, *, actor: Actor, today: date, deceased_after_days: int = DECEASED_AFTER_DAYS) -> tuple[Path, FileInfo]:
    return write_export(out, DELETION_TARGETS, candidates(today, deceased_after_days=deceased_after_days),
                        actor=actor)


# --- request --------------------------------------------------------------------------------------

def request_deletion(path: Path, *, actor: Actor, reason: str) -> Approval:
    """Check the list whole, then make it one approval request (targets stored with it)."""
    free_text.check(reason, "依頼理由", DeletionRefused)
    try:
        inb = inbound.inspect(path, DELETION_TARGETS)
    except FileRejected as exc:
        record_refused(path, DELETION_TARGETS.name, exc.code, actor=actor)
        raise
    rows: list[tuple[int, str, str]] = []
    problems: list[str] = []
    with inb.rows() as reader:
        for row in reader:
            if row.errors:
                problems.append(f"{row.line_no}行目: 形式不正")
            else:
                rows.append((row.line_no, row.values["個人ID"], row.values["削除理由"]))
    # In slices (a list of a million persons is one query per 5,000: SQLite caps a statement's variables).
    found = select_in("SELECT person_id, id, status FROM registry_person WHERE person_id {in}",
                      [pid for _, pid, _ in rows])
    persons = {pid: int(pk) for pid, pk, _ in found}
    status = {pid: st for pid, _, st in found}
    seen: set[str] = set()
    suspended = suspended_persons()
    for line, pid, why in rows:
        if pid not in persons:
            problems.append(f"{line}行目: 個人IDが登録されていません")
        elif pid in seen:
            problems.append(f"{line}行目: 個人IDが重複しています")
        elif why in _STATUS_FOR_REASON and status[pid] != _STATUS_FOR_REASON[why]:
            problems.append(f"{line}行目: 削除理由が対象者の状態と一致しません")
        elif why == "4" and persons[pid] not in suspended:
            problems.append(f"{line}行目: 対応済みの利用停止請求がありません")
        seen.add(pid)
    if not rows and not problems:
        problems.append("対象者がいません")
    if problems:
        raise DeletionRefused("削除リストを受け付けません（何も削除していません）: " + "; ".join(problems[:20]))
    with transaction.atomic():
        record_media("read", MediaFile(path, DELETION_TARGETS.name, inb.info.sha256, inb.info.size, inb.info.rows),
                     actor=actor)
        approval = approvals.request_approval(KIND, {"file_sha256": inb.info.sha256, "persons": len(rows)},
                                              actor=actor, reason=reason)
        bulk_insert(DeletionTarget, ("approval_id", "person", "reason", "line_no"),
                    [(approval.pk, persons[pid], why, line) for line, pid, why in rows])
    return approval


# --- run ------------------------------------------------------------------------------------------

def _targets(approval_id: int) -> Iterator[tuple[int, str, str]]:
    last = 0
    while True:
        page = list(DeletionTarget.objects.filter(approval_id=approval_id, pk__gt=last).order_by("pk")
                    .values_list("pk", "person_id", "person__person_id", "reason")[:5000])
        if not page:
            return
        yield from ((ppk, pid, why) for _, ppk, pid, why in page)
        last = page[-1][0]


class _Handler:
    def __init__(self, approval: Approval) -> None:
        self.approval = approval
        self.adapt_time = adapter(DeletionRecord, "executed_at")
        self.adapt_day = adapter(DeletionRecord, "backup_expires_on")

    def __call__(self, chunk: list[tuple[int, tuple[int, str, str]]], ctx: ChunkContext) -> Counter[str]:
        items = [item for _, item in chunk]
        done = set(DeletionRecord.objects.filter(approval_id=self.approval.pk, person_id__in=[p for p, _, _ in items])
                   .values_list("person_id", flat=True))
        todo = [(p, pid, why) for p, pid, why in items if p not in done]
        pks, refs = [p for p, _, _ in todo], [pid for _, pid, _ in todo]
        counts: Counter[str] = Counter({"already": len(done)})
        if not todo:
            return +counts
        moment = datetime.now(UTC)
        counts.update(erase(pks, refs, now=moment, job_id=ctx.job_id))
        now, expires = self.adapt_time(moment), catalogue.last_expiry(moment)
        number = f"DL{self.approval.pk:010d}"
        bulk_insert(DeletionRecord, ("deletion_no", "approval_id", "person", "person_ref", "reason", "executed_at",
                                     "requested_by", "approved_by", "items", "method", "job_id", "backup_expires_on"), [
            (number, self.approval.pk, p, pid, why, now, self.approval.requested_by, self.approval.decided_by,
             ITEMS, METHOD, ctx.job_id, self.adapt_day(expires) if expires else None) for p, pid, why in todo])
        detail: dict[str, str | int | bool | None] = {"approval": self.approval.pk, "method": "crypto-erase"}
        record_many((AuditEntry(AuditEvent.NUMBER_DELETE, [pid], why, detail) for _, pid, why in todo),
                    actor=ctx.actor, job_id=ctx.job_id)
        transaction.on_commit(lambda: forget_everywhere(refs))
        counts["persons"] = len(todo)
        return +counts


def _settle_backup_expiry(approval_id: int) -> date | None:
    """After the run: the latest day any backup begun before now expires, for every record of the run.

    A backup that began while a chunk was committing may hold that chunk's persons although the chunk did
    not see it catalogued; this pass, after the last commit, makes every record's day at least as late
    as any such backup's (a backup begun from now on holds none of the deleted data).
    """
    latest = catalogue.last_expiry(datetime.now(UTC))
    if latest is not None:
        DeletionRecord.objects.filter(approval_id=approval_id).filter(
            Q(backup_expires_on__isnull=True) | Q(backup_expires_on__lt=latest)).update(backup_expires_on=latest)
    return latest


def run_deletion(approval_id: int, *, actor: Actor, report: Path, progress: bool = False,
                 chunk_size: int = 5000) -> DeletionResult:
    """Delete the approved list (resumable job), mark the approval executed, write the deletion report."""
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None or approval.kind != KIND:
        raise DeletionRefused(f"承認依頼 #{approval_id} は一括削除の依頼ではありません")
    if approval.state != ApprovalState.APPROVED:
        raise DeletionRefused(f"承認依頼 #{approval_id} は承認済みではありません（{approval.get_state_display()}）")
    token = hashlib.sha256(f"{KIND}|{approval_id}|{approval.payload.get('file_sha256', '')}".encode()).hexdigest()
    total = DeletionTarget.objects.filter(approval_id=approval_id).count()
    job = run_job(KIND, items=_targets(approval_id), input_sha256=token, input_name=f"deletion-{approval_id}",
                  actor=actor, handler=_Handler(approval), chunk_size=chunk_size, total=total, progress=progress)
    approvals.mark_executed(approval_id, actor=actor)
    expires = _settle_backup_expiry(approval_id)
    from jutaku.retention.backup import sync_ledger

    sync_ledger()  # the tombstones also live outside the database: a restore re-applies them
    checkpoint_wal()
    path, info = write_report(approval_id, report, actor=actor)
    return DeletionResult(approval_id, job, path, info, expires)


def backup_notice(expires_on: date | None) -> str:
    """What the 削除記録 says about backups (ADR 0013): until when a copy of the deleted data exists."""
    if expires_on is None:
        return "バックアップ: 削除した対象者を含むバックアップはありません。"
    return (f"バックアップ: 削除した対象者を含む最後のバックアップの保管期限は {expires_on.isoformat()} です"
            "（この日以降の jutaku backup prune で削除されます。それまでリストアしても削除は再適用されます）。")


def _report_rows(approval_id: int) -> Iterator[dict[str, str]]:
    for r in DeletionRecord.objects.filter(approval_id=approval_id).order_by("person_ref").iterator(chunk_size=5000):
        yield {"削除番号": r.deletion_no, "実行日時": format_timestamp(r.executed_at), "依頼者": r.requested_by,
               "承認者": r.approved_by, "個人ID": r.person_ref, "削除理由": r.reason, "削除項目": r.items,
               "方法": r.method}


def write_report(approval_id: int, path: Path, *, actor: Actor) -> tuple[Path, FileInfo]:
    """The deletion report (削除記録) of one approved deletion: who, approver, when, what, how; no number."""
    return write_export(path, DELETION_REPORT, _report_rows(approval_id), actor=actor)


def deleted_refs() -> set[str]:
    """個人ID of every person with a deletion record (the tombstones a restore re-applies)."""
    return set(DeletionRecord.objects.values_list("person_ref", flat=True))

