"""削除: bulk deletion of numbers no longer needed (F7), the screen of `jutaku delete propose|request|run`.

削除候補 (a task writing the proposal list) → 削除依頼 (the list uploaded with a reason; the service checks
it whole and makes one approval request) → a different supervisor approves in 承認待ち → 実行 (step-up,
a task; cannot be undone) → 削除記録. The page lists the deletion requests with their approval state and
the deletion records by deletion number with counts only — never a number, never a person — and the day
the last backup holding those persons expires.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission, StepUp
from jutaku.domain import free_text
from jutaku.formats.layouts import DELETION_REASON
from jutaku.retention import deletion
from jutaku.retention.models import DeletionRecord
from jutaku.web.access import not_found, requires
from jutaku.web.submit import UploadRefused, start
from jutaku.web.task_kinds import deletion as tasks

RECENT = 30
REASON_MAX = 500


def _requests() -> list[Approval]:
    return list(Approval.objects.filter(kind=deletion.KIND).order_by("-id")[:RECENT])


def _records() -> list[dict[str, Any]]:
    """The deletion records by deletion number: when, who asked, who approved, how many by 削除理由, and
    the day by which the last backup still holding any of those persons expires (ADR 0013)."""
    groups = list(DeletionRecord.objects.values("deletion_no", "approval_id", "requested_by", "approved_by")
                  .annotate(persons=Count("id"), executed_at=Max("executed_at"),
                            backup_expires_on=Max("backup_expires_on")).order_by("-executed_at")[:RECENT])
    reasons: dict[tuple[str, int], list[str]] = {}
    for no, approval_id, why, n in (DeletionRecord.objects.filter(approval_id__in=[g["approval_id"] for g in groups])
                                    .values_list("deletion_no", "approval_id", "reason").annotate(n=Count("id"))
                                    .order_by("deletion_no", "reason")):
        reasons.setdefault((no, approval_id), []).append(f"{DELETION_REASON.get(why, why)} {n:,}")
    return [{**g, "reasons": "、".join(reasons.get((g["deletion_no"], g["approval_id"]), []))} for g in groups]


def _page(request: HttpRequest, *, error: str | UploadRefused = "", reason: str = "", status: int = 200) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(request, "web/deletion/index.html", {
        "title": "削除", "requests": _requests(), "records": _records(), "error": error, "reason": reason,
        "may_run": actor.can(Permission.DELETION_RUN), "approved": ApprovalState.APPROVED,
        "days": deletion.DECEASED_AFTER_DAYS, "reason_max": REASON_MAX}, status=status)


@requires(Permission.DELETION_REQUEST)
def index(request: HttpRequest) -> HttpResponse:
    return _page(request)


@requires(Permission.DELETION_REQUEST, methods=("POST",))
def propose(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.POST.get("deceased_after_days", deletion.DECEASED_AFTER_DAYS))
    except ValueError:
        days = -1
    if not 0 <= days <= 3650:
        return _page(request, error="死亡から削除候補とするまでの日数は 0〜3650 で指定してください。", status=400)
    return start(request, tasks.PROPOSE, params={"deceased_after_days": days})


@requires(Permission.DELETION_REQUEST, methods=("POST",))
def submit_request(request: HttpRequest) -> HttpResponse:
    reason = str(request.POST.get("reason", "")).strip()[:REASON_MAX]
    if not reason:
        return _page(request, error="依頼理由を入力してください。", status=400)
    try:
        return start(request, tasks.REQUEST, params={"reason": reason})
    except UploadRefused as exc:
        return _page(request, error=exc, reason=free_text.refill(reason), status=400)


def _deletion_request(approval_id: int) -> Approval | None:
    return Approval.objects.filter(pk=approval_id, kind=deletion.KIND).first()


@requires(Permission.DELETION_RUN, methods=("POST",), step_up=StepUp.DELETION_RUN)
def run(request: HttpRequest, approval_id: int) -> HttpResponse:
    """Queue the run; the service refuses a request that is not approved (or already executed)."""
    if _deletion_request(approval_id) is None:
        return not_found(request)
    return start(request, tasks.RUN, params={"approval_id": approval_id})


@requires(Permission.DELETION_REQUEST, methods=("POST",))
def report(request: HttpRequest, approval_id: int) -> HttpResponse:
    """The 削除記録 of a past run again (its first copy was offered once by the run)."""
    if _deletion_request(approval_id) is None or not DeletionRecord.objects.filter(approval_id=approval_id).exists():
        return not_found(request)
    return start(request, tasks.REPORT, params={"approval_id": approval_id,
                                                "format": "pdf" if request.POST.get("format") == "pdf" else "csv"})


urlpatterns: list[URLPattern] = [
    path("deletion/", index, name="deletion"),
    path("deletion/propose/", propose, name="deletion-propose"),
    path("deletion/request/", submit_request, name="deletion-request"),
    path("deletion/<int:approval_id>/run/", run, name="deletion-run"),
    path("deletion/<int:approval_id>/report/", report, name="deletion-report"),
]
