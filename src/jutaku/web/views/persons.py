"""対象者検索・対象者詳細 (search-first; number search by POST only, audited; masked number, unmask with step-up).

The services are :mod:`jutaku.registry.queries`; these views only parse the form and render. Nothing
personal appears in a URL (WEB-03, LOG-02; ADR 0023): the search form is POST, so a name, a kana or a birth
date never reaches a URL, the browser's history, a proxy's log or a Referer; a GET answers only 個人ID and
世帯番号 (internal codes the audit trail names anyway) and ignores, without echoing, anything else. The
number lookup and the unmask are POST, and pages address a person by the register's primary key.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from jutaku.accounts.permissions import Permission, StepUp
from jutaku.audit.guard import contains_my_number
from jutaku.domain.wareki import TYPED_FORMS
from jutaku.formats.layouts import STATUS
from jutaku.registry import queries
from jutaku.web.access import not_found, requires

#: The search form's fields (POST). A ``number`` parameter is not one of them: numbers are searched by the
#: lookup form only.
FIELDS = ("name", "kana", "birth_date", "person_id", "household_no")
#: The fields a GET may carry: internal codes, never a name or a birth date.
GET_FIELDS = ("person_id", "household_no")
_FIELD_MAX = 120


def _search_context(form: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"title": "対象者検索", "form": form, "limit": queries.SEARCH_LIMIT, "date_forms": TYPED_FORMS, **extra}


@requires(Permission.PERSONS_VIEW, methods=("GET", "POST"))
def person_search(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    allowed = FIELDS if request.method == "POST" else GET_FIELDS
    form = {name: str(source.get(name, ""))[:_FIELD_MAX] if name in allowed else "" for name in FIELDS}
    extra: dict[str, Any] = {}
    if request.method == "GET" and any(str(request.GET.get(name, "")).strip() for name in FIELDS
                                       if name not in GET_FIELDS):
        extra["url_refused"] = True  # a bookmark or a hand-made URL with a name: not searched, not echoed
    elif any(value.strip() for value in form.values()):
        try:
            extra["result"] = queries.search_persons(
                actor=request.actor,  # type: ignore[attr-defined]
                name=form["name"], kana=form["kana"], birth_date=form["birth_date"], person_id=form["person_id"],
                household_no=form["household_no"])
        except queries.QueryRefused as exc:
            extra["error"] = str(exc)
            form = {k: "" if contains_my_number(v) else v for k, v in form.items()}
    return render(request, "web/persons/search.html", _search_context(form, **extra))


@requires(Permission.PERSONS_VIEW, methods=("POST",))
def person_by_number(request: HttpRequest) -> HttpResponse:
    """Lookup by My Number (POST only, so the number stays out of URLs and logs); never echoed back."""
    form = dict.fromkeys(FIELDS, "")
    try:
        found = queries.find_by_number(str(request.POST.get("my_number", "")), actor=request.actor)  # type: ignore[attr-defined]
    except queries.QueryRefused as exc:
        return render(request, "web/persons/search.html", _search_context(form, number_error=str(exc)))
    return render(request, "web/persons/search.html",
                  _search_context(form, number_searched=True, number_found=found,
                                  number_found_rows=[found] if found else []))


@requires(Permission.PERSONS_VIEW)
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    file = queries.person_file(pk, actor=request.actor)  # type: ignore[attr-defined]
    if file is None:
        return not_found(request)
    actor = request.actor  # type: ignore[attr-defined]
    return render(request, "web/persons/detail.html", {
        "title": f"対象者詳細 {file.person.person_id}", "file": file, "p": file.person, "labels": file.labels,
        "may_unmask": actor.can(Permission.NUMBERS_UNMASK),
        "reason_min": queries.REASON_MIN, "reason_max": queries.REASON_MAX, **_action_rights(actor, file)})


def _action_rights(actor: Any, file: queries.PersonFile) -> dict[str, Any]:
    """Which of the page's forms (不開示の設定・解除依頼, 状態の訂正) this actor is offered."""
    p = file.person
    juki_death = p.status_source == p.StatusSource.JUKI
    return {"may_set_nd": file.non_disclosure is not None and actor.can(Permission.NON_DISCLOSURE_SET),
            "may_clear_nd": file.non_disclosure is not None and actor.can(Permission.NON_DISCLOSURE_CLEAR),
            "may_correct": juki_death and actor.can(Permission.PERSON_STATUS_CORRECT),
            "corrections": [(code, label) for code, label in STATUS.items() if code != p.Status.DECEASED]}


@requires(Permission.NUMBERS_UNMASK, methods=("POST",), step_up=StepUp.NUMBER_UNMASK)
def person_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the full number once, on this POST's answer only (no-store, never in a URL or the audit)."""
    context: dict[str, Any] = {"title": "個人番号の表示", "pk": pk, "reason_min": queries.REASON_MIN,
                               "reason_max": queries.REASON_MAX}
    try:
        shown = queries.unmask_number(pk, actor=request.actor,  # type: ignore[attr-defined]
                                      reason=str(request.POST.get("reason", ""))[:1000])
    except queries.QueryRefused as exc:
        return render(request, "web/persons/unmask.html", {**context, "error": str(exc)}, status=400)
    if shown is None:
        return not_found(request)
    return render(request, "web/persons/unmask.html", {**context, "shown": shown})  # no-store: middleware


urlpatterns: list[URLPattern] = [
    path("persons/", person_search, name="person-search"),
    # Not "by-number": no route may name a number (tests/architecture/test_web_routes.py).
    path("persons/lookup/", person_by_number, name="person-lookup"),
    path("persons/<int:pk>/", person_detail, name="person"),
    path("persons/<int:pk>/unmask/", person_unmask, name="person-unmask"),
]
