"""開示請求: disclosure, correction and use-suspension requests of the persons themselves (PIA: 対応・記録).

Record a request as received, close it (対応済 / 不承認), produce the disclosure report of a disclosure
request, and ask to lift a handled use suspension (a different supervisor approves it on 承認待ち) — the
services of `jutaku requests record|handle|disclose|lift`. The report is written by a
task and offered as a one-time download (an attachment, never shown in the app). What a user typed is
shown back on an error only when it cannot hold a number (a 10-digit 個人ID, a date): a note the service
refused may contain one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from jutaku.accounts.errors import AccountsError
from jutaku.accounts.permissions import Permission
from jutaku.domain.wareki import jst_date
from jutaku.subjects.models import SubjectRequest
from jutaku.subjects.service import SubjectRequestError, handle, record_request
from jutaku.subjects.suspension import LiftRefused, request_lift
from jutaku.web.access import not_found, requires
from jutaku.web.submit import start
from jutaku.web.task_kinds import subjects as tasks

RECENT = 100
NOTE_MAX = 400
PERSON_ID = re.compile(r"[0-9]{10}")  # ASCII only: \d would take full-width digits
OUTCOMES = {"handled": False, "refused": True}  # button value → refuse


def _today() -> date:
    return jst_date(datetime.now(UTC))


def _page(request: HttpRequest, *, error: str = "", form: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    state = str(request.GET.get("state", ""))
    listed = SubjectRequest.objects.select_related("person").order_by("-id")
    if state in SubjectRequest.State.values:
        listed = listed.filter(state=state)
    return render(request, "web/subjects/index.html", {
        "title": "開示請求", "requests": listed[:RECENT], "error": error, "kinds": SubjectRequest.Kind.choices,
        "states": SubjectRequest.State.choices, "state": state, "received": SubjectRequest.State.RECEIVED,
        "disclosure": SubjectRequest.Kind.DISCLOSURE, "note_max": NOTE_MAX,
        "suspension": SubjectRequest.Kind.SUSPENSION, "handled": SubjectRequest.State.HANDLED,
        "form": form or {"received_on": _today().isoformat()}}, status=status)


@requires(Permission.REQUESTS_HANDLE)
def index(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _parse(request: HttpRequest) -> tuple[dict[str, str], str]:
    """The form's values safe to show again, and the first problem found ("" when none)."""
    person_id = str(request.POST.get("person_id", "")).strip()
    kind = str(request.POST.get("kind", ""))
    received = str(request.POST.get("received_on", "")).strip()
    safe = {"person_id": person_id if PERSON_ID.fullmatch(person_id) else "",
            "kind": kind if kind in SubjectRequest.Kind.values else "", "received_on": ""}
    try:
        day = date.fromisoformat(received)
        safe["received_on"] = day.isoformat()
    except ValueError:
        day = None
    if not safe["person_id"]:
        return safe, "個人ID（10桁）を入力してください。"
    if not safe["kind"]:
        return safe, "請求の種類を選んでください。"
    if day is None or day > _today():
        return safe, "受付日を正しく入力してください（今日以前）。"
    return safe, ""


@requires(Permission.REQUESTS_HANDLE, methods=("POST",))
def record(request: HttpRequest) -> HttpResponse:
    form, problem = _parse(request)
    if problem:
        return _page(request, error=problem, form=form, status=400)
    try:
        made = record_request(form["person_id"], form["kind"], received_on=date.fromisoformat(form["received_on"]),
                              actor=request.actor, note=str(request.POST.get("note", ""))[:NOTE_MAX])  # type: ignore[attr-defined]
    except SubjectRequestError as exc:
        return _page(request, error=str(exc), form=form, status=400)  # the note is not shown again
    messages.success(request, f"請求 #{made.pk}（{made.get_kind_display()}）を受け付けました。")  # type: ignore[attr-defined]
    return redirect("web:subject-requests")


@requires(Permission.REQUESTS_HANDLE, methods=("POST",))
def close(request: HttpRequest, request_id: int) -> HttpResponse:
    """対応済 or 不承認 (the button pressed); a handled use-suspension makes the person a deletion candidate."""
    if not SubjectRequest.objects.filter(pk=request_id).exists():
        return not_found(request)
    outcome = str(request.POST.get("outcome", ""))
    if outcome not in OUTCOMES:
        messages.error(request, "対応結果を選んでください。")
        return redirect("web:subject-requests")
    try:
        done = handle(request_id, actor=request.actor, refuse=OUTCOMES[outcome],  # type: ignore[attr-defined]
                      note=str(request.POST.get("note", "")).strip()[:NOTE_MAX])
    except SubjectRequestError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"請求 #{done.pk} を「{done.get_state_display()}」にしました。")  # type: ignore[attr-defined]
    return redirect("web:subject-requests")


@requires(Permission.REQUESTS_HANDLE, methods=("POST",))
def disclose(request: HttpRequest, request_id: int) -> HttpResponse:
    """Queue the disclosure report; the service refuses a request that is not a disclosure request."""
    if not SubjectRequest.objects.filter(pk=request_id).exists():
        return not_found(request)
    return start(request, tasks.DISCLOSE, params={"request_id": request_id,
                                                  "plain": request.POST.get("plain") == "1",
                                                  "format": "pdf" if request.POST.get("format") == "pdf" else "html"})


@requires(Permission.REQUESTS_HANDLE, methods=("POST",))
def lift(request: HttpRequest, request_id: int) -> HttpResponse:
    """Ask to lift a handled use suspension (dual control: the approval lifts it)."""
    if not SubjectRequest.objects.filter(pk=request_id).exists():
        return not_found(request)
    try:
        approval = request_lift(request_id, actor=request.actor,  # type: ignore[attr-defined]
                                reason=str(request.POST.get("reason", "")).strip()[:NOTE_MAX])
    except (LiftRefused, AccountsError) as exc:
        messages.error(request, str(exc))  # the reason typed is not shown again
    else:
        messages.success(request, f"承認依頼 #{approval.pk}（利用停止の解除）を作成しました。"  # type: ignore[attr-defined]
                                  "別の責任者が承認すると解除されます。")
    return redirect("web:subject-requests")


urlpatterns: list[URLPattern] = [
    path("subjects/", index, name="subject-requests"),
    path("subjects/record/", record, name="subject-record"),
    path("subjects/<int:request_id>/close/", close, name="subject-close"),
    path("subjects/<int:request_id>/disclose/", disclose, name="subject-disclose"),
    path("subjects/<int:request_id>/lift/", lift, name="subject-lift"),
]
