"""統計: suppressed statistics with charts; 許可リスト (the legal allow-list).

The tables come from :func:`jutaku.stats.service.view_tables` (the viewing is recorded, as `jutaku stats`
does) and are shown exactly as the service suppresses them: cells under k as ``<k``, complementary cells
as ``x``. The charts are SVG drawn from the same suppressed tables, served by :func:`chart` as
``image/svg+xml`` for an ``<img>`` (no script on the page). The CSV and an allow-list load run as tasks
(:mod:`jutaku.web.task_kinds.stats`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from jutaku.accounts.permissions import Permission
from jutaku.allowlist.service import overview
from jutaku.domain.disclosure_control import DEFAULT_K, Table
from jutaku.formats.layouts import HOUSING
from jutaku.stats.service import CHARTS, chart, view_tables
from jutaku.web.access import not_found, requires
from jutaku.web.submit import UploadRefused, start

K_MIN, K_MAX = 2, 1000  # as `jutaku stats --k`
CHART_TITLES = {"registration": "個人番号一括登録の進捗", "inquiry": "情報照会の進捗"}


def parse_k(text: object) -> int:
    """The suppression threshold asked for, or the default when it is missing or out of range."""
    value = str(text or "")
    return int(value) if value.isascii() and value.isdigit() and K_MIN <= int(value) <= K_MAX else DEFAULT_K


def shown(table: Table, k: int) -> dict[str, Any]:
    """A table as the template shows it: every cell (totals included) as the service suppresses it."""
    names = [*table.rows, "合計"]
    return {"title": table.title, "cols": [*table.cols, "合計"], "empty": not table.rows or not table.cols,
            "rows": [(name, [table.shown(i, j, k) for j in range(len(table.cols) + 1)])
                     for i, name in enumerate(names)]}


@requires(Permission.STATS_VIEW)
def stats(request: HttpRequest) -> HttpResponse:
    k = parse_k(request.GET.get("k"))
    tables = view_tables(k, actor=request.actor)  # type: ignore[attr-defined]
    return render(request, "web/stats/stats.html", {
        "title": "統計", "k": k, "tables": [shown(t, k) for t in tables],
        "charts": [(name, CHART_TITLES[name]) for name in CHARTS]})


@requires(Permission.STATS_VIEW)
def stats_chart(request: HttpRequest, name: str) -> HttpResponse:
    if name not in CHARTS:
        return not_found(request)
    svg = chart(name, parse_k(request.GET.get("k")), actor=request.actor)  # type: ignore[attr-defined]
    return HttpResponse(svg, content_type="image/svg+xml")


@requires(Permission.STATS_VIEW, methods=("POST",))
def stats_export(request: HttpRequest) -> HttpResponse:
    return start(request, "stats-export", params={"k": parse_k(request.POST.get("k")),
                                                  "format": "pdf" if request.POST.get("format") == "pdf" else "csv"})


def _allowlist_page(request: HttpRequest, *, error: str | UploadRefused = "", status: int = 200) -> HttpResponse:
    procedure = str(request.GET.get("procedure", "")).strip()[:16]
    shown_list = overview(actor=request.actor, procedure=procedure)  # type: ignore[attr-defined]
    procedures: dict[str, dict[str, Any]] = {}
    for rule in shown_list.rules:
        group = procedures.setdefault(rule.procedure_code, {"code": rule.procedure_code,
                                                            "name": rule.procedure_name, "rules": []})
        group["rules"].append({"rule": rule, "housing": HOUSING.get(rule.housing_category, rule.housing_category)})
    return render(request, "web/stats/allowlist.html", {
        "title": "許可リスト", "version": shown_list.version, "procedures": list(procedures.values()),
        "procedure": procedure, "error": error,
        "can_load": request.actor.can(Permission.ALLOWLIST_LOAD)}, status=status)  # type: ignore[attr-defined]


@requires(Permission.ALLOWLIST_VIEW)
def allowlist(request: HttpRequest) -> HttpResponse:
    return _allowlist_page(request)


@requires(Permission.ALLOWLIST_LOAD, methods=("POST",))
def allowlist_load(request: HttpRequest) -> HttpResponse:
    try:
        return start(request, "allowlist-load", params={"note": str(request.POST.get("note", "")).strip()[:200]})
    except UploadRefused as exc:
        return _allowlist_page(request, error=exc)


urlpatterns: list[URLPattern] = [
    path("stats/", stats, name="stats"),
    path("stats/charts/<slug:name>.svg", stats_chart, name="stats-chart"),
    path("stats/export/", stats_export, name="stats-export"),
    path("allowlist/", allowlist, name="allowlist"),
    path("allowlist/load/", allowlist_load, name="allowlist-load"),
]
