"""利用者管理 (security_admin): users, roles, terminals, the annual access review.

Every change is one call of the accounts services the CLI uses (`jutaku users|terminals ...`); they check
the permission, apply dual control to security_admin and supervisor grants (and the installation window of a
new home, ADR 0015, shown on the list), end sessions on disable or MFA reset, and write the audit record. The TOTP enrolment (QR code and base32 secret) is shown once, in the
answer to the POST that made it: it is never stored, logged, put in a message cookie or a URL.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from jutaku.accounts import installation, terminals
from jutaku.accounts.errors import AccountsError
from jutaku.accounts.models import Organisation, User
from jutaku.accounts.passwords import POLICY_TEXT
from jutaku.accounts.permissions import DUAL_CONTROL_ROLES, ROLE_LABELS, Permission, Role, StepUp
from jutaku.accounts.review import review_table
from jutaku.accounts.totp import Enrolment
from jutaku.accounts.users import (
    Created,
    NewUser,
    create_user,
    describe,
    disable,
    enable,
    find_user,
    list_users,
    reset_mfa,
    reset_password,
    role_labels,
    set_roles,
    unlock,
)
from jutaku.domain import free_text
from jutaku.web.access import not_found, requires
from jutaku.web.submit import start

ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]
TEXT_MAX = 100


def _text(data: QueryDict, name: str, limit: int = TEXT_MAX) -> str:
    return str(data.get(name, "")).strip()[:limit]


def _day(data: QueryDict, name: str, label: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(_text(data, name, 10))
    except ValueError:
        errors.append(f"{label}を YYYY-MM-DD の形で入力してください。")
        return None


def _qr(enrolment: Enrolment) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(enrolment.svg()).decode("ascii")


def _enrolment_page(request: HttpRequest, user: User, enrolment: Enrolment, *, title: str,
                    created: Created | None = None) -> HttpResponse:
    approval = created.approval if created is not None else None
    return render(request, "web/users/enrolment.html", {
        "title": title, "account": user, "qr": _qr(enrolment), "secret": enrolment.secret, "approval": approval,
        "roles": describe(user, timezone.localdate()).role_labels,
        "pending": role_labels(approval.payload["add"]) if approval is not None else "",
        "installed": role_labels(created.installed) if created is not None else "",
        "window_closed": created is not None and created.window_closed})


@requires(Permission.USERS_MANAGE)
def users(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = [describe(u, today) for u in list_users(actor=request.actor)]  # type: ignore[attr-defined]
    can_review = request.actor.can(Permission.ACCESS_REVIEW)  # type: ignore[attr-defined]
    return render(request, "web/users/list.html", {
        "title": "利用者管理", "rows": rows, "can_terminals": request.actor.can(Permission.TERMINALS_MANAGE),  # type: ignore[attr-defined]
        "can_review": can_review,
        "window": installation.status(actor=request.actor) if can_review else None})  # type: ignore[attr-defined]


def _parse_new(data: QueryDict) -> tuple[NewUser | None, str, list[str]]:
    errors: list[str] = []
    start_day = _day(data, "start_date", "開始日", errors)
    end_day = _day(data, "end_date", "終了日", errors)
    password = str(data.get("password", ""))[:256]
    if password != str(data.get("password2", ""))[:256]:
        errors.append("初期パスワードが確認欄と一致しません。")
    if errors or start_day is None or end_day is None:
        return None, "", errors
    new = NewUser(username=_text(data, "username", 32), full_name=_text(data, "full_name"),
                  staff_id=_text(data, "staff_id", 32), organisation=_text(data, "organisation", 16),
                  start_date=start_day, end_date=end_day, roles=tuple(data.getlist("roles"))[:len(Role)])
    return new, password, []


def _create_form(request: HttpRequest, errors: list[str], status: int = 200) -> HttpResponse:
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else QueryDict()
    form = {name: free_text.refill(_text(data, name))  # a refused number is not shown again (ADR 0020)
            for name in ("username", "full_name", "staff_id", "organisation", "reason")}
    form["start_date"] = _text(data, "start_date") or today.isoformat()
    form["end_date"] = _text(data, "end_date") or (today + timedelta(days=365)).isoformat()
    return render(request, "web/users/create.html", {
        "title": "利用者の作成", "errors": errors, "form": form, "chosen": data.getlist("roles"),
        "organisations": Organisation.choices, "role_choices": ROLE_CHOICES, "policy": POLICY_TEXT,
        "dual_roles": role_labels(sorted(DUAL_CONTROL_ROLES))}, status=status)


@requires(Permission.USERS_MANAGE, methods=("GET", "POST"))
def user_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _create_form(request, [])
    new, password, errors = _parse_new(request.POST)
    if new is None:
        return _create_form(request, errors)
    try:
        created = create_user(new, password, actor=request.actor,  # type: ignore[attr-defined]
                              reason=_text(request.POST, "reason", 500) or "新規利用者")
    except AccountsError as exc:
        return _create_form(request, [str(exc)])
    return _enrolment_page(request, created.user, created.enrolment, title="利用者を作成しました", created=created)


def _account(request: HttpRequest, user_id: int) -> User | None:
    return find_user(user_id, actor=request.actor)  # type: ignore[attr-defined]


@requires(Permission.USERS_MANAGE)
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _account(request, user_id)
    if user is None:
        return not_found(request)
    return render(request, "web/users/detail.html", {
        "title": f"利用者 {user.username}", "account": user, "described": describe(user, timezone.localdate()),
        "role_choices": ROLE_CHOICES, "is_me": user.username == request.actor.username,  # type: ignore[attr-defined]
        "dual_roles": role_labels(sorted(DUAL_CONTROL_ROLES)), "policy": POLICY_TEXT})


def _reason(request: HttpRequest) -> str:
    return _text(request.POST, "reason", 200)


def _back(user_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("web:user", args=[user_id]))


def _change(request: HttpRequest, user_id: int, service: Any, done: str) -> HttpResponse:
    """Disable, enable or unlock: the account's page again with the outcome as a message."""
    user = _account(request, user_id)
    if user is None:
        return not_found(request)
    reason = _reason(request)
    if not reason:
        messages.error(request, "理由を入力してください（監査証跡に残ります）。")
        return _back(user_id)
    try:
        service(user.username, actor=request.actor, reason=reason)  # type: ignore[attr-defined]
    except AccountsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done.format(username=user.username))
    return _back(user_id)


