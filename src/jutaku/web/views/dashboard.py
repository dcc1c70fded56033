"""ダッシュボード: counts (no personal data), the user's recent tasks, alerts.

The counts are aggregate and cached for a minute (at a million persons each is a scan); the alerts are
the outcome of the last audit-chain verification and, for a security_admin, the locked accounts.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jutaku.accounts.models import User
from jutaku.accounts.permissions import Permission
from jutaku.audit.models import AuditRecord
from jutaku.audit.reports import last_verification
from jutaku.domain.jst import format_screen_time
from jutaku.jobs.models import Task
from jutaku.juki.models import JukiResult
from jutaku.linkage.models import InquiryRequest, InquiryResult, IntegratedNumber
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.web.access import requires
from jutaku.web.labels import task_label
from jutaku.web.views.tasks import state_label

CACHE_SECONDS = 60


def counts() -> list[dict[str, Any]]:
    cached = cache.get("jutaku:dashboard:counts")
    if cached is not None:
        return list(cached)
    persons = Person.objects.filter(deleted_at__isnull=True).count()  # shells of deleted persons are not 対象者
    numbered = MyNumberRecord.objects.count()
    current_numbered = MyNumberRecord.objects.filter(person__status=Person.Status.CURRENT).count()
    linked = IntegratedNumber.objects.filter(person__status=Person.Status.CURRENT).count()
    rows = [
        {"label": "対象者", "value": persons, "unit": "人"},
        {"label": "個人番号登録済", "value": numbered, "unit": "人"},
        {"label": "統合利用番号 未取得", "value": max(current_numbered - linked, 0), "unit": "人"},
        {"label": "回答待ちの情報照会", "value": InquiryRequest.objects.filter(state="open").count(), "unit": "件"},
        {"label": "要確認の相違（届出勧奨）", "value": InquiryResult.objects.exclude(discrepancy="").count()
         + JukiResult.objects.exclude(discrepancy="").count(), "unit": "件"},
        {"label": "削除候補", "value": MyNumberRecord.objects.filter(~Q(person__status=Person.Status.CURRENT)).count(),
         "unit": "人"},
    ]
    cache.set("jutaku:dashboard:counts", rows, CACHE_SECONDS)
    return rows


def alerts(request: HttpRequest, last: AuditRecord | None) -> list[str]:
    """``last``: the latest chain verification (:func:`jutaku.audit.reports.last_verification`)."""
    found = []
    if last is not None and last.outcome != "ok":
        found.append(f"監査ログのハッシュチェーン検証で異常が見つかっています（{format_screen_time(last.at)}）。"
                     "監査担当に連絡してください。")
    if request.actor.can(Permission.USERS_MANAGE):  # type: ignore[attr-defined]
        locked = User.objects.filter(locked_at__isnull=False, disabled=False).count()
        if locked:
            found.append(f"ロックされている利用者が {locked} 人います（利用者管理で確認・解除）。")
    return found


@requires(Permission.SESSION_SELF)
def dashboard(request: HttpRequest) -> HttpResponse:
    tasks = Task.objects.filter(username=request.actor.username).order_by("-id")[:8]  # type: ignore[attr-defined]
    last = last_verification()
    return render(request, "web/dashboard.html", {
        "title": "ダッシュボード", "counts": counts(), "alerts": alerts(request, last),
        "tasks": [{"task": t, "label": task_label(t.kind), "state": state_label(t)} for t in tasks],
        "last_verify": last})
