"""Outcome lists as Excel workbooks, for staff to sort and filter (ADR 0022).

- :func:`write_rejections_xlsx`: a job's outcome table (結果コード × 内容 × 件数) and the rows that need
  follow-up — the rejection list of an import (差戻リスト), the follow-up list of a result import
  (要確認リスト), the exclusion list of a request file (対象外リスト) — from the same
  :class:`~jutaku.registry.models.ImportRejection` rows as the CSV (:mod:`jutaku.registry.rejections`).
- :func:`write_deletion_request_xlsx`: the persons a deletion request would delete (the approval's
  affected list), with what the register says of each, for the supervisor who decides it.

Neither ever holds a number: the rows carry 個人ID, 受付番号, codes and fixed Japanese reasons, and the
workbook writer refuses a cell holding a written My Number (:mod:`jutaku.reports.xlsx`). Both are working
lists for staff (sensitivity ``PERSONAL``): written plain, 0600, on the media ledger, expiring.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

from jutaku.accounts.actor import Actor
from jutaku.exchange.documents import write_workbook
from jutaku.formats.layouts import DELETION_REASON, HOUSING, KUBUN, REGISTRATION_OUTCOME, STATUS
from jutaku.jobs.models import Job
from jutaku.registry.models import ImportRejection
from jutaku.reports.xlsx import Column, Sheet

OUTCOME_COLUMNS: Final = (Column("結果コード", width=11), Column("内容", width=60), Column("件数", "number", 12))
REJECTION_COLUMNS: Final = (Column("行番号", "number", 9), Column("受付番号", width=20), Column("個人ID", width=13),
                            Column("結果コード", width=11), Column("内容", width=48), Column("理由", width=70))
DELETION_COLUMNS: Final = (Column("行番号", "number", 9), Column("個人ID", width=13), Column("削除理由", width=16),
                           Column("区分", width=10), Column("住宅区分", width=14), Column("状態", width=12))
#: The list a job's rejection rows make, by job kind (the names the CLI and the screens give them).
LIST_TITLES: Final = {"linkage-import": "要確認リスト", "inquiry-import": "要確認リスト", "juki-import": "要確認リスト",
                      "linkage-request": "対象外リスト", "inquiry-create": "照会対象外リスト", "juki-request": "対象外リスト"}


class ListMissing(LookupError):
    """No such job or deletion request (message in Japanese)."""


def outcome_labels(kind: str) -> Mapping[str, str]:
    """The Japanese meaning of each outcome code of a job of ``kind`` (codes mean different things in
    different files: each import has its own table)."""
    from jutaku.domain import inquiry, juki, linkage
    from jutaku.registry import procedures, targets

    fallback = {**dict(REGISTRATION_OUTCOME), **inquiry.EXCLUSION_LABELS}
    own: Mapping[str, str] = {
        "import-targets": targets.OUTCOMES, "import-procedures": procedures.OUTCOMES,
        "linkage-import": linkage.LABELS, "inquiry-import": inquiry.OUTCOME_LABELS, "juki-import": juki.LABELS,
    }.get(kind, {})
    return {**fallback, **own}


def _outcome_rows(job: Job, labels: Mapping[str, str]) -> list[list[str | int]]:
    counts = {str(code): int(n) for code, n in dict(job.counts or {}).items()}
    return [[code, labels.get(code, ""), counts[code]] for code in sorted(counts, key=lambda c: (c[:1] != "O", c))]


def _rejection_rows(job_id: int, labels: Mapping[str, str]) -> Iterator[list[str | int]]:
    for r in ImportRejection.objects.filter(job_id=job_id).order_by("line_no").iterator(chunk_size=5000):
        yield [r.line_no, r.receipt_no, r.person_id, r.code, labels.get(r.code, ""), r.reason]


def list_title(kind: str) -> str:
    return LIST_TITLES.get(kind, "差戻リスト")


def write_rejections_xlsx(job_id: int, path: Path, *, actor: Actor) -> tuple[Path, int]:
    """The job's outcome table and its list (module doc) as one workbook; returns the file and how many list
    rows it holds."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise ListMissing(f"ジョブ #{job_id} はありません。")
    labels = outcome_labels(job.kind)
    title = list_title(job.kind)
    outcomes = _outcome_rows(job, labels)
    sheets = [Sheet("結果", OUTCOME_COLUMNS, outcomes), Sheet(title, REJECTION_COLUMNS, _rejection_rows(job_id, labels))]
    target, _, rows = write_workbook(path, sheets, title=f"{title}（ジョブ #{job_id}）", interface="rejections",
                                     actor=actor)
    return target, rows - len(outcomes)


def _deletion_rows(approval_id: int) -> Iterator[list[str | int]]:
    from jutaku.retention.models import DeletionTarget

    for line, pid, reason, kind, housing, status in (
            DeletionTarget.objects.filter(approval_id=approval_id).order_by("line_no")
            .values_list("line_no", "person__person_id", "reason", "person__kind", "person__housing_category",
                         "person__status").iterator(chunk_size=5000)):
        yield [line, pid, f"{reason} {DELETION_REASON.get(reason, '')}".strip(), KUBUN.get(kind, kind),
               HOUSING.get(housing, housing), STATUS.get(status, status)]


def write_deletion_request_xlsx(approval_id: int, path: Path, *, actor: Actor) -> tuple[Path, int]:
    """The persons of deletion request ``approval_id`` (the approval's affected list) as a workbook."""
    from jutaku.accounts.models import Approval
    from jutaku.retention.deletion import KIND

    if not Approval.objects.filter(pk=approval_id, kind=KIND).exists():
        raise ListMissing(f"承認依頼 #{approval_id} は一括削除の依頼ではありません。")
    sheets = [Sheet("削除の対象者", DELETION_COLUMNS, _deletion_rows(approval_id))]
    target, _, rows = write_workbook(path, sheets, title=f"削除依頼の対象者（承認依頼 #{approval_id}）",
                                     interface="deletion-targets", actor=actor)
    return target, rows
