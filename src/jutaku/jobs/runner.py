"""The chunked, resumable job runner (REL-01, REL-03, REL-05; style habit 8).

``run_job`` streams the items, cuts them into chunks and applies each chunk in ONE transaction: the
handler's data changes, its audit rows, a JOB_CHUNK audit row and the job row's cursor and counts
commit together or not at all. A rerun over the same input (same kind and SHA-256) either

- returns the earlier completed job untouched (``duplicate=True``: a file is applied once), or
- resumes the unfinished one: it re-reads the stream, skips the first ``cursor`` items and goes on, so
  each item takes effect exactly once and the final counts equal a clean run's.

A dry run executes the same handler inside a savepoint that is rolled back at the end of every chunk:
the counts are real, only the job row (marked ``dry_run``) and its JOB_* audit rows remain.
Any exception fails closed: the chunk rolls back, the job is marked ``failed`` with a code, JOB_FAIL is
audited and the exception propagates.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, transaction
from django.utils import timezone

from jutaku.accounts.actor import Actor
from jutaku.audit import anchors
from jutaku.audit.events import AuditEvent
from jutaku.audit.guard import contains_my_number
from jutaku.audit.service import DetailValue, record
from jutaku.domain.jobs import kind_label
from jutaku.jobs.errors import JobBusy, JobError, JobOptionsConflict, JobRefused
from jutaku.jobs.locks import check_kind, kind_lock
from jutaku.jobs.models import RESUMABLE_STATES, Job, JobState
from jutaku.jobs.progress import job_progress

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Told the id of every job this context starts, resumes or finds already done (the web worker links
#: the jobs of a browser task to it for the progress bar). Unset in the CLI.
job_observer: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar(
    "jutaku_job_observer", default=None)

__all__ = ["ChunkContext", "Handler", "JobBusy", "JobError", "JobRefused", "JobResult", "run_job"]


@dataclass(frozen=True)
class ChunkContext:
    """What a handler may know about the run it is part of."""

    job_id: int
    kind: str
    actor: Actor
    dry_run: bool
    options: Mapping[str, Any] = field(default_factory=dict)


Handler = Callable[[list[tuple[int, T]], ChunkContext], Mapping[str, int]]


@dataclass(frozen=True)
class JobResult:
    job: Job
    duplicate: bool = False
    resumed: bool = False

    @property
    def job_id(self) -> int:
        return int(self.job.pk)

    @property
    def state(self) -> str:
        return str(self.job.state)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.job.counts)

    @property
    def cursor(self) -> int:
        return int(self.job.cursor)

    @property
    def dry_run(self) -> bool:
        return bool(self.job.dry_run)


@dataclass
class _Run(Generic[T]):
    job: Job
    ctx: ChunkContext
    handler: Handler[T]
    chunk_size: int


class _DryRunRollback(Exception):
    """Unwinds the dry-run savepoint while carrying the chunk's counts out of it."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__("dry run")
        self.counts = counts


def run_job(
    kind: str,
    *,
    items: Iterable[T],
    input_sha256: str,
    input_name: str,
    actor: Actor,
    handler: Handler[T],
    chunk_size: int = 5000,
    total: int | None = None,
    dry_run: bool = False,
    progress: bool = True,
    options: Mapping[str, Any] | None = None,
) -> JobResult:
    """Run (or resume) the job ``kind`` over ``items``; see the module docstring for the guarantees.

    ``handler(chunk, ctx)`` receives ``[(index, item), ...]`` (index: 0-based position in the stream)
    and returns outcome counts by code. Raises :class:`JobBusy` when another run of ``kind`` holds the
    lock and :class:`JobOptionsConflict` when an unfinished run used other options.
    """
    check_kind(kind)
    _check_sha256(input_sha256)
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("run_job commits chunk by chunk: call it outside transaction.atomic()")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    opts = dict(options or {})
    name = _display_name(input_name)
    spec = {"kind": kind, "input_sha256": input_sha256, "input_name": name, "dry_run": dry_run}
    with _locked_or_refused(spec, actor, opts):
        _fail_dead_runs(kind, actor)
        job, duplicate, resumed = _start(spec, actor=actor, total=total, options=opts)
        observer = job_observer.get()
        if observer is not None:
            observer(int(job.pk))
        if duplicate:
            return JobResult(job=job, duplicate=True)
        ctx = ChunkContext(job_id=job.pk, kind=kind, actor=actor, dry_run=dry_run, options=opts)
        run = _Run(job=job, ctx=ctx, handler=handler, chunk_size=chunk_size)
        try:
            _apply_all(run, items, progress=progress)
        except BaseException as exc:
            _mark_failed(job, actor, exc)
            raise
        return JobResult(job=_finish(job, actor), resumed=resumed)


