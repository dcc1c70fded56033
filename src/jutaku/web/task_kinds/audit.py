"""Tasks of the 監査 screen: verify the hash chain (long at millions of records) and export for auditors.

Each runner is one call of :mod:`jutaku.audit.reports` (the same functions as `jutaku audit verify`),
which checks the permission and records itself on the trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.utils import timezone

from jutaku.accounts.permissions import Permission
from jutaku.audit import reports
from jutaku.audit.events import AuditEvent
from jutaku.audit.queries import Criteria
from jutaku.domain.jst import format_file_stamp
from jutaku.formats.manifest import manifest_path_for
from jutaku.jobs.worker import TaskContext, TaskOutcome
from jutaku.web.tasks import kind

#: The search criteria a task carries, as the strings the search form sends.
CRITERIA_KEYS = ("user", "object", "event", "since", "until")


def criteria_of(params: Mapping[str, Any]) -> Criteria:
    """The :class:`Criteria` of validated form values (``since``/``until`` ISO dates, ``event`` a value of
    :class:`AuditEvent`); raises ValueError on anything else."""
    def day(name: str) -> date | None:
        text = str(params.get(name) or "")
        return date.fromisoformat(text) if text else None

    event = str(params.get("event") or "")
    return Criteria(event=AuditEvent(event) if event else None, object_id=str(params.get("object") or "") or None,
                    username=str(params.get("user") or "") or None, since=day("since"), until=day("until"))


@kind("audit-verify", "監査ログのハッシュチェーン検証", Permission.AUDIT_VERIFY)
def verify_chain(ctx: TaskContext) -> TaskOutcome:
    verification = reports.verify_recorded(actor=ctx.actor)
    result = verification.result
    summary: dict[str, Any] = {"検証した記録": result.checked, "結果": "正常" if result.ok else "異常"}
    if result.ok:
        message = f"監査証跡は完全です（{result.checked:,} 件を検証、最終 seq {result.last_seq}）。"
        if result.anchor_seq is not None:
            message += f"署名付きアンカー {result.anchor_lines:,} 件と照合しました（最新 seq {result.anchor_seq}）。"
    else:
        where = "" if result.first_bad_seq is None else f"seq {result.first_bad_seq}"
        summary["最初の異常 seq"] = "—" if result.first_bad_seq is None else str(result.first_bad_seq)
        message = (f"監査証跡の不整合を検出しました: {where}（{result.reason}）。"
                   "セキュリティ管理者と監査担当に報告してください。")
    if not verification.recorded:
        message += "（注意: この検証結果を監査証跡に記録できませんでした。）"
    return TaskOutcome(summary=summary, message=message)


@kind("audit-export", "監査用エクスポート", Permission.AUDIT_REPORT)
def export_records(ctx: TaskContext) -> TaskOutcome:
    criteria = criteria_of(ctx.params)
    name = f"audit-report-{format_file_stamp(timezone.now())}.csv"
    exported = reports.export_report(ctx.out / name, criteria, actor=ctx.actor)
    ctx.offer(exported.path, "監査用エクスポート（CSV）", Permission.AUDIT_REPORT)
    ctx.offer(manifest_path_for(exported.path), "監査用エクスポートのマニフェスト（件数・SHA-256）", Permission.AUDIT_REPORT)
    message = f"{exported.rows:,} 件の操作履歴を書き出しました。"
    if exported.truncated:
        message += f"上限（{reports.EXPORT_MAX:,} 件）に達したため、期間を分けて残りを書き出してください。"
    return TaskOutcome(summary={"書き出した記録": exported.rows, "SHA-256": exported.sha256}, message=message)
