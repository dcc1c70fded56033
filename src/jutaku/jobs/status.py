"""What the job ledger shows of a job: its status with the owner's liveness, and how to continue it
(issue 14 item 12; the rule is :mod:`jutaku.domain.jobs`).

A ``running`` row whose kind's lock no live process holds (:func:`jutaku.jobs.locks.held`) belongs to a
process that died: it is shown **中断** at the next look — `jutaku jobs list`, `jutaku jobs show`, the
ジョブ台帳 and a task's page — with the command that continues it. Nothing is written: the row is marked
failed (``J_CRASHED``) by the next run of its kind, which resumes it (:mod:`jutaku.jobs.runner`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jutaku.domain.jobs import LABELS, Status, resume_hint, status
from jutaku.jobs.locks import held
from jutaku.jobs.models import Job, JobState, Task, TaskState


@dataclass(frozen=True)
class Shown:
    status: Status
    hint: str = ""  # how to continue an interrupted or failed job

    @property
    def label(self) -> str:
        return LABELS[self.status]


def shown(jobs: Iterable[Job]) -> dict[int, Shown]:
    """The status of each job by id; each running kind's lock is probed once."""
    rows = list(jobs)
    alive = {kind: held(kind) for kind in {j.kind for j in rows if j.state == JobState.RUNNING}}
    in_browser = _browser_jobs() if any(j.state in (JobState.RUNNING, JobState.FAILED) for j in rows) else set()
    out: dict[int, Shown] = {}
    for job in rows:
        found = status(job.state, job.error_code, owner_alive=alive.get(job.kind, False))
        hint = ""
        if found in (Status.INTERRUPTED, Status.FAILED):
            hint = resume_hint(job.kind, job.input_name, dry_run=job.dry_run,
                               started_in_browser=job.pk in in_browser)
        out[int(job.pk)] = Shown(found, hint)
    return out


def shown_one(job: Job) -> Shown:
    return shown([job])[int(job.pk)]


def _browser_jobs() -> set[int]:
    """Jobs of tasks the worker has not finished (queued again, or left running by a worker that died)."""
    ids: set[int] = set()
    for job_ids in Task.objects.filter(state__in=(TaskState.QUEUED, TaskState.RUNNING)).values_list("job_ids",
                                                                                                  flat=True):
        ids.update(int(i) for i in job_ids or ())
    return ids