def _check_sha256(value: str) -> None:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError("input_sha256 must be 64 lower-case hex digits")


def _record_refusal(spec: dict[str, Any], actor: Actor, options: dict[str, Any], exc: JobRefused) -> None:
    """Record the refusal; if even that fails (database busy or down) the run is still refused."""
    try:
        _write_refusal(spec, actor, options, exc)
    except DatabaseError:
        log.exception("could not record the refusal of a '%s' job", spec["kind"])


def _write_refusal(spec: dict[str, Any], actor: Actor, options: dict[str, Any], exc: JobRefused) -> None:
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.create(
            **spec, state=JobState.REFUSED, actor_username=actor.username, actor_terminal=actor.terminal,
            created_at=now, finished_at=now, error_code=exc.code, error_message=str(exc)[:500],
            options=options,
        )
        record(AuditEvent.JOB_REFUSE, actor=actor, objects=_objects(job), outcome="refused", job_id=job.pk,
               detail={**_audit_detail(job), "code": exc.code})


@contextlib.contextmanager
def _locked_or_refused(spec: dict[str, Any], actor: Actor, options: dict[str, Any]) -> Iterator[None]:
    """Hold the kind lock; a refusal (busy, options conflict) is recorded as a refused job, then raised."""
    lock = kind_lock(spec["kind"])
    try:
        lock.__enter__()
    except JobBusy as exc:
        _record_refusal(spec, actor, options, exc)
        raise
    try:
        yield
    except JobOptionsConflict as exc:
        _record_refusal(spec, actor, options, exc)
        raise
    finally:
        lock.__exit__(None, None, None)


def _fail_dead_runs(kind: str, actor: Actor) -> None:
    """We hold the lock, so any ``running`` row of this kind belongs to a process that died."""
    with transaction.atomic():
        for job in Job.objects.select_for_update().filter(kind=kind, state=JobState.RUNNING):
            job.state = JobState.FAILED
            job.error_code = "J_CRASHED"
            job.error_message = "the process running this job stopped without finishing it"
            job.finished_at = timezone.now()
            job.save(update_fields=["state", "error_code", "error_message", "finished_at"])
            record(AuditEvent.JOB_FAIL, actor=actor, objects=_objects(job), outcome="failed", job_id=job.pk,
                   detail={**_audit_detail(job), "code": job.error_code, "cursor": job.cursor})


def _start(
    spec: dict[str, Any], *, actor: Actor, total: int | None, options: dict[str, Any]
) -> tuple[Job, bool, bool]:
    """Return ``(job, duplicate, resumed)`` with the job row running (unless duplicate)."""
    with transaction.atomic():
        return _start_in_transaction(spec, actor=actor, total=total, options=options)


def _start_in_transaction(
    spec: dict[str, Any], *, actor: Actor, total: int | None, options: dict[str, Any]
) -> tuple[Job, bool, bool]:
    same_input = Job.objects.filter(kind=spec["kind"], input_sha256=spec["input_sha256"], dry_run=False)
    earlier = same_input.filter(state=JobState.COMPLETED).first()
    if earlier is not None:
        record(AuditEvent.JOB_REFUSE, actor=actor, objects=_objects(earlier), outcome="duplicate", job_id=earlier.pk,
               detail={**_audit_detail(earlier), "reason": "input already applied"})
        return earlier, True, False
    now = timezone.now()
    unfinished = None if spec["dry_run"] else same_input.filter(state__in=RESUMABLE_STATES).first()
    if unfinished is not None:
        if unfinished.options != options:
            raise JobOptionsConflict(spec["kind"], unfinished.pk)
        unfinished.state = JobState.RUNNING
        unfinished.total = total if total is not None else unfinished.total
        unfinished.heartbeat_at, unfinished.finished_at = now, None
        unfinished.error_code = unfinished.error_message = ""
        unfinished.save()
        record(AuditEvent.JOB_RESUME, actor=actor, objects=_objects(unfinished), job_id=unfinished.pk,
               detail={**_audit_detail(unfinished), "cursor": unfinished.cursor})
        return unfinished, False, True
    job = Job.objects.create(
        **spec, state=JobState.RUNNING, total=total, actor_username=actor.username,
        actor_terminal=actor.terminal, created_at=now, started_at=now, heartbeat_at=now, options=options,
    )
    record(AuditEvent.JOB_START, actor=actor, objects=_objects(job), job_id=job.pk, detail=_audit_detail(job))
    return job, False, False


def _apply_all(run: _Run[T], items: Iterable[T], *, progress: bool) -> None:
    job = run.job
    label = f"{kind_label(job.kind)} #{job.pk}" + ("（試行）" if job.dry_run else "")
    with job_progress(label, total=job.total, completed=job.cursor, enabled=progress) as advance:
        for chunk in _chunks(items, skip=job.cursor, size=run.chunk_size):
            _apply_chunk(run, chunk)
            advance(len(chunk))
            anchors.after_if_due()  # a long job's records are anchored every N minutes, not only at its end


