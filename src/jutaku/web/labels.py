"""Japanese labels for codes the screens show (task kinds, outcome codes, states)."""

from __future__ import annotations

from jutaku.domain import inquiry, juki, linkage
from jutaku.formats.layouts import REGISTRATION_OUTCOME

#: Registration outcomes (interfaces.md) and the other imports' row codes, for outcome tables.
OUTCOME_LABELS: dict[str, str] = {
    **dict(REGISTRATION_OUTCOME),
    **{k: v for k, v in linkage.LABELS.items()},
    **{k: v for k, v in inquiry.OUTCOME_LABELS.items()},
    **{k: v for k, v in inquiry.EXCLUSION_LABELS.items()},
    **{k: v for k, v in juki.LABELS.items()},
}

#: Task kinds are registered by jutaku.web.tasks; their labels are looked up here.
TASK_LABELS: dict[str, str] = {}


def task_label(kind: str) -> str:
    return TASK_LABELS.get(kind, kind)
