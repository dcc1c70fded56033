"""Request plumbing of the web UI (ADR 0012).

- :class:`TerminalMiddleware` (NET-01): the client address (``REMOTE_ADDR``; ``X-Forwarded-For`` only
  from a configured trusted proxy) must be a registered terminal, for every path, static files
  included; a refusal is audited and answered 403.
- :class:`ActorMiddleware`: the session cookie's token resolves to the actor of a live
  :mod:`jutaku.accounts.sessions` session (the same sessions as the CLI: idle and absolute timeouts,
  same terminal, account still allowed); a dead session's cookie is cleared.
- :class:`SecurityHeadersMiddleware` (WEB-01): a strict Content-Security-Policy (no inline script or
  style), Permissions-Policy, and ``Cache-Control: no-store`` on every page but static files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jutaku import config
from jutaku.accounts import network, sessions, terminals
from jutaku.web.access import access_of

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def client_address(request: HttpRequest) -> str:
    return network.web_client(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR"),
                              settings.JUTAKU_TRUSTED_PROXIES)


class TerminalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        terminal = client_address(request)
        request.terminal = terminal  # type: ignore[attr-defined]
        if not terminals.is_allowed(terminal):
            terminals.refuse(terminal, username=None, what=f"web {request.method} {request.path[:100]}")
            return render(request, "web/error.html", {"title": "利用できない端末です", "message": terminals.REFUSED,
                                                      "bare": True}, status=403)
        return self.get_response(request)


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        request.live_session = None  # type: ignore[attr-defined]
        response = self.get_response(request)
        if getattr(request, "clear_session_cookie", False):
            response.delete_cookie(settings.SESSION_COOKIE_NAME, samesite="Strict")
        return response

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> None:
        token = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not token:
            return
        spec = access_of(view)
        try:
            live = sessions.resolve_session(token, terminal=request.terminal,  # type: ignore[attr-defined]
                                            production=config.get().is_production,
                                            touch=not (spec is not None and spec.passive))
        except sessions.NoSession:
            request.clear_session_cookie = True  # type: ignore[attr-defined]
            return
        request.actor = live.actor  # type: ignore[attr-defined]
        request.live_session = live  # type: ignore[attr-defined]


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


def set_session_cookie(response: HttpResponse, token: str) -> None:
    """The session cookie (AUTH-08): host-only, HttpOnly, SameSite=Strict, Secure in production."""
    response.set_cookie(settings.SESSION_COOKIE_NAME, token, max_age=settings.SESSION_COOKIE_AGE, path="/",
                        secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Strict")
