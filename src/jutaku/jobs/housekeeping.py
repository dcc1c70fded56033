"""Housekeeping: the purge tasks run at the start of every command and every turn of the worker loop.

A module registers a task once (in its app's ``ready()``)::

    from jutaku.jobs import housekeeping
    housekeeping.register("outputs", purge_expired_outputs)

A task is ``task(now) -> int``: it removes what is due at ``now``, records what it removed on the audit
trail itself (with a count), and returns how many it removed. It must be cheap when nothing is due (one
indexed query: it runs before every command), safe when two processes run it at once (claim a row with a
conditional update before counting it) and bounded (a backlog is worked off over the next runs).

:func:`run_due` runs every registered task, in the order registered. A task that fails does not stop the
others, nor the command or the worker: its traceback goes to a private incident file and its name and the
incident id are returned, for the caller to warn about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jutaku.incidents import log_incident

PurgeTask = Callable[[datetime], int]

_TASKS: dict[str, PurgeTask] = {}


@dataclass
class Report:
    removed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # task name -> incident id


def register(name: str, task: PurgeTask) -> None:
    """Add ``task`` under ``name`` (registering the same name again replaces it: ``ready()`` may run twice)."""
    _TASKS[name] = task


def tasks() -> dict[str, PurgeTask]:
    return dict(_TASKS)


def run_due(now: datetime | None = None, *, skip: tuple[str, ...] = ()) -> Report:
    """Run every registered task once but those in ``skip``; see the module docstring."""
    now = now or datetime.now(UTC)
    report = Report()
    for name, task in list(_TASKS.items()):
        if name in skip:
            continue
        try:
            report.removed[name] = task(now)
        except Exception as exc:  # a housekeeping failure must not stop the work
            report.failed[name] = log_incident(exc)
    return report
