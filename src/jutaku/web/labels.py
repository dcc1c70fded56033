"""Japanese labels for codes the screens show (task kinds, outcome codes, states)."""

from __future__ import annotations

from jutaku.domain import inquiry
from jutaku.formats.layouts import REGISTRATION_OUTCOME

#: The fallback for outcome tables: the registration outcomes (interfaces.md) and the inquiry exclusions.
#: Codes of the other imports mean different things in different files (OK, E00): each task kind gives
#: its own labels (:class:`jutaku.jobs.worker.TaskOutcome`), and they win.
OUTCOME_LABELS: dict[str, str] = {**dict(REGISTRATION_OUTCOME), **inquiry.EXCLUSION_LABELS}

#: Task kinds are registered by jutaku.web.tasks; their labels are looked up here.
TASK_LABELS: dict[str, str] = {}


def task_label(kind: str) -> str:
    return TASK_LABELS.get(kind, kind)
