"""対象者詳細's actions: 不開示の設定・解除依頼 and 状態の訂正 (issue 12 items 1 and 6).

The forms are on the person detail page; each POST calls the service (:mod:`jutaku.registry.non_disclosure`,
:mod:`jutaku.registry.status`), which checks the permission again, validates the reason and audits, and
comes back to the page with the service's words. Setting the flag is immediate (a DV victim's wish must
not wait); clearing is only *requested* here and decided by a different supervisor in 承認待ち (step-up
there); a status correction asks for a fresh step-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path

from jutaku.accounts.permissions import Permission, StepUp
from jutaku.domain.wareki import InvalidDate, parse_date
from jutaku.formats.layouts import STATUS
from jutaku.registry.models import Person
from jutaku.registry.non_disclosure import Refused, request_clear, set_non_disclosure
from jutaku.registry.status import correct_status
from jutaku.web.access import not_found, requires

_FIELD_MAX = 1000


def _field(request: HttpRequest, name: str) -> str:
    return str(request.POST.get(name, ""))[:_FIELD_MAX]


def _act(request: HttpRequest, pk: int, action: Callable[[str], str]) -> HttpResponse:
    person_id = Person.objects.filter(pk=pk).values_list("person_id", flat=True).first()
    if person_id is None:
        return not_found(request)
    try:
        messages.success(request, action(person_id))
    except Refused as exc:
        messages.error(request, str(exc))
    return redirect("web:person", pk=pk)


@requires(Permission.NON_DISCLOSURE_SET, methods=("POST",))
def set_flag(request: HttpRequest, pk: int) -> HttpResponse:
    def action(person_id: str) -> str:
        result = set_non_disclosure(person_id, actor=request.actor, reason=_field(request, "reason"))  # type: ignore[attr-defined]
        return ("不開示を設定しました。以後の情報照会には不開示コード2を付けます。" if result.changed
                else "不開示は設定済みです（申出を記録しました）。")

    return _act(request, pk, action)


@requires(Permission.NON_DISCLOSURE_CLEAR, methods=("POST",))
def clear_flag(request: HttpRequest, pk: int) -> HttpResponse:
    def action(person_id: str) -> str:
        approval = request_clear(person_id, actor=request.actor, reason=_field(request, "reason"))  # type: ignore[attr-defined]
        return f"不開示の解除を依頼しました（承認依頼 #{approval.pk}）。別の責任者が承認すると解除されます。"

    return _act(request, pk, action)


def _status_date(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return parse_date(text.strip().replace("-", ""))
    except InvalidDate:
        raise Refused("状態日付は YYYYMMDD で入力してください") from None


@requires(Permission.PERSON_STATUS_CORRECT, methods=("POST",), step_up=StepUp.STATUS_CORRECTION)
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    def action(person_id: str) -> str:
        result = correct_status(person_id, _field(request, "status"), actor=request.actor,  # type: ignore[attr-defined]
                                reason=_field(request, "reason"), status_date=_status_date(_field(request, "status_date")))
        return f"状態を「{STATUS[result.old_status]}」から「{STATUS[result.new_status]}」に訂正しました。"

    return _act(request, pk, action)


urlpatterns: list[URLPattern] = [
    path("persons/<int:pk>/non-disclosure/set/", set_flag, name="person-nd-set"),
    path("persons/<int:pk>/non-disclosure/clear/", clear_flag, name="person-nd-clear"),
    path("persons/<int:pk>/status/correct/", correct, name="person-status-correct"),
]
