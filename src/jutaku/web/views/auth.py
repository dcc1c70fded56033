"""Sign-in (password + TOTP), sign-out, session keep-alive, step-up re-authentication (AUTH-02..09) and the
user's own password change (the first thing after signing in with a password an administrator set).

All failures give the same message and status (AUTH-05); the sign-in and lockout rules are those of
:mod:`jutaku.accounts.auth`, shared with the CLI.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render

from jutaku import config
from jutaku.accounts import auth, sessions
from jutaku.accounts.passwords import POLICY_TEXT
from jutaku.accounts.permissions import Permission
from jutaku.incidents import log_incident
from jutaku.web import pending
from jutaku.web.access import public, requires, safe_next
from jutaku.web.middleware import set_session_cookie
from jutaku.web.views.errors import server_error

_FIELD_MAX = 256


def _field(request: HttpRequest, name: str) -> str:
    return str(request.POST.get(name, ""))[:_FIELD_MAX]


@public(methods=("GET", "POST"))
def login(request: HttpRequest) -> HttpResponse:
    target = safe_next(request, request.GET.get("next", ""), default="/")
    if request.method == "GET":
        if getattr(request, "actor", None) is not None:
            return HttpResponseRedirect(target)
        return render(request, "web/login.html", {"next": target})
    try:
        opened = auth.login(_field(request, "username"), _field(request, "password"), _field(request, "code"),
                            terminal=request.terminal, production=config.get().is_production,  # type: ignore[attr-defined]
                            kind="web")
    except auth.AuthFailed as exc:
        return render(request, "web/login.html", {"next": target, "error": str(exc),
                                                  "username": _field(request, "username")}, status=200)
    # A new token at every sign-in (AUTH-07); an old cookie from before is simply replaced.
    if opened.password_change_required:  # an administrator's password: the user sets their own first
        target = "/password/?" + urlencode({"next": target})
    response = HttpResponseRedirect(target)
    set_session_cookie(response, opened.token)
    return response


@requires(Permission.SESSION_SELF, methods=("POST",), before_password_change=True)
def logout(request: HttpRequest) -> HttpResponse:
    token = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    sessions.revoke(token, actor=request.actor)  # type: ignore[attr-defined]
    response = render(request, "web/logged_out.html", {"signed_in": False, "menu": []})
    response.delete_cookie(settings.SESSION_COOKIE_NAME, samesite="Strict")
    return response


@requires(Permission.SESSION_SELF, methods=("POST",), before_password_change=True)
def keepalive(request: HttpRequest) -> HttpResponse:
    """The 延長 button of the idle-timeout warning: any signed-in request counts as activity."""
    return JsonResponse({"idle_seconds": settings.JUTAKU_SESSION_IDLE_MINUTES * 60})


@requires(Permission.SESSION_SELF, methods=("GET", "POST"))
def step_up(request: HttpRequest) -> HttpResponse:
    """Re-authentication before unmasking a number, approvals, deletion runs and role changes (AUTH-09).
    With ``action`` (the key of an interrupted POST, :mod:`jutaku.web.pending`), a successful step-up
    continues that action and answers with its result; otherwise it goes back to ``next``."""
    target = safe_next(request, request.GET.get("next", "") or request.POST.get("next", ""), default="/")
    key = str(request.GET.get("action", "") or request.POST.get("action", ""))[:64]
    context = {"next": target, "action": key, "continuing": pending.describe(request, key) if key else None,
               "step_up_minutes": settings.JUTAKU_STEP_UP_MINUTES}
    if request.method == "GET":
        return render(request, "web/step_up.html", context)
    try:
        token = auth.step_up(request.live_session, _field(request, "password"), _field(request, "code"),  # type: ignore[attr-defined]
                             production=config.get().is_production)
    except auth.AuthFailed as exc:
        return render(request, "web/step_up.html", {**context, "error": str(exc)}, status=200)
    response = _continue(request, key, token, target) if key else HttpResponseRedirect(target)
    set_session_cookie(response, token)
    return response


def _continue(request: HttpRequest, key: str, token: str, target: str) -> HttpResponse:
    """The interrupted action, run now; back to ``target`` with a message when it cannot be."""
    try:
        return pending.replay(request, pending.take(request, key), token)
    except pending.Lapsed as exc:
        messages.warning(request, str(exc))
        return HttpResponseRedirect(target)
    except Exception as exc:  # the step-up stands (its new token is set on this answer): no sign-out
        log_incident(exc)
        return server_error(request)


@requires(Permission.PASSWORD_CHANGE, methods=("GET", "POST"))
def password(request: HttpRequest) -> HttpResponse:
    """パスワードの変更: the current password and the new one twice. After signing in with a password an
    administrator set, no other page answers until this is done (issue 14 item 14)."""
    target = safe_next(request, request.GET.get("next", "") or request.POST.get("next", ""), default="/")
    live = request.live_session  # type: ignore[attr-defined]
    page = {"next": target, "forced": live.password_change_required, "policy": POLICY_TEXT,
            "title": "パスワードの変更", "bare": live.password_change_required}  # no menu: nothing else opens yet
    if request.method == "GET":
        return render(request, "web/password.html", page)
    if _field(request, "new_password") != _field(request, "new_password2"):
        return render(request, "web/password.html", {**page, "error": "新しいパスワードが確認欄と一致しません。"})
    try:
        token = auth.change_password(live.actor.username, _field(request, "password"), _field(request, "new_password"),
                                     terminal=request.terminal, production=config.get().is_production,  # type: ignore[attr-defined]
                                     session_id=live.session_id)
    except auth.PasswordRefused as exc:
        return render(request, "web/password.html", {**page, "error": str(exc)})
    messages.success(request, "パスワードを変更しました。ほかの端末のセッションはすべて終了しました。")
    response = HttpResponseRedirect(target)
    set_session_cookie(response, token or "")
    return response