@requires(Permission.USERS_MANAGE, methods=("POST",))
def user_disable(request: HttpRequest, user_id: int) -> HttpResponse:
    return _change(request, user_id, disable, "{username} を無効にしました（すべてのセッションを終了しました）。")


@requires(Permission.USERS_MANAGE, methods=("POST",))
def user_enable(request: HttpRequest, user_id: int) -> HttpResponse:
    return _change(request, user_id, enable, "{username} を有効にしました。")


@requires(Permission.USERS_MANAGE, methods=("POST",))
def user_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    return _change(request, user_id, unlock, "{username} のロックを解除しました。")


@requires(Permission.USERS_MANAGE, methods=("POST",))
def user_reset_mfa(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _account(request, user_id)
    if user is None:
        return not_found(request)
    if not _reason(request):
        messages.error(request, "理由を入力してください（監査証跡に残ります）。")
        return _back(user_id)
    try:
        enrolment = reset_mfa(user.username, actor=request.actor, reason=_reason(request))  # type: ignore[attr-defined]
    except AccountsError as exc:
        messages.error(request, str(exc))
        return _back(user_id)
    return _enrolment_page(request, user, enrolment, title="ワンタイムコードを再登録しました")


@requires(Permission.USERS_MANAGE, methods=("POST",))
def user_reset_password(request: HttpRequest, user_id: int) -> HttpResponse:
    """A new initial password (typed twice by the administrator): the user changes it at the next sign-in."""
    user = _account(request, user_id)
    if user is None:
        return not_found(request)
    password = str(request.POST.get("password", ""))[:256]
    if not _reason(request):
        messages.error(request, "理由を入力してください（監査証跡に残ります）。")
    elif password != str(request.POST.get("password2", ""))[:256]:
        messages.error(request, "新しい初期パスワードが確認欄と一致しません。")
    else:
        try:
            reset_password(user.username, password, actor=request.actor, reason=_reason(request))  # type: ignore[attr-defined]
        except AccountsError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{user.username} のパスワードを再設定しました（すべてのセッションを終了しました）。"
                                      "本人は次のサインインで自分のパスワードに変更します。")
    return _back(user_id)


