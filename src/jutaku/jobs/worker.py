"""``jutaku worker``: runs the tasks started from the browser, one at a time (issue 7, ADR 0012).

For each task the worker rebuilds the actor from the user's account *now* (a user disabled, locked or
stripped of the role since asking gets nothing run), checks the kind's permission again, runs the kind's
service call with the jobs it starts linked to the task (progress bar), records the outcome and offers
the files it made for download. An exception fails the task with a Japanese message; the details go to
a private incident log, never to the page. Tasks a dead worker left running are queued again on start:
their jobs resume where they stopped.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.db import close_old_connections
from django.utils import timezone

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.accounts.models import User
from jutaku.accounts.permissions import Permission
from jutaku.accounts.sessions import account_state, actor_for
from jutaku.audit import anchors
from jutaku.exchange.media import uploaded_as
from jutaku.incidents import log_incident
from jutaku.jobs import housekeeping, queue
from jutaku.jobs.failures import committed_summary
from jutaku.jobs.models import Task
from jutaku.jobs.runner import job_observer

log = logging.getLogger(__name__)


@dataclass
class TaskContext:
    task: Task
    actor: Actor
    params: Mapping[str, Any]
    upload: Path | None
    out: Path
    offered: list[tuple[Path, str, str]] = field(default_factory=list)  # (file, label, permission)

    def offer(self, path: Path | None, label: str, permission: Permission) -> None:
        if path is not None and path.exists():
            self.offered.append((path, label, permission.value))


@dataclass(frozen=True)
class TaskOutcome:
    summary: Mapping[str, Any]
    message: str = ""
    #: Japanese labels of this kind's outcome codes (the same code can mean different things in different
    #: imports: E06 of the targets import is not E06 of a registration).
    labels: Mapping[str, str] = field(default_factory=dict)


class TaskKind(Protocol):
    @property
    def permission(self) -> Permission: ...

    def run(self, ctx: TaskContext) -> TaskOutcome: ...


class TaskFailed(Exception):
    """A refusal to show the user as it is (Japanese, no personal data)."""


def _actor(task: Task) -> Actor | None:
    user = User.objects.filter(username=task.username).prefetch_related("role_grants").first()
    if user is None or account_state(user, timezone.localdate(), production=config.get().is_production):
        return None
    return actor_for(user, task.terminal)


def run_one(task: Task, kinds: Mapping[str, TaskKind]) -> Task:
    kind = kinds.get(task.kind)
    actor = _actor(task)
    if kind is None or actor is None or not actor.can(kind.permission):
        why = "この処理を実行する権限がありません（利用者の状態または権限が変わりました）。"
        if kind is not None and actor is not None:
            from jutaku.accounts.errors import refusal as refusal_for

            why += refusal_for(actor, kind.permission, what="この処理")
        queue.finish(task, state="failed", error=why[:500])
        return task
    ctx = TaskContext(task, actor, task.params, queue.upload_path(task), queue.task_folder(task))
    seen: list[int] = []

    def observe(job_id: int) -> None:
        seen.append(job_id)
        queue.add_job(task.pk, job_id)

    token = job_observer.set(observe)
    names = uploaded_as.set({task.upload: task.upload_name} if task.upload and task.upload_name else None)
    try:
        outcome = kind.run(ctx)
    except TaskFailed as exc:
        queue.finish(task, state="failed", error=str(exc))
        return task
    except Exception as exc:  # fail closed: the service rolled back; the page shows no detail
        refusal = _known_refusal(exc)
        if refusal is None:
            incident = log_incident(exc)
            refusal = f"処理中に問題が発生しました（受付番号 {incident}）。{committed_summary(seen)}"[:500]
        queue.finish(task, state="failed", error=refusal)
        return task
    finally:
        job_observer.reset(token)
        uploaded_as.reset(names)
    downloads = [queue.offer(path, owner=task.username, permission=perm, label=label, task=task).pk
                 for path, label, perm in ctx.offered]
    queue.finish(task, state="done", result={"summary": dict(outcome.summary), "message": outcome.message,
                                             "labels": dict(outcome.labels), "downloads": downloads})
    return task


#: Refusals the services raise on purpose: their messages are meant for the user and carry no data.
_REFUSALS = frozenset({"FileRejected", "ProcedureNotPermitted", "ExportRefused", "DeletionRefused", "ApprovalError",
                       "AccountsError", "SubjectRequestError", "NumberChangeRefused", "MediaIntegrityError",
                       "JobError", "OutputExists", "OutputRefused", "MediaRecordRefused", "FontMissing",
                       "DocumentRefused", "WorkbookRefused", "RecordMissing"})


def _known_refusal(exc: Exception) -> str | None:
    from jutaku.jobs.errors import JobBusy, JobRefused

    if isinstance(exc, JobBusy):
        return "同じ種類の処理を別の利用者が実行中です。終わってからもう一度実行してください。"
    if isinstance(exc, JobRefused):
        return "処理は受け付けられませんでした（前回の未完了の処理と条件が異なります）。同じ条件で再実行してください。"
    if any(cls.__name__ in _REFUSALS for cls in type(exc).__mro__):
        return str(exc)[:500]
    return None


def run_pending(kinds: Mapping[str, TaskKind]) -> int:
    """Run every queued task now (tests, ``--once``), after the purge tasks due; returns how many ran."""
    housekeep()
    ran = 0
    while (task := queue.claim()) is not None:
        run_one(task, kinds)
        ran += 1
    return ran


def housekeep() -> None:
    """The purge tasks due now (:mod:`jutaku.jobs.housekeeping`: expired outputs and downloads, …)."""
    for name, incident in housekeeping.run_due().failed.items():
        log.error("housekeeping task %s failed, incident %s", name, incident)


def serve(kinds: Mapping[str, TaskKind], *, interval: float = 1.0, stop: Callable[[], bool] | None = None) -> None:
    """The worker loop: at every turn the purge tasks due, then one queued task; until SIGTERM/SIGINT."""
    stopping = {"now": False}

    def _stop(_sig: int, _frame: Any) -> None:
        stopping["now"] = True

    if threading.current_thread() is threading.main_thread():  # a thread (the browser tests) has no signals
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    queue.requeue_interrupted()
    last_sweep = time.monotonic()
    while not stopping["now"] and not (stop is not None and stop()):
        close_old_connections()
        housekeep()
        task = queue.claim()
        if task is not None:
            run_one(task, kinds)
            continue
        if time.monotonic() - last_sweep > 60:
            anchors.after_if_due()  # the web's records, signed at least every N minutes (ADR 0014)
            last_sweep = time.monotonic()
        time.sleep(interval)
