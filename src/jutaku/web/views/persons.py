"""対象者検索・対象者詳細 (search-first; number search by POST only, audited; masked number, unmask with step-up).

The services are :mod:`jutaku.registry.queries`; these views only parse the form and render. A My Number
never appears in a URL: the search form is GET (its criteria are not numbers, and a value holding one
is refused and not echoed), the number lookup and the unmask are POST, and pages address a person by
the register's primary key.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from jutaku.accounts.permissions import Permission, StepUp
from jutaku.audit.guard import contains_my_number
from jutaku.formats.layouts import STATUS
from jutaku.registry import queries
from jutaku.web.access import not_found, requires

#: The GET form's fields (a ``number`` parameter is not one of them: numbers are searched by POST only).
FIELDS = ("person_id", "kana", "household_no")
_FIELD_MAX = 120


def _search_context(form: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"title": "対象者検索", "form": form, "limit": queries.SEARCH_LIMIT, **extra}


@requires(Permission.PERSONS_VIEW)
def person_search(request: HttpRequest) -> HttpResponse:
    form = {name: str(request.GET.get(name, ""))[:_FIELD_MAX] for name in FIELDS}
    extra: dict[str, Any] = {}
    if any(value.strip() for value in form.values()):
        try:
            extra["result"] = queries.search_persons(
                actor=request.actor,  # type: ignore[attr-defined]
                person_id=form["person_id"], kana=form["kana"], household_no=form["household_no"])
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
