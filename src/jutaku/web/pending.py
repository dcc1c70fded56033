"""The action a step-up interrupted, continued after it (issue 14 item 7, ADR 0024).

A POST to a view that needs a fresh re-authentication (``requires(step_up=...)``) and has none is kept
(:func:`keep`): the view's URL name, its URL arguments and the posted form fields — sealed with the
application's secret, bound to the session and the user — in :class:`jutaku.web.models.PendingAction`.
The step-up page carries only a random key to it. When the step-up succeeds, :func:`take` hands it out once
(it is wiped at once) and :func:`replay` runs the same view on the step-up's request, so the user lands on
the action's result (the approval decided, the deletion's task, the number shown with the reason they had
typed) instead of on the page they came from.

What holds at replay time:
- the step-up POST itself passed Django's CSRF check (the step-up view is not exempt), as the interrupted
  POST had before anything was kept;
- the view runs behind its own ``requires``: method, a live session, the permission the user holds *now*
  and the fresh step-up; its service checks everything again;
- only a view that declares a step-up can be continued, by its URL name (no URL and no redirect comes
  from the client);
- the key must be one of this session's, unused and within the step-up window
  (``JUTAKU_STEP_UP_MINUTES``); anything else — another user's key, a used one, a made-up one, a sealed
  payload that does not verify — is refused and audited (``access:denied``, outcome ``pending_action``);
- a form with a file, too many or too long fields, or a field holding a My Number is not kept: the user
  is sent to the step-up page and then back as before, and does it again (nothing of it is stored).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone

from jutaku import config
from jutaku.accounts import sessions
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text
from jutaku.web.models import PendingAction

SALT: Final = "jutaku.web.pending"
FIELDS_MAX: Final = 20
VALUES_MAX: Final = 20
VALUE_MAX: Final = 2000
_KEY: Final = re.compile(r"[A-Za-z0-9_-]{20,64}")
_CSRF_FIELD: Final = "csrfmiddlewaretoken"

#: How the step-up page names the action it will continue (by the view's URL name and arguments).
LABELS: Final = {
    "web:approval-approve": "承認依頼 #{approval_id} の承認",
    "web:approval-reject": "承認依頼 #{approval_id} の却下",
    "web:deletion-run": "削除依頼 #{approval_id} の実行",
    "web:person-unmask": "個人番号の表示",
    "web:person-status-correct": "状態の訂正",
    "web:user-roles": "役割の変更",
}
EXPIRED: Final = ("再認証しました。中断していた操作は有効期限（{minutes}分）を過ぎたため実行していません。"
                  "もう一度操作してください。")
REFUSED: Final = "再認証しました。中断していた操作は続けられないため実行していません。もう一度操作してください。"


class Lapsed(Exception):
    """The kept action cannot be continued (message in Japanese); ``why`` is the audited reason."""

    def __init__(self, why: str) -> None:
        minutes = settings.JUTAKU_STEP_UP_MINUTES
        super().__init__(EXPIRED.format(minutes=minutes) if why == "expired" else REFUSED)
        self.why = why


@dataclass(frozen=True)
class Kept:
    view_name: str
    kwargs: dict[str, Any]
    fields: dict[str, list[str]]


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("ascii", "replace")).hexdigest()


def _fields(request: HttpRequest) -> dict[str, list[str]] | None:
    """The posted fields worth keeping, or None when the form cannot be kept."""
    if request.FILES:
        return None
    fields: dict[str, list[str]] = {}
    for name in request.POST:
        if name == _CSRF_FIELD:
            continue
        values = [str(v) for v in request.POST.getlist(name)]
        if (len(fields) >= FIELDS_MAX or len(values) > VALUES_MAX or len(name) > 100
                or any(len(v) > VALUE_MAX or free_text.contains_my_number(v) for v in values)):
            return None
        fields[name] = values
    return fields


def keep(request: HttpRequest, back: str) -> str | None:
    """Keep the interrupted POST for this session; the key for the step-up page, or None (not kept)."""
    match = getattr(request, "resolver_match", None)
    live = getattr(request, "live_session", None)
    fields = _fields(request)
    if match is None or live is None or fields is None or match.view_name not in LABELS:
        return None
    now = timezone.now()
    key = secrets.token_urlsafe(32)
    sealed = signing.dumps({"s": live.session_id, "u": live.actor.username, "v": match.view_name,
                            "k": dict(match.kwargs), "f": fields}, salt=SALT, compress=True)
    with transaction.atomic():
        purge(now)
        PendingAction.objects.create(session_id=live.session_id, key_hash=_hash(key), view_name=match.view_name,
                                     sealed=sealed, back=back[:500], created_at=now,
                                     expires_at=now + timedelta(minutes=settings.JUTAKU_STEP_UP_MINUTES))
    return key


def purge(now: datetime) -> int:
    """Housekeeping (:mod:`jutaku.jobs.housekeeping`): drop kept actions past their window or used. They
    are transient (minutes) and their use or refusal is on the trail already: the purge is not audited."""
    deleted, _ = PendingAction.objects.filter(Q(expires_at__lte=now) | Q(used_at__isnull=False)).delete()
    return int(deleted)


def _own(request: HttpRequest, key: str) -> PendingAction | None:
    live = getattr(request, "live_session", None)
    if live is None or not _KEY.fullmatch(key):
        return None
    return PendingAction.objects.filter(key_hash=_hash(key), session_id=live.session_id).first()


def describe(request: HttpRequest, key: str) -> str | None:
    """What the step-up page will continue, in words; None for a key that would not be continued."""
    row = _own(request, key)
    if row is None or row.used_at is not None or row.expires_at <= timezone.now():
        return None
    try:
        kwargs = _unseal(row, request)["k"]
    except Lapsed:
        return None
    try:
        return LABELS[row.view_name].format(**kwargs)
    except (KeyError, IndexError):
        return None


def _unseal(row: PendingAction, request: HttpRequest) -> dict[str, Any]:
    live = request.live_session  # type: ignore[attr-defined]
    try:
        payload = signing.loads(row.sealed, salt=SALT)
    except signing.BadSignature:
        raise Lapsed("tampered") from None
    if (not isinstance(payload, dict) or payload.get("s") != live.session_id or payload.get("u") != live.actor.username
            or payload.get("v") != row.view_name or not isinstance(payload.get("k"), dict)
            or not isinstance(payload.get("f"), dict)):
        raise Lapsed("tampered")
    return payload


def take(request: HttpRequest, key: str) -> Kept:
    """The kept action of this session for ``key``, handed out once; raises :class:`Lapsed`."""
    live = request.live_session  # type: ignore[attr-defined]
    now = timezone.now()
    why = "unknown"
    payload: dict[str, Any] = {}
    with transaction.atomic():
        row = (PendingAction.objects.select_for_update().filter(key_hash=_hash(key)).first()
               if _KEY.fullmatch(key) else None)
        if row is not None:
            why = _refusal(row, request, now)
            if why == "":
                payload = _unseal(row, request)
                row.used_at, row.sealed = now, ""
                row.save(update_fields=["used_at", "sealed"])
    if why:
        if why != "expired":  # a slow user is no event; a key not theirs, used or altered is
            with transaction.atomic():
                record(AuditEvent.ACCESS_DENIED, actor=live.actor, objects=[f"session:{live.session_id}"],
                       outcome="pending_action", detail={"why": why})
        raise Lapsed(why)
    return Kept(str(payload["v"]), dict(payload["k"]), {str(k): [str(x) for x in v] for k, v in payload["f"].items()})


def _refusal(row: PendingAction, request: HttpRequest, now: Any) -> str:
    live = request.live_session  # type: ignore[attr-defined]
    if row.session_id != live.session_id:
        return "other_session"
    if row.used_at is not None:
        return "used"
    if row.expires_at <= now:
        return "expired"
    try:
        _unseal(row, request)
    except Lapsed as exc:
        return exc.why
    return ""


def replay(request: HttpRequest, kept: Kept, token: str) -> HttpResponse:
    """Run the kept view on this (step-up) request, as the session's user after the step-up: the view's own
    ``requires`` checks the method, the permission held now and the fresh step-up. Raises :class:`Lapsed`
    when the view is no longer one that can be continued."""
    from jutaku.web.access import access_of

    try:
        match = resolve(reverse(kept.view_name, kwargs=kept.kwargs))
    except (NoReverseMatch, Resolver404):
        raise Lapsed("view") from None
    spec = access_of(match.func)
    if spec is None or spec.step_up is None or "POST" not in spec.methods or match.view_name not in LABELS:
        raise Lapsed("view")
    try:
        live = sessions.resolve_session(token, terminal=request.terminal,  # type: ignore[attr-defined]
                                        production=config.get().is_production, touch=False)
    except sessions.NoSession:
        raise Lapsed("session") from None
    post = QueryDict(mutable=True)
    for name, values in kept.fields.items():
        post.setlist(name, values)
    post._mutable = False  # as Django leaves a parsed form
    request.actor, request.live_session = live.actor, live  # type: ignore[attr-defined]
    request.POST = post
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)  # type: ignore[no-any-return]
