"""監査: search the audit trail, verify the chain, export for auditors; jobs and media ledger.

The search is one call of :func:`jutaku.audit.reports.search_recorded` (the search records itself, as
`jutaku audit list` does), newest first, by keyset pages of :data:`PAGE` ("次へ" carries the last seq
shown). Verifying the chain and exporting run as tasks (:mod:`jutaku.web.task_kinds.audit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path, reverse

from jutaku.accounts.permissions import Permission
from jutaku.audit import reports
from jutaku.audit.events import AuditEvent
from jutaku.audit.guard import contains_my_number
from jutaku.audit.labels import detail_items, event_areas, event_label, outcome_label
from jutaku.audit.models import AuditRecord
from jutaku.audit.service import InvalidAuditContent
from jutaku.domain.jobs import KIND_LABELS, kind_label
from jutaku.exchange.labels import interface_label
from jutaku.exchange.labels import outcome_label as media_outcome
from jutaku.exchange.ledger import awaiting_count, awaits, recent_entries
from jutaku.jobs.labels import count_rows
from jutaku.jobs.ledger import recent_jobs
from jutaku.jobs.status import shown
from jutaku.web.access import requires
from jutaku.web.submit import start
from jutaku.web.task_kinds.audit import CRITERIA_KEYS, criteria_of

PAGE = 50
LEDGER_PAGE = 50
_LIMITS = {"user": 150, "object": 200}
_OBJECT_ID = re.compile(r"[^\s,\x00-\x1f\x7f]{1,200}")  # what the trail accepts as an object id
OBJECT_REFUSED = "対象IDに使えない値です（空白・カンマを含む値や個人番号は検索条件にできません）。"


def parse_form(data: QueryDict) -> tuple[dict[str, str], list[str]]:
    """The search form's values (trimmed, bounded) and the Japanese errors found in them."""
    values = {key: str(data.get(key, "")).strip()[:_LIMITS.get(key, 20)] for key in CRITERIA_KEYS}
    errors = []
    if values["event"] and values["event"] not in {e.value for e in AuditEvent}:
        errors.append("操作の種類を一覧から選んでください。")
    for key, label in (("since", "期間（開始）"), ("until", "期間（終了）")):
        if values[key]:
            try:
                date.fromisoformat(values[key])
            except ValueError:
                errors.append(f"{label}は YYYY-MM-DD の形で入力してください。")
    if not errors and values["since"] and values["until"] and values["since"] > values["until"]:
        errors.append("期間の終了は開始以降の日付にしてください。")
    if values["object"] and (contains_my_number(values["object"]) or not _OBJECT_ID.fullmatch(values["object"])):
        values["object"] = ""  # never shown again: it may have been a 個人番号
        errors.append(OBJECT_REFUSED)
    return values, errors


@dataclass(frozen=True)
class Shown:
    """One record as the result table shows it: the event and outcome by name, the detail as label/value
    pairs (folded on the page, so that the table fits 1366 px)."""

    seq: int
    at: datetime
    username: str
    terminal: str
    object_ids: str
    event: str
    event_label: str
    outcome_label: str
    details: list[tuple[str, str]]


def shown_record(r: AuditRecord) -> Shown:
    return Shown(r.seq, r.at, r.username, r.terminal, r.object_ids, r.event, event_label(r.event),
                 outcome_label(r.event, r.outcome), detail_items(r.detail))


def _before(data: QueryDict) -> int | None:
    text = str(data.get("before", ""))
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