@requires(Permission.USERS_MANAGE, methods=("POST",), step_up=StepUp.ROLE_CHANGE)
def user_roles(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _account(request, user_id)
    if user is None:
        return not_found(request)
    if not _reason(request):
        messages.error(request, "役割変更の理由を入力してください（承認依頼と監査証跡に残ります）。")
        return _back(user_id)
    try:
        approval = set_roles(user.username, request.POST.getlist("roles")[:len(Role)],
                             actor=request.actor, reason=_reason(request))  # type: ignore[attr-defined]
    except AccountsError as exc:
        messages.error(request, str(exc))
        return _back(user_id)
    messages.success(request, f"{user.username} の役割を変更しました。")
    if approval is not None:
        messages.warning(request, f"役割 {role_labels(approval.payload['add'])} の付与は二者承認待ちです"
                                  f"（承認依頼 #{approval.pk}）。別のセキュリティ管理者が「承認待ち」で承認すると付与されます。")
    return _back(user_id)


@requires(Permission.TERMINALS_MANAGE)
def terminal_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/users/terminals.html", {
        "title": "端末の管理", "terminals": terminals.list_terminals(actor=request.actor),  # type: ignore[attr-defined]
        "here": request.terminal})  # type: ignore[attr-defined]


def _terminal_call(request: HttpRequest, call: Any, done: str) -> HttpResponse:
    try:
        terminal = call()
    except AccountsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done.format(name=terminal.name, network=terminal.network))
    return HttpResponseRedirect(reverse("web:terminals"))


@requires(Permission.TERMINALS_MANAGE, methods=("POST",))
def terminal_add(request: HttpRequest) -> HttpResponse:
    name, address = _text(request.POST, "name", 64), _text(request.POST, "address", 64)
    return _terminal_call(request, lambda: terminals.add(name, address, actor=request.actor),  # type: ignore[attr-defined]
                          "端末 {name}（{network}）を登録しました。")


@requires(Permission.TERMINALS_MANAGE, methods=("POST",))
def terminal_remove(request: HttpRequest) -> HttpResponse:
    name = _text(request.POST, "name", 64)
    return _terminal_call(request, lambda: terminals.remove(name, actor=request.actor),  # type: ignore[attr-defined]
                          "端末 {name}（{network}）の登録を無効にしました。")


@requires(Permission.ACCESS_REVIEW)
def access_review(request: HttpRequest) -> HttpResponse:
    rows = review_table(actor=request.actor)  # type: ignore[attr-defined]
    return render(request, "web/users/review.html", {
        "title": "アクセス権限確認（年次）", "rows": rows, "flagged": sum(1 for r in rows if r["要確認"]),
        "header": list(rows[0]) if rows else []})


@requires(Permission.ACCESS_REVIEW, methods=("POST",))
def access_review_report(request: HttpRequest) -> HttpResponse:
    return start(request, "access-review", params={"format": "pdf" if request.POST.get("format") == "pdf" else "html"})


urlpatterns: list[URLPattern] = [
    path("users/", users, name="users"),
    path("users/new/", user_create, name="user-create"),
    path("users/<int:user_id>/", user_detail, name="user"),
    path("users/<int:user_id>/disable/", user_disable, name="user-disable"),
    path("users/<int:user_id>/enable/", user_enable, name="user-enable"),
    path("users/<int:user_id>/unlock/", user_unlock, name="user-unlock"),
    path("users/<int:user_id>/reset-mfa/", user_reset_mfa, name="user-reset-mfa"),
    path("users/<int:user_id>/reset-password/", user_reset_password, name="user-reset-password"),
    path("users/<int:user_id>/roles/", user_roles, name="user-roles"),
    path("users/terminals/", terminal_list, name="terminals"),
    path("users/terminals/add/", terminal_add, name="terminal-add"),
    path("users/terminals/remove/", terminal_remove, name="terminal-remove"),
    path("users/review/", access_review, name="users-review"),
    path("users/review/report/", access_review_report, name="users-review-report"),
]