def _chunks(items: Iterable[T], *, skip: int, size: int) -> Iterator[list[tuple[int, T]]]:
    """Numbered chunks of the stream, after skipping the ``skip`` items a previous run committed."""
    stream = itertools.islice(enumerate(items), skip, None)
    while chunk := list(itertools.islice(stream, size)):
        yield chunk


def _apply_chunk(run: _Run[T], chunk: list[tuple[int, T]]) -> None:
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a chunk allocates many small objects; collecting mid-chunk only costs time
    try:
        with transaction.atomic():
            if run.ctx.dry_run:
                counts = _dry_run_chunk(run, chunk)
            else:
                counts = _checked_counts(run.handler(chunk, run.ctx))
            _advance(run, chunk, counts)
    finally:
        if gc_was_enabled:
            gc.enable()


def _dry_run_chunk(run: _Run[T], chunk: list[tuple[int, T]]) -> dict[str, int]:
    try:
        with transaction.atomic():
            raise _DryRunRollback(_checked_counts(run.handler(chunk, run.ctx)))
    except _DryRunRollback as rollback:
        return rollback.counts


def _checked_counts(counts: Mapping[str, int]) -> dict[str, int]:
    checked = {str(code): int(n) for code, n in counts.items()}
    if any(n < 0 for n in checked.values()):
        raise ValueError("a handler returned a negative outcome count")
    return checked


def _advance(run: _Run[T], chunk: list[tuple[int, T]], counts: dict[str, int]) -> None:
    """Move the cursor inside the chunk's transaction (the in-memory row is reloaded on failure)."""
    job = run.job
    merged = dict(job.counts)
    for code, n in counts.items():
        merged[code] = merged.get(code, 0) + n
    job.counts = dict(sorted(merged.items()))
    job.cursor += len(chunk)
    job.chunks += 1
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["counts", "cursor", "chunks", "heartbeat_at"])
    record(AuditEvent.JOB_CHUNK, actor=run.ctx.actor, job_id=job.pk,
           detail={"first": chunk[0][0], "last": chunk[-1][0], "counts": _counts_text(counts),
                   "dry_run": job.dry_run})


def _mark_failed(job: Job, actor: Actor, exc: BaseException) -> None:
    """Record the failure in its own transaction; never hide the original exception."""
    if isinstance(exc, JobError):
        code, message = exc.code[:32], exc.message[:500]
    elif isinstance(exc, KeyboardInterrupt):
        code, message = "J_INTERRUPTED", "interrupted by the operator"
    else:
        code = "J_HANDLER"
        message = f"{type(exc).__name__} after item {job.cursor}; the failing chunk was rolled back"
    try:
        with transaction.atomic():
            job.refresh_from_db()
            job.state, job.error_code, job.error_message = JobState.FAILED, code, message
            job.finished_at = timezone.now()
            job.save(update_fields=["state", "error_code", "error_message", "finished_at"])
            record(AuditEvent.JOB_FAIL, actor=actor, objects=_objects(job), outcome="failed", job_id=job.pk,
                   detail={**_audit_detail(job), "code": code, "cursor": job.cursor})
    except Exception:  # the database itself may be what failed; the next run marks the job crashed
        log.exception("could not record the failure of job #%s", job.pk)
    anchors.after("job")


def _finish(job: Job, actor: Actor) -> Job:
    with transaction.atomic():
        job.state = JobState.COMPLETED
        job.total = job.cursor
        job.finished_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["state", "total", "finished_at", "heartbeat_at"])
        record(AuditEvent.JOB_FINISH, actor=actor, objects=_objects(job), job_id=job.pk,
               detail={**_audit_detail(job), "cursor": job.cursor, "counts": _counts_text(job.counts)})
    anchors.after("job")  # the job's records, signed outside the database (ADR 0014)
    return job


def _audit_detail(job: Job) -> dict[str, DetailValue]:
    """Kind and mode; the input is the record's object (its hash), the file name stays on the job row."""
    return {"kind": job.kind, "dry_run": job.dry_run}


def _objects(job: Job) -> tuple[str]:
    return (f"sha256:{job.input_sha256}",)


def _counts_text(counts: Mapping[str, int]) -> str:
    return json.dumps(dict(sorted(counts.items())), separators=(",", ":"), ensure_ascii=False)


def _display_name(input_name: str) -> str:
    """The file's base name; withheld if it looks like it carries a 個人番号 (LOG-02)."""
    name = PurePath(input_name).name[:255]
    return "(name withheld)" if contains_my_number(name) else name
