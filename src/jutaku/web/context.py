"""The navigation every page shows: only the screens the signed-in user's roles may open."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from jutaku.accounts.permissions import ROLE_LABELS, Permission, Role
from jutaku.web.views.files import CREATE_PERMISSIONS, IMPORT_PERMISSIONS

_P = Permission
#: (label, URL name, permission or permissions — any one is enough) in menu order.
MENU: tuple[tuple[str, str, Permission | tuple[Permission, ...]], ...] = (
    ("ダッシュボード", "web:dashboard", _P.SESSION_SELF),
    ("対象者検索", "web:person-search", _P.PERSONS_VIEW),
    ("ファイル取込", "web:files-import", IMPORT_PERMISSIONS),
    ("ファイル作成", "web:files-create", CREATE_PERMISSIONS),
    ("承認待ち", "web:approvals", _P.APPROVALS_VIEW),
    ("削除", "web:deletion", _P.DELETION_REQUEST),
    ("開示請求", "web:subject-requests", _P.REQUESTS_HANDLE),
    ("統計", "web:stats", _P.STATS_VIEW),
    ("監査", "web:audit", _P.AUDIT_SEARCH),
    ("ジョブ台帳", "web:audit-jobs", _P.JOBS_VIEW),
    ("媒体管理台帳", "web:audit-media", _P.MEDIA_LEDGER_VIEW),
    ("利用者管理", "web:users", _P.USERS_MANAGE),
    ("許可リスト", "web:allowlist", _P.ALLOWLIST_VIEW),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"menu": [], "signed_in": False}
    from django.urls import NoReverseMatch, reverse

    menu = []
    live = getattr(request, "live_session", None)
    first = live is not None and live.password_change_required  # nothing but the password page answers
    for label, name, needs in () if first else MENU:
        if not any(actor.can(p) for p in (needs if isinstance(needs, tuple) else (needs,))):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a screen not wired yet
            continue
        menu.append({"label": label, "url": url, "current": request.path == url or (
            url != "/" and request.path.startswith(url))})
    roles = sorted(ROLE_LABELS[Role(r)] for r in _roles_of(actor.username))
    return {"menu": menu, "signed_in": True, "me": actor.username, "my_roles": "・".join(roles),
            "idle_seconds": settings.JUTAKU_SESSION_IDLE_MINUTES * 60,
            "warning_seconds": settings.JUTAKU_SESSION_WARNING_SECONDS}


def _roles_of(username: str) -> list[str]:
    from jutaku.accounts.models import RoleGrant

    return list(RoleGrant.objects.filter(user__username=username).values_list("role", flat=True))
