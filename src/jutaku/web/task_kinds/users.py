"""Tasks of the 利用者管理 screens: the annual access review report (CSV and HTML, or CSV and PDF), as
`jutaku users review`."""

from __future__ import annotations

from django.utils import timezone

from jutaku.accounts.permissions import Permission
from jutaku.accounts.review import write_review
from jutaku.domain.jst import format_file_stamp
from jutaku.jobs.worker import TaskContext, TaskOutcome
from jutaku.web.tasks import kind


@kind("access-review", "アクセス権限確認（年次）の報告書", Permission.ACCESS_REVIEW)
def access_review(ctx: TaskContext) -> TaskOutcome:
    stem = f"access-review-{format_file_stamp(timezone.now())}"
    fmt = "pdf" if ctx.params.get("format") == "pdf" else "html"
    result = write_review(ctx.out / f"{stem}.csv", ctx.out / f"{stem}.{fmt}", actor=ctx.actor, fmt=fmt)
    ctx.offer(result.csv_path, "アクセス権限確認（CSV）", Permission.ACCESS_REVIEW)
    ctx.offer(result.report_path, f"アクセス権限確認（報告書 {fmt.upper()}）", Permission.ACCESS_REVIEW)
    return TaskOutcome(summary={"利用者": result.rows, "要確認": result.flagged},
                       message=f"{result.rows} 人分の報告書を作成しました（要確認 {result.flagged} 人）。")