@requires(Permission.AUDIT_SEARCH)
def audit_search(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    values, errors = parse_form(request.GET)
    rows: list[Any] | None = None
    next_url = ""
    if "search" in request.GET and not errors:
        criteria = replace(criteria_of(values), before_seq=_before(request.GET), limit=PAGE + 1)
        try:
            rows = reports.search_recorded(criteria, actor=actor)
        except InvalidAuditContent:
            values["object"] = ""
            errors.append(OBJECT_REFUSED)
        if rows is not None and len(rows) > PAGE:
            rows = rows[:PAGE]
            next_url = "?" + urlencode({**values, "search": "1", "before": rows[-1].seq})
    last = reports.last_verification()
    return render(request, "web/audit/search.html", {
        "title": "監査（操作履歴）", "form": values, "errors": errors, "next_url": next_url,
        "rows": None if rows is None else [shown_record(r) for r in rows],
        "event_areas": event_areas(), "page": PAGE, "paged": _before(request.GET) is not None,
        "last_verify": last, "last_bad_seq": reports.first_bad_seq(last) if last is not None else None,
        "can_verify": actor.can(Permission.AUDIT_VERIFY), "can_export": actor.can(Permission.AUDIT_REPORT),
        "can_jobs": actor.can(Permission.JOBS_VIEW), "can_media": actor.can(Permission.MEDIA_LEDGER_VIEW),
        "can_review": actor.can(Permission.ACCESS_REVIEW)})


@requires(Permission.AUDIT_VERIFY, methods=("POST",))
def audit_verify(request: HttpRequest) -> HttpResponse:
    return start(request, "audit-verify")


@requires(Permission.AUDIT_REPORT, methods=("POST",))
def audit_export(request: HttpRequest) -> HttpResponse:
    values, errors = parse_form(request.POST)
    if errors:
        for error in errors:
            messages.error(request, error)
        return HttpResponseRedirect(reverse("web:audit"))
    return start(request, "audit-export", params=values)


@requires(Permission.JOBS_VIEW)
def job_ledger(request: HttpRequest) -> HttpResponse:
    kind = str(request.GET.get("kind", "")).strip()[:64]
    jobs = recent_jobs(actor=request.actor, kind=kind, before_id=_before(request.GET),  # type: ignore[attr-defined]
                       limit=LEDGER_PAGE + 1)
    next_url = ""
    if len(jobs) > LEDGER_PAGE:
        jobs = jobs[:LEDGER_PAGE]
        next_url = "?" + urlencode({"kind": kind, "before": jobs[-1].pk})
    states = shown(jobs)  # a running job whose process died is 中断, with the command that resumes it
    return render(request, "web/audit/jobs.html", {
        "title": "ジョブ台帳", "kind": kind, "next_url": next_url, "kinds": sorted(KIND_LABELS.items()),
        "jobs": [{"job": j, "shown": states[j.pk], "kind": kind_label(j.kind), "counts": count_rows(j.kind, j.counts)}
                 for j in jobs]})


@requires(Permission.MEDIA_LEDGER_VIEW)
def media_ledger(request: HttpRequest) -> HttpResponse:
    unerased = request.GET.get("unerased") == "1"
    entries = recent_entries(actor=request.actor, before_id=_before(request.GET),  # type: ignore[attr-defined]
                             limit=LEDGER_PAGE + 1, unerased=unerased)
    next_url = ""
    if len(entries) > LEDGER_PAGE:
        entries = entries[:LEDGER_PAGE]
        next_url = "?" + urlencode({"before": entries[-1].pk, **({"unerased": "1"} if unerased else {})})
    return render(request, "web/audit/media.html", {
        "title": "外部記録媒体 管理台帳", "next_url": next_url, "unerased": unerased, "awaiting": awaiting_count(),
        "entries": [{"e": e, "awaits": awaits(e), "interface": interface_label(e.interface),
                     "outcome": media_outcome(e.outcome)} for e in entries]})


urlpatterns: list[URLPattern] = [
    path("audit/", audit_search, name="audit"),
    path("audit/verify/", audit_verify, name="audit-verify"),
    path("audit/export/", audit_export, name="audit-export"),
    path("audit/jobs/", job_ledger, name="audit-jobs"),
    path("audit/media/", media_ledger, name="audit-media"),
]
