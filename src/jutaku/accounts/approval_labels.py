"""What an approval request would do, in words (承認待ち, `jutaku approvals list`, seed V-1: names, not codes).

A request is shown by its kind's name (:class:`jutaku.accounts.approvals.Kind`) and its payload as Japanese
label/value pairs, from the few keys the kinds use (:func:`payload_items`); the payload itself (a dict,
stored as JSON) never reaches a screen or a terminal, and keys a screen has no words for are left out
(file hashes). A procedure code is shown by its name (:mod:`jutaku.allowlist.names`), roles by theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jutaku.accounts.permissions import ROLE_LABELS, Role

_ROLES = {role.value: ROLE_LABELS[role] for role in Role}


def kind_label(kind: str) -> str:
    """A kind's name (registered by the module that owns the kind); an unknown kind as it is stored."""
    from jutaku.accounts import approvals

    spec = approvals.KINDS.get(kind)
    return spec.label if spec is not None else kind


def payload_items(payload: Mapping[str, Any], *, procedure_name: Callable[[str], str] = str,
                  person_id: Callable[[int], str | None] = lambda pk: None) -> list[tuple[str, str]]:
    """The request's content as (label, value) pairs, in a fixed order. ``procedure_name`` names a 事務手続
    code; ``person_id`` gives the 個人ID of a person the request is about, or ``None`` when the reader may not
    see persons (then the count alone is shown)."""
    items: list[tuple[str, str]] = []
    person = payload.get("person")
    shown = person_id(person) if isinstance(person, int) else None
    if shown:
        items.append(("対象者", f"個人ID {shown}"))
    elif isinstance(payload.get("persons"), int):
        items.append(("対象", f"{payload['persons']:,} 人"))
    if "procedure" in payload:
        items.append(("事務手続", procedure_name(str(payload["procedure"])[:20])))
    if isinstance(payload.get("year"), int):
        items.append(("年度", f"{payload['year']}年度"))
    if isinstance(payload.get("subject_request"), int):
        items.append(("請求", f"#{payload['subject_request']}"))
    if "username" in payload:
        items.append(("利用者", str(payload["username"])[:150]))
    if isinstance(payload.get("add"), list):
        items.append(("付与する役割", "・".join(_ROLES.get(str(r), str(r)) for r in payload["add"])))
    return items


def payload_text(items: list[tuple[str, str]]) -> str:
    """The pairs on one line (a table cell): ``対象: 12 人、事務手続: 収入の申告``; ``-`` when there are none."""
    return "、".join(f"{label}: {value}" for label, value in items) or "-"
