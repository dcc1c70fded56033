"""Tasks of the 統計 and 許可リスト screens: the statistics CSV or PDF and loading a reviewed allow-list file."""

from __future__ import annotations

from django.utils import timezone

from jutaku.accounts.permissions import Permission
from jutaku.allowlist.service import load_allowlist_file
from jutaku.domain.disclosure_control import DEFAULT_K
from jutaku.domain.jst import format_file_stamp
from jutaku.jobs.worker import TaskContext, TaskFailed, TaskOutcome
from jutaku.stats.service import export
from jutaku.web.tasks import kind


@kind("stats-export", "統計（CSV）の作成", Permission.STATS_VIEW)
def stats_export(ctx: TaskContext) -> TaskOutcome:
    k = int(ctx.params.get("k", DEFAULT_K))
    if ctx.params.get("format") == "pdf":
        from jutaku.stats.report import write_pdf

        pdf = write_pdf(ctx.out / f"stats-k{k}-{format_file_stamp(timezone.now())}.pdf", actor=ctx.actor, k=k)
        ctx.offer(pdf, f"統計（{k}未満秘匿）PDF", Permission.STATS_VIEW)
        return TaskOutcome(summary={"形式": "PDF"}, message=f"統計の PDF（表と図）を作成しました（{k} 未満は <{k}、相補秘匿は x）。")
    path, info = export(ctx.out / f"stats-k{k}-{format_file_stamp(timezone.now())}.csv", actor=ctx.actor, k=k)
    ctx.offer(path, f"統計（{k}未満秘匿）CSV", Permission.STATS_VIEW)
    return TaskOutcome(summary={"セル": info.rows}, message=f"統計の CSV を作成しました（{k} 未満は <{k}、相補秘匿は x）。")


@kind("allowlist-load", "許可リストの読込", Permission.ALLOWLIST_LOAD, upload=(".csv",), layout="allowlist",
      form=("web:allowlist", "load-h"))
def allowlist_load(ctx: TaskContext) -> TaskOutcome:
    if ctx.upload is None:
        raise TaskFailed("ファイルがありません。")
    result = load_allowlist_file(ctx.upload, actor=ctx.actor, note=str(ctx.params.get("note", ""))[:200],
                                 display_name=ctx.task.upload_name)
    summary = {"版": str(result.version_id), "規則": result.rules, "SHA-256": result.sha256}
    if result.unchanged:
        return TaskOutcome(summary=summary, message=f"有効な許可リスト（版 {result.version_id}）と同じ内容です。変更はありません。")
    return TaskOutcome(summary=summary, message=f"許可リスト 版 {result.version_id} を有効にしました（{result.rules} 件）。")
