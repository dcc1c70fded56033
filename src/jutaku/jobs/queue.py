"""Tasks started from the browser and the files made for download (issue 7, ADR 0012).

A view calls :func:`submit` (the upload, if any, already saved under a generated name); ``jutaku worker``
claims queued tasks one at a time (:func:`claim`), runs them (:mod:`jutaku.jobs.worker`) and records
the outcome. Files a task makes for its user are :class:`Download` rows: each is fetched by an
unguessable token, only by its owner, at most once, and deleted after download or expiry (FILE-09).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text
from jutaku.exchange import outputs
from jutaku.jobs.models import Download, Task, TaskState

#: Upload suffixes a task may be given; the stored name is generated, the user's name only displayed.
UPLOAD_SUFFIXES = (".csv", ".enc", ".zip")


def save_upload(chunks: Any, suffix: str) -> str:
    """Store an uploaded file (``chunks``: an iterable of bytes) as ``<random>.<suffix>``, mode 0600."""
    if suffix not in UPLOAD_SUFFIXES:
        raise ValueError(f"upload suffix {suffix!r} not allowed")
    folder = config.get().uploads_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = secrets.token_hex(16) + suffix
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                size += len(chunk)
                if size > settings.JUTAKU_UPLOAD_MAX_BYTES:
                    raise ValueError("upload too large")
                fh.write(chunk)
    except BaseException:
        (folder / name).unlink(missing_ok=True)
        raise
    return name


def upload_path(task: Task) -> Path | None:
    return config.get().uploads_dir / task.upload if task.upload else None


def submit(kind: str, *, actor: Actor, params: Mapping[str, Any] | None = None, upload: str = "",
           upload_name: str = "") -> Task:
    """Queue a task for the worker (audited: who asked for what, from which terminal)."""
    with transaction.atomic():
        task = Task.objects.create(kind=kind, params=dict(params or {}), upload=upload,
                                   upload_name=_display(upload_name), username=actor.username,
                                   terminal=actor.terminal)
        record(AuditEvent.TASK_SUBMIT, actor=actor, objects=[f"task:{task.pk}"], outcome=kind[:64],
               detail={"file": task.upload_name[:100]})
    return task


def _display(name: str) -> str:
    """A file name for display only: its last path part, printable, at most 120 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return free_text.shown("".join(c for c in base if c.isprintable() and c not in "\r\n\t")[:120])


def claim() -> Task | None:
    """The oldest queued task, now ``running`` (one worker wins it), or None."""
    with transaction.atomic():
        task = (Task.objects.select_for_update(skip_locked=True).filter(state=TaskState.QUEUED)
                .order_by("id").first())
        if task is None:
            return None
        task.state, task.started_at = TaskState.RUNNING, timezone.now()
        task.save(update_fields=["state", "started_at"])
    return task


def requeue_interrupted() -> int:
    """Tasks left ``running`` by a worker that died go back to the queue: their jobs resume."""
    return Task.objects.filter(state=TaskState.RUNNING).update(state=TaskState.QUEUED)


def add_job(task_id: int, job_id: int) -> None:
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task_id)
        if job_id not in task.job_ids:
            task.job_ids = [*task.job_ids, job_id]
            task.save(update_fields=["job_ids"])


def finish(task: Task, *, state: str, result: Mapping[str, Any] | None = None, error: str = "") -> None:
    task.state, task.finished_at = state, timezone.now()
    task.result, task.error = dict(result or {}), error[:500]
    task.save(update_fields=["state", "finished_at", "result", "error"])
    path = upload_path(task)
    if path is not None:
        path.unlink(missing_ok=True)  # working files are deleted right after use (PIA)


def task_folder(task: Task) -> Path:
    folder = config.get().downloads_dir / f"task-{task.pk}-{secrets.token_hex(8)}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def offer(path: Path, *, owner: str, permission: str, label: str, task: Task | None = None,
          name: str | None = None) -> Download:
    """Make ``path`` (inside the downloads folder) downloadable once by ``owner``."""
    now = timezone.now()
    return Download.objects.create(
        token=secrets.token_urlsafe(32), task=task, owner=owner, permission=permission, label=label[:100],
        name=_display(name or path.name), path=str(path), size=path.stat().st_size if path.exists() else 0,
        created_at=now, expires_at=now + timedelta(hours=settings.JUTAKU_DOWNLOAD_HOURS))


def available(download: Download, actor: Actor, now: Any = None) -> bool:
    now = now or timezone.now()
    return (download.owner == actor.username and actor.can(download.permission)  # type: ignore[arg-type]
            and download.downloaded_at is None and download.deleted_at is None and download.expires_at > now
            and Path(download.path).exists())


def take(download: Download, *, actor: Actor) -> BinaryIO:
    """The file, open for reading, once: the row is marked downloaded and the file's name removed from
    the disk before a byte is sent (the open handle streams it; nothing stays behind)."""
    path = Path(download.path)
    handle = path.open("rb")
    try:
        with transaction.atomic():
            download.downloaded_at = download.deleted_at = timezone.now()
            download.save(update_fields=["downloaded_at", "deleted_at"])
            record(AuditEvent.FILE_DOWNLOAD, actor=actor, objects=[f"download:{download.pk}"],
                   detail={"label": download.label[:100], "name": download.name[:100], "bytes": download.size})
        _remove(path)
        outputs.forget(path, outcome="downloaded", actor=actor)
    except BaseException:
        handle.close()
        raise
    return handle


def expire(now: Any = None) -> int:
    """Delete every file past its time (and any emptied task folder); returns how many. A housekeeping
    task (:mod:`jutaku.jobs.housekeeping`): one indexed query when nothing is due."""
    now = now or timezone.now()
    system = Actor("system", "127.0.0.1")
    gone = 0
    for download in Download.objects.filter(deleted_at__isnull=True, expires_at__lte=now)[:500]:
        if not Download.objects.filter(pk=download.pk, deleted_at__isnull=True).update(deleted_at=now):
            continue  # another process took it
        _remove(Path(download.path))
        outputs.forget(Path(download.path), outcome="expired", actor=system, now=now)
        gone += 1
    if gone:
        with transaction.atomic():
            record(AuditEvent.FILE_EXPIRE, actor=system, outcome="expired", detail={"files": gone})
    return gone


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    folder = path.parent
    root = config.get().downloads_dir
    if folder != root and folder.is_relative_to(root) and folder.exists() and not any(folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)
