"""The kinds of task a browser may start, each one service call (no second implementation: the same
service functions as the CLI). ``jutaku worker`` runs them (:mod:`jutaku.jobs.worker`).

A kind declares its permission (checked when queued and again when run), its Japanese label and whether
it takes an uploaded file. Screens register their kinds in :data:`KINDS` through :func:`kind`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jutaku.accounts.permissions import Permission
from jutaku.jobs.worker import TaskContext, TaskOutcome
from jutaku.web.labels import TASK_LABELS


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    permission: Permission
    runner: Callable[[TaskContext], TaskOutcome]
    upload_suffixes: tuple[str, ...] = ()  # empty: the task takes no file
    #: The interface its upload must be (:mod:`jutaku.formats.sniff` names) and where its form is (URL name,
    #: anchor): a file recognised as another kind's is refused with a link to that kind's form.
    layout: str | None = None
    form: tuple[str, str] = ("", "")

    def run(self, ctx: TaskContext) -> TaskOutcome:
        return self.runner(ctx)


KINDS: dict[str, Kind] = {}


def kind(name: str, label: str, permission: Permission, *, upload: tuple[str, ...] = (), layout: str | None = None,
         form: tuple[str, str] = ("", "")) -> Callable[
        [Callable[[TaskContext], TaskOutcome]], Callable[[TaskContext], TaskOutcome]]:
    """Register the decorated function as the runner of task kind ``name`` (an upload kind names the
    interface of its file, ``layout``, and its form, ``form``)."""

    def register(fn: Callable[[TaskContext], TaskOutcome]) -> Callable[[TaskContext], TaskOutcome]:
        if name in KINDS:
            raise ValueError(f"task kind {name!r} registered twice")
        KINDS[name] = Kind(name, label, permission, fn, upload, layout, form)
        TASK_LABELS[name] = label
        return fn

    return register


def all_kinds() -> dict[str, Kind]:
    """Every kind, with the modules that define them imported."""
    from jutaku.web.task_kinds import load_all

    load_all()
    return KINDS
