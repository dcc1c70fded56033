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
  person expires, and the deletion report. No number and no personal content is in any of them. These
  finishing steps are part of the resumable run: the approval becomes ``executed`` only with the report.

  What a backup taken before the run holds is *not* made unreadable by destroying the data key (the
  backup holds the wrapped key too): it lasts until the backup expires and is pruned
  (:mod:`jutaku.retention.catalogue`), and a restore re-applies the deletion (:mod:`jutaku.retention.backup`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from django.db import connection, transaction
from django.db.models import Q

from jutaku.accounts import approvals
from jutaku.accounts.actor import Actor
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record, record_many
from jutaku.crypto.envelope import forget_everywhere
from jutaku.dbutil import adapter, bulk_insert, checkpoint_wal, select_in
from jutaku.domain import free_text
from jutaku.domain.jst import format_day
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
#: pg_advisory_xact_lock key of deletion requests (a constant: sha256("jutaku.retention:deletion-request")[:8]).
_REQUEST_LOCK: Final = int.from_bytes(hashlib.sha256(b"jutaku.retention:deletion-request").digest()[:8], "big",
                                      signed=True)


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

@dataclass(frozen=True)
class Requested:
    """The approval request of a deletion list; ``duplicate``: the same list was already requested and is
    pending or approved — that earlier request is returned, and no new one was made."""

    approval: Approval
    duplicate: bool = False


def request_deletion(path: Path, *, actor: Actor, reason: str) -> Approval:
    """The approval request of the list (see :func:`submit_list`): a new one, or the earlier one for it."""
    return submit_list(path, actor=actor, reason=reason).approval


def submit_list(path: Path, *, actor: Actor, reason: str) -> Requested:
    """Check the list whole, then make it one approval request (targets stored with it) — unless the same
    list (the same file, or the same set of 個人ID and 削除理由) is already requested and not yet run or
    rejected: then that request is the request (README: the same file twice is a reported no-op)."""
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
    return _one_request(path, inb.info, rows, persons, actor=actor, reason=reason)


def _one_request(path: Path, info: FileInfo, rows: list[tuple[int, str, str]], persons: dict[str, int], *,
                 actor: Actor, reason: str) -> Requested:
    """The approval request of a checked list: the earlier open one for the same list, else a new one."""
    digest = list_digest((pid, why) for _, pid, why in rows)
    with transaction.atomic():
        lock_requests()
        earlier = open_request_for(info.sha256, digest)
        if earlier is not None:
            record(AuditEvent.APPROVAL_REQUEST, actor=actor, objects=[f"approval:{earlier.pk}"], outcome="duplicate",
                   detail={"kind": KIND, "persons": len(rows)})
            return Requested(earlier, duplicate=True)
        record_media("read", MediaFile(path, DELETION_TARGETS.name, info.sha256, info.size, info.rows), actor=actor)
        approval = approvals.request_approval(
            KIND, {"file_sha256": info.sha256, "list_sha256": digest, "persons": len(rows)},
            actor=actor, reason=reason)
        bulk_insert(DeletionTarget, ("approval_id", "person", "reason", "line_no"),
                    [(approval.pk, persons[pid], why, line) for line, pid, why in rows])
    return Requested(approval)


def list_digest(targets: Iterable[tuple[str, str]]) -> str:
    """What makes two deletion lists the same list: the set of (個人ID, 削除理由), whatever the order."""
    return hashlib.sha256("\n".join(sorted(f"{pid},{why}" for pid, why in set(targets))).encode()).hexdigest()


def lock_requests() -> None:
    """Serialise deletion requests (two sessions submitting one list make one request). SQLite transactions
    are already one writer at a time from their start (``IMMEDIATE``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REQUEST_LOCK])


def open_request_for(file_sha256: str, digest: str) -> Approval | None:
    """The pending or approved (not yet run) deletion request of the same file or the same list."""
    for approval in Approval.objects.filter(kind=KIND, state__in=(ApprovalState.PENDING, ApprovalState.APPROVED)
                                            ).order_by("id"):
        if approval.payload.get("file_sha256") == file_sha256 or _digest_of(approval) == digest:
            return approval
    return None


def _digest_of(approval: Approval) -> str:
    """The list digest of a request (computed from its targets for requests made before it was stored)."""
    stored = approval.payload.get("list_sha256")
    if stored:
        return str(stored)
    return list_digest(DeletionTarget.objects.filter(approval_id=approval.pk)
                       .values_list("person__person_id", "reason").iterator(chunk_size=5000))


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
    """Delete the approved list (resumable job), then finish: the backup expiry of every record, the deletion
    ledger outside the database, the deletion report and — last, in the transaction that records the
    report — the approval marked executed.

    Every step after the chunks is idempotent and the approval stays ``approved`` until the last one has
    committed (issue 13 item 6): a run killed anywhere is completed by the same command, whose job then
    finds its chunks done (``duplicate``) and does the finishing steps again.
    """
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None or approval.kind != KIND:
        raise DeletionRefused(f"承認依頼 #{approval_id} は一括削除の依頼ではありません")
    if approval.state != ApprovalState.APPROVED:
        raise DeletionRefused(f"承認依頼 #{approval_id} は承認済みではありません（{approval.get_state_display()}）")
    token = hashlib.sha256(f"{KIND}|{approval_id}|{approval.payload.get('file_sha256', '')}".encode()).hexdigest()
    total = DeletionTarget.objects.filter(approval_id=approval_id).count()
    job = run_job(KIND, items=_targets(approval_id), input_sha256=token, input_name=f"deletion-{approval_id}",
                  actor=actor, handler=_Handler(approval), chunk_size=chunk_size, total=total, progress=progress)
    expires = _settle_backup_expiry(approval_id)
    from jutaku.retention.backup import sync_ledger

    sync_ledger()  # the tombstones also live outside the database: a restore re-applies them
    checkpoint_wal()
    with transaction.atomic():  # the report's ledger row and the approval's execution commit together
        path, info = write_report(approval_id, report, actor=actor, job_id=job.job_id)
        approvals.mark_executed(approval_id, actor=actor)
    return DeletionResult(approval_id, job, path, info, expires)


def backup_notice(expires_on: date | None) -> str:
    """What the 削除記録 says about backups (ADR 0013): until when a copy of the deleted data exists."""
    if expires_on is None:
        return "バックアップ: 削除した対象者を含むバックアップはありません。"
    return (f"バックアップ: 削除した対象者を含む最後のバックアップの保管期限は {format_day(expires_on)} です"
            "（この日以降の jutaku backup prune で削除されます。それまでリストアしても削除は再適用されます）。")


def _report_rows(approval_id: int) -> Iterator[dict[str, str]]:
    for r in DeletionRecord.objects.filter(approval_id=approval_id).order_by("person_ref").iterator(chunk_size=5000):
        yield {"削除番号": r.deletion_no, "実行日時": format_timestamp(r.executed_at), "依頼者": r.requested_by,
               "承認者": r.approved_by, "個人ID": r.person_ref, "削除理由": r.reason, "削除項目": r.items,
               "方法": r.method}


def write_report(approval_id: int, path: Path, *, actor: Actor, job_id: int | None = None) -> tuple[Path, FileInfo]:
    """The deletion report (削除記録) of one approved deletion: who, approver, when, what, how; no number."""
    return write_export(path, DELETION_REPORT, _report_rows(approval_id), actor=actor, job_id=job_id)


def deleted_refs() -> set[str]:
    """個人ID of every person with a deletion record (the tombstones a restore re-applies)."""
    return set(DeletionRecord.objects.values_list("person_ref", flat=True))

