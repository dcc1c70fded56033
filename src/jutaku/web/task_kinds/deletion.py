"""Task kinds of the 削除 screen (F7): the same service calls as `jutaku delete propose|request|run`.

Each one reads or writes a file, or touches many rows, so it runs in the worker; the files it writes
(the proposal, the 削除記録) are offered for download to the user who asked, never with a number in them.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from django.db.models import Count

from jutaku.accounts.permissions import Permission
from jutaku.domain.wareki import jst_date
from jutaku.formats.layouts import DELETION_REASON
from jutaku.jobs.labels import DELETION_COUNTS
from jutaku.jobs.worker import TaskContext, TaskFailed, TaskOutcome
from jutaku.retention import deletion
from jutaku.retention.models import DeletionTarget
from jutaku.web.tasks import kind

PROPOSE = "delete-propose"
REQUEST = "delete-request"
RUN = "delete-run"
REPORT = "delete-report"

#: The run's counts (jutaku.retention.deletion._Handler) under the names the task page shows.
RUN_COUNTS = DELETION_COUNTS


def by_reason(counts: Counter[str]) -> dict[str, int]:
    """Counts by 削除理由, labelled for the task page (counts only, never a person)."""
    return {f"削除理由 {code}（{DELETION_REASON.get(code, '不明')}）": n for code, n in sorted(counts.items())}


def _proposed(path: Path) -> Counter[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:  # the file propose just wrote (UTF-8)
        return Counter(row.get("削除理由", "") for row in csv.DictReader(fh))


def _requested(approval_id: int) -> Counter[str]:
    rows = DeletionTarget.objects.filter(approval_id=approval_id).values_list("reason").annotate(n=Count("id"))
    return Counter({reason: n for reason, n in rows})


@kind(PROPOSE, "削除候補の作成", Permission.DELETION_REQUEST)
def propose(ctx: TaskContext) -> TaskOutcome:
    days = int(ctx.params.get("deceased_after_days", deletion.DECEASED_AFTER_DAYS))
    path, info = deletion.propose(ctx.out / "deletion-proposal.csv", actor=ctx.actor,
                                  today=jst_date(datetime.now(UTC)), deceased_after_days=days)
    ctx.offer(path, "削除候補リスト", Permission.DELETION_REQUEST)
    return TaskOutcome({**by_reason(_proposed(path)), "合計": info.rows},
                       f"削除候補は {info.rows:,} 人です。内容を確認し、削除依頼の画面からファイルを指定して依頼します。")


@kind(REQUEST, "削除依頼", Permission.DELETION_REQUEST, upload=(".csv",), layout="deletion-targets",
      form=("web:deletion", "request-h"))
def request(ctx: TaskContext) -> TaskOutcome:
    if ctx.upload is None:
        raise TaskFailed("削除リストのファイルがありません。")
    requested = deletion.submit_list(ctx.upload, actor=ctx.actor, reason=str(ctx.params.get("reason", "")))
    approval = requested.approval
    persons = int(approval.payload["persons"])
    if requested.duplicate:
        return TaskOutcome({**by_reason(_requested(approval.pk)), "合計": persons},
                           f"同じ削除リストの承認依頼 #{approval.pk}（{approval.get_state_display()}、一括削除 "
                           f"{persons:,} 人）が既にあります。新しい依頼は作成していません。")
    return TaskOutcome({**by_reason(_requested(approval.pk)), "合計": persons},
                       f"承認依頼 #{approval.pk} を作成しました（一括削除 {persons:,} 人）。"
                       "別の責任者が「承認待ち」の画面で承認すると実行できます。")


@kind(RUN, "一括削除の実行", Permission.DELETION_RUN)
def run(ctx: TaskContext) -> TaskOutcome:
    approval_id = int(ctx.params["approval_id"])
    result = deletion.run_deletion(approval_id, actor=ctx.actor, report=ctx.out / f"deletion-report-{approval_id}.csv")
    ctx.offer(result.report, "削除記録", Permission.DELETION_RUN)
    counts = {RUN_COUNTS.get(k, k): v for k, v in sorted(result.job.counts.items())}
    return TaskOutcome(counts, f"承認依頼 #{approval_id} の一括削除を実行しました（削除記録 {result.report_info.rows:,} 人）。"
                       + deletion.backup_notice(result.backup_expires_on).removeprefix("バックアップ: "))


@kind(REPORT, "削除記録の作成", Permission.DELETION_REQUEST)
def report(ctx: TaskContext) -> TaskOutcome:
    """The 削除記録 again: the CSV (the layout), or — 「PDF で作成」 — a PDF to print and file."""
    approval_id = int(ctx.params["approval_id"])
    if ctx.params.get("format") == "pdf":
        from jutaku.retention.record_report import write_record_pdf

        path, persons = write_record_pdf(approval_id, ctx.out / f"deletion-report-{approval_id}.pdf", actor=ctx.actor)
        ctx.offer(path, "削除記録（PDF）", Permission.DELETION_REQUEST)
        return TaskOutcome({"削除記録": persons}, f"承認依頼 #{approval_id} の削除記録（PDF）を作成しました。")
    path, info = deletion.write_report(approval_id, ctx.out / f"deletion-report-{approval_id}.csv", actor=ctx.actor)
    ctx.offer(path, "削除記録", Permission.DELETION_REQUEST)
    return TaskOutcome({"削除記録": info.rows}, f"承認依頼 #{approval_id} の削除記録を作成しました。")
