"""Every view declares who may use it and how (AUTHZ-01, WEB-02, AUTH-09; ADR 0012).

:func:`requires` names exactly one :class:`Permission`, the HTTP methods the view answers (a view that
changes state answers POST only; a form page answers GET to show the form and POST to submit it) and
whether a fresh step-up re-authentication is needed. :func:`public` marks the few pages reachable
without a session (sign-in). The architecture test walks the URL map and fails on any view without
one of the two. The checks, in order:

1. the method is declared, else 405 (no state change on GET);
2. a live session (:class:`jutaku.web.middleware.ActorMiddleware`), else the sign-in page (GET) or 403;
   while its password is one an administrator set, only the password page and the views declared
   ``before_password_change`` (sign-out, keep-alive) answer: any other is the password page (GET) or 403
   saying why, and an ``access:denied`` record (issue 14 item 14);
3. the permission (and, for a page of several forms, one of the forms' permissions: ``any_of``), else
   403 and an ``access:denied`` audit record;
4. for a ``step_up`` action (:class:`jutaku.accounts.permissions.StepUp`, the list the CLI shares): a
   re-authentication within ``JUTAKU_STEP_UP_MINUTES``, else the step-up page; an interrupted POST is
   kept and continued once the step-up succeeds (:mod:`jutaku.web.pending`, ADR 0024).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from jutaku.accounts.errors import refusal
from jutaku.accounts.permissions import STEP_UP_PERMISSIONS, Permission, StepUp
from jutaku.accounts.sessions import PASSWORD_CHANGE_REQUIRED
from jutaku.audit.events import AuditEvent
from jutaku.audit.guard import MyNumberInAudit
from jutaku.audit.service import record
from jutaku.domain.free_text import REFUSED_LATE, MyNumberInText

View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Access:
    """What a view declares. ``permission`` is None only for :func:`public` views."""

    permission: Permission | None
    methods: tuple[str, ...]
    step_up: StepUp | None = None
    passive: bool = False  # a poll (progress bar) that must not count as activity for the idle timeout
    any_of: tuple[Permission, ...] = ()  # a page of several forms: also one of these (else nothing to offer)
    before_password_change: bool = False  # answers a session whose password an administrator set (sign-out)


def access_of(view: Any) -> Access | None:
    return getattr(view, "jutaku_access", None)


def requires(permission: Permission, *, methods: tuple[str, ...] = ("GET",), step_up: StepUp | None = None,
             passive: bool = False, any_of: tuple[Permission, ...] = (),
             before_password_change: bool = False) -> Callable[[View], View]:
    if step_up is not None and STEP_UP_PERMISSIONS[step_up] is not permission:
        raise ValueError(f"step-up action {step_up} is declared with {STEP_UP_PERMISSIONS[step_up]}")
    spec = Access(permission, tuple(m.upper() for m in methods), step_up, passive, any_of,
                  before_password_change or permission is Permission.PASSWORD_CHANGE)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refused = _refuse(request, spec)
            if refused is not None:
                return refused
            try:
                return view(request, *args, **kwargs)
            except (MyNumberInText, MyNumberInAudit) as exc:  # ADR 0020: a refusal, never a server error
                return _number_refused(request, exc)

        checked.jutaku_access = spec  # type: ignore[attr-defined]
        return checked

    return decorate


def public(*, methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    spec = Access(None, tuple(m.upper() for m in methods))

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in spec.methods:
                return HttpResponseNotAllowed(spec.methods)
            return view(request, *args, **kwargs)

        checked.jutaku_access = spec  # type: ignore[attr-defined]
        return checked

    return decorate


def _refuse(request: HttpRequest, spec: Access) -> HttpResponse | None:
    if request.method not in spec.methods:
        return HttpResponseNotAllowed(spec.methods)
    actor = getattr(request, "actor", None)
    if actor is None:
        if request.method == "GET" and not spec.passive:
            return HttpResponseRedirect("/login/?" + urlencode({"next": request.get_full_path()}))
        return render(request, "web/error.html", {"title": "ログインしてください",
                                                  "message": "セッションが終了しました。もう一度ログインしてください。"},
                      status=403)
    assert spec.permission is not None  # noqa: S101 - requires() always names one
    live = getattr(request, "live_session", None)
    if live is not None and live.password_change_required and not spec.before_password_change:
        return _password_first(request, actor, spec)
    if not actor.can(spec.permission) or (spec.any_of and not any(actor.can(p) for p in spec.any_of)):
        with transaction.atomic():
            record(AuditEvent.ACCESS_DENIED, actor=actor, outcome="permission",
                   detail={"permission": spec.permission.value, "view": _view_name(request)})
        needed = spec.any_of if actor.can(spec.permission) else (spec.permission,)
        return forbidden(request, "この画面・操作の権限がありません。"
                         + refusal(actor, needed, what="この画面・操作"))
    if spec.step_up is not None and not request.live_session.fresh(timezone.now(), settings.JUTAKU_STEP_UP_MINUTES):  # type: ignore[attr-defined]
        back = request.get_full_path() if request.method == "GET" else _referer_path(request)
        query = {"next": back}
        if request.method == "POST":  # kept, and continued after the step-up (ADR 0024)
            from jutaku.web import pending

            key = pending.keep(request, back)
            if key is not None:
                query["action"] = key
        return HttpResponseRedirect("/step-up/?" + urlencode(query))
    return None


def _password_first(request: HttpRequest, actor: Any, spec: Access) -> HttpResponse:
    """A session whose password an administrator set: to the password page, or refused saying why."""
    with transaction.atomic():
        record(AuditEvent.ACCESS_DENIED, actor=actor, outcome="password_change",
               detail={"permission": str(spec.permission), "view": _view_name(request)})
    if request.method == "GET" and not spec.passive:
        return HttpResponseRedirect("/password/?" + urlencode({"next": request.get_full_path()}))
    return render(request, "web/error.html", {"title": "パスワードの変更が必要です",
                                              "message": PASSWORD_CHANGE_REQUIRED + "「パスワードの変更」で"
                                                         "新しいパスワードを設定してください。"}, status=403)


def _number_refused(request: HttpRequest, exc: ValueError) -> HttpResponse:
    """An input held a written My Number (the service refused it, or, late, the audit writer's guard)."""
    message = str(exc) if isinstance(exc, MyNumberInText) else REFUSED_LATE
    return render(request, "web/error.html", {"title": "入力を受け付けられません", "message": message}, status=400)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """The 403 page; ``message`` says which roles hold the permission and whom to ask
    (:func:`jutaku.accounts.errors.refusal`, the one builder of such messages)."""
    return render(request, "web/error.html", {"title": "権限がありません", "message": message}, status=403)


def not_found(request: HttpRequest) -> HttpResponse:
    """The same answer for "does not exist" and "not yours" (IDOR): nothing to learn from it."""
    return render(request, "web/error.html", {"title": "見つかりません",
                                              "message": "指定されたものは存在しないか、参照できません。"}, status=404)


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else request.path)[:100]


def _referer_path(request: HttpRequest) -> str:
    return safe_next(request, request.META.get("HTTP_REFERER", ""), default="/")


def safe_next(request: HttpRequest, target: str, *, default: str = "/") -> str:
    """``target`` when it is a path on this site (no open redirect), else ``default``."""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return path if path.startswith("/") and not path.startswith("//") else default
    return default
