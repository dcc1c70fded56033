"""Task kinds of the 開示請求 screen: the disclosure report, as `jutaku requests disclose`.

The report is one person's HTML page or PDF (「PDF で作成」) written to a file (0600, media ledger, audited by the service); it is
offered for download to the user who asked, once, as an attachment: it is never shown inside the app. It
holds the answers obtained from other agencies, so it is encrypted (``.enc``) unless the user ticked
「暗号化しない」 to print it for the person (audited).
"""

from __future__ import annotations

from jutaku.accounts.permissions import Permission
from jutaku.exchange.documents import FORMAT_LABELS
from jutaku.jobs.worker import TaskContext, TaskOutcome
from jutaku.subjects.report import disclose
from jutaku.web.tasks import kind

DISCLOSE = "subject-disclose"


@kind(DISCLOSE, "保有個人情報開示書の作成", Permission.REQUESTS_HANDLE)
def disclosure_report(ctx: TaskContext) -> TaskOutcome:
    request_id = int(ctx.params["request_id"])
    fmt = "pdf" if ctx.params.get("format") == "pdf" else "html"
    report = disclose(request_id, ctx.out / f"disclosure-{request_id}.{fmt}", actor=ctx.actor,
                      plain=bool(ctx.params.get("plain")), fmt=fmt)
    ctx.offer(report.path, f"保有個人情報開示書（{FORMAT_LABELS[fmt]}）", Permission.REQUESTS_HANDLE)
    return TaskOutcome({"アクセス記録": report.accesses},
                       f"請求 #{request_id} の保有個人情報開示書を作成しました。番号は下4桁のみ記載しています。")
