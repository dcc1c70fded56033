"""承認待ち: the dual-control queue (AUTHZ-06).

Pending requests with their kind, requester, time, reason and what they would do, as Japanese label/value
lines (:mod:`jutaku.accounts.approval_labels`: counts, procedure, roles; never personal data), and the recently decided ones. A user sees the approve/reject
buttons only for kinds whose decide permission they hold; the decision itself is the service's
(:mod:`jutaku.accounts.approvals`): it refuses the requester deciding their own request and audits
every decision. Deciding needs a fresh step-up; a decision interrupted by it is continued after it
(ADR 0024) and, like any decision, lands on the request's own page with its new state.

承認依頼の詳細 (issue 14 item 8): one request with, for a bulk deletion or a business export, the persons
it affects — counts by reason, then a page of 個人ID, 氏名, カナ, 状態 and reason
(:mod:`jutaku.registry.affected`, an audited read) — and the approve/reject buttons under them. The queue
sends the deciders of those kinds there instead of offering the buttons on the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from jutaku.accounts import approvals
from jutaku.accounts import users as _users  # noqa: F401 - registers the role-grant kind
from jutaku.accounts.actor import Actor
from jutaku.accounts.approval_labels import kind_label, payload_items
from jutaku.accounts.errors import AccessDenied, AccountsError
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission, StepUp
from jutaku.allowlist.names import Names, current
from jutaku.registry import affected
from jutaku.web.access import forbidden, not_found, requires

RECENT = 20


def may_decide(actor: Actor, approval: Approval) -> bool:
    """The buttons are shown only to those the service would let decide this kind."""
    spec = approvals.KINDS.get(approval.kind)
    return spec is not None and actor.can(Permission.APPROVALS_DECIDE) and actor.can(spec.decide_permission)


def _row(actor: Actor, approval: Approval, names: Names) -> dict[str, Any]:
    # A request about one person (不開示の解除) names them by the register's key; only those who may see
    # persons get the link to the person's page.
    person = approval.payload.get("person")
    return {"a": approval, "label": kind_label(approval.kind),
            "items": payload_items(approval.payload, procedure_name=names.procedure),
            "may_decide": may_decide(actor, approval), "own": approval.requested_by == actor.username,
            "lists_persons": affected.lists_persons(approval.kind),
            "person_pk": person if isinstance(person, int) and actor.can(Permission.PERSONS_VIEW) else None}


@requires(Permission.APPROVALS_VIEW)
def approval_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    pending = approvals.pending(actor=actor)
    decided = Approval.objects.exclude(state=ApprovalState.PENDING).order_by("-decided_at", "-id")[:RECENT]
    names = current()
    return render(request, "web/approvals/list.html", {
        "title": "承認待ち", "pending": [_row(actor, a, names) for a in pending],
        "decided": [_row(actor, a, names) for a in decided]})


def _cursor(request: HttpRequest, name: str) -> int | None:
    value = str(request.GET.get(name, ""))[:19]
    return int(value) if value.isascii() and value.isdigit() else None


@requires(Permission.APPROVALS_VIEW)
def approval_detail(request: HttpRequest, approval_id: int) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None:
        return not_found(request)
    page = None
    if affected.may_see(actor, approval):
        page = affected.affected(approval.pk, actor=actor, after=_cursor(request, "after"),
                                 before=_cursor(request, "before"))
    return render(request, "web/approvals/detail.html", {
        "title": f"承認依頼 #{approval.pk}", "r": _row(actor, approval, current()), "page": page,
        "hidden_persons": affected.lists_persons(approval.kind) and page is None,
        "pending": approval.state == ApprovalState.PENDING})


def _decide(request: HttpRequest, approval_id: int, decide: Callable[..., Approval], done: str) -> HttpResponse:
    if not Approval.objects.filter(pk=approval_id).exists():
        return not_found(request)
    try:
        approval = decide(approval_id, actor=request.actor)  # type: ignore[attr-defined]
    except AccessDenied as exc:
        return forbidden(request, f"この種類の依頼を承認・却下する権限がありません。{exc}")
    except AccountsError as exc:  # own request, already decided, executor refused: the service's words
        messages.error(request, str(exc))
    else:
        messages.success(request, f"承認依頼 #{approval.pk}（{kind_label(approval.kind)}）を{done}"
                                  f"（{approval.get_state_display()}）。")  # type: ignore[attr-defined]
    return redirect("web:approval", approval_id=approval_id)  # the request's page: its new state


@requires(Permission.APPROVALS_DECIDE, methods=("POST",), step_up=StepUp.APPROVAL_DECISION)
def approve(request: HttpRequest, approval_id: int) -> HttpResponse:
    return _decide(request, approval_id, approvals.approve, "承認しました")


@requires(Permission.APPROVALS_DECIDE, methods=("POST",), step_up=StepUp.APPROVAL_DECISION)
def reject(request: HttpRequest, approval_id: int) -> HttpResponse:
    return _decide(request, approval_id, approvals.reject, "却下しました")


urlpatterns: list[URLPattern] = [
    path("approvals/", approval_list, name="approvals"),
    path("approvals/<int:approval_id>/", approval_detail, name="approval"),
    path("approvals/<int:approval_id>/approve/", approve, name="approval-approve"),
    path("approvals/<int:approval_id>/reject/", reject, name="approval-reject"),
]
