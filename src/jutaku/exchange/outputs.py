"""The files the system writes, kept only for their retention (PIA: 作業後は、端末上のデータは直ちに削除).

Every writer (:mod:`jutaku.exchange.outbound`) calls :func:`track` in the transaction of the file's ledger
row: one :class:`OutputFile` with the path, the file's identity (device, inode, size, modification time)
and its expiry, ``JUTAKU_OUTPUT_RETENTION_DAYS`` after it was written (:func:`jutaku.domain.media.expires_at`).
:func:`purge_expired` — a housekeeping task (:mod:`jutaku.jobs.housekeeping`) run at the start of every
command and every turn of the worker loop — removes every expired output that is still the file written,
and records how many (``output:purge``). It costs one indexed query when nothing is due.

The app deletes only what it wrote: a file moved away is recorded ``missing``; a file replaced or changed
since (another inode, size or time) is left alone and recorded ``changed``. Deleting is ``unlink``: the
storage layer, not the app, decides whether the blocks are overwritten — the encryption of every file of
specific personal information is what protects a medium (docs/runbooks/media.md).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from django.db import transaction

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain.media import expires_at
from jutaku.exchange.models import MediaLedgerEntry, OutputFile

#: Expired outputs handled per pass (a backlog is worked off over the next commands).
BATCH: Final = 500
#: Outcomes of a purge (OutputFile.Outcome).
EXPIRED: Final = "expired"
FORCED: Final = "forced"
DOWNLOADED: Final = "downloaded"
REPLACED: Final = "replaced"
MISSING: Final = "missing"
CHANGED: Final = "changed"


class OutputRefused(Exception):
    """A purge that is not allowed (message in Japanese, no personal data)."""


@dataclass(frozen=True)
class PurgeResult:
    removed: int = 0
    missing: int = 0
    changed: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.removed + self.missing + self.changed


def identity_of(path: Path) -> str:
    """device:inode:size:mtime_ns of the file at ``path`` (not following a symbolic link)."""
    st = path.lstat()
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def track(path: Path, *, interface: str, actor: Actor, entry: MediaLedgerEntry | None, now: datetime) -> OutputFile:
    """Record a file just written (call in the transaction of its ledger row). An older live output at the
    same path has just been replaced by this one and is closed as such."""
    target = path.resolve()
    OutputFile.objects.filter(path=str(target), purged_at__isnull=True).update(
        purged_at=now, purge_outcome=REPLACED, purged_by=actor.username)
    return OutputFile.objects.create(
        path=str(target), name=target.name[:255], interface=interface[:40], media_entry=entry,
        username=actor.username, created_at=now, identity=identity_of(target),
        expires_at=expires_at(now, config.get().output_retention_days))


def _dispose(output: OutputFile) -> str | None:
    """Remove the output's file if it is still the one written; return the outcome (None: could not)."""
    path = Path(output.path)
    try:
        same = identity_of(path) == output.identity
    except FileNotFoundError:
        return MISSING
    except OSError:
        return None
    if not same:
        return CHANGED
    try:
        path.unlink()
    except FileNotFoundError:
        return MISSING
    except OSError:
        return None
    _drop_empty_task_folder(path.parent)
    return EXPIRED


def _drop_empty_task_folder(folder: Path) -> None:
    """A web task's own folder under the downloads folder goes with its last file."""
    root = config.get().downloads_dir
    if folder != root and folder.is_relative_to(root):
        with contextlib.suppress(OSError):  # not empty (another file still waits), or already gone
            folder.rmdir()


def _close(rows: Iterable[tuple[OutputFile, str]], *, outcome: str, actor: Actor, now: datetime,
           audit: bool = True) -> Counter[str]:
    """Mark each row purged with its outcome (a row another process closed first is skipped); audited."""
    done: Counter[str] = Counter()
    objects: list[str] = []
    with transaction.atomic():
        for output, result in rows:
            if OutputFile.objects.filter(pk=output.pk, purged_at__isnull=True).update(
                    purged_at=now, purge_outcome=result, purged_by=actor.username):
                done[result] += 1
                objects.append(f"output:{output.pk}")
        if done and audit:
            record(AuditEvent.OUTPUT_PURGE, actor=actor, objects=objects[:100], outcome=outcome,
                   detail={"files": done[EXPIRED] + done[FORCED], "missing": done[MISSING],
                           "changed": done[CHANGED]})
    return done


def purge_expired(now: datetime | None = None, *, actor: Actor | None = None) -> PurgeResult:
    """Remove every output past its expiry (at most :data:`BATCH` per call); the housekeeping task."""
    now = now or datetime.now(UTC)
    actor = actor or Actor("system", "127.0.0.1")
    due = list(OutputFile.objects.filter(purged_at__isnull=True, expires_at__lte=now).order_by("expires_at", "id")
               [:BATCH])
    if not due:
        return PurgeResult()
    disposed = [(output, _dispose(output)) for output in due]
    done = _close([(o, r) for o, r in disposed if r is not None], outcome="expired", actor=actor, now=now)
    return PurgeResult(done[EXPIRED], done[MISSING], done[CHANGED],
                       failed=sum(1 for _, r in disposed if r is None))


def purge_output(output_id: int, *, actor: Actor, now: datetime | None = None) -> str:
    """Remove one live output before its expiry: only the user who wrote it may (they know its purpose is
    over; anyone else waits for the expiry). Returns the outcome."""
    require(actor, Permission.OUTPUTS_PURGE)
    now = now or datetime.now(UTC)
    output = OutputFile.objects.filter(pk=output_id, purged_at__isnull=True).first()
    if output is None:
        raise OutputRefused(f"出力ファイル #{output_id} はありません（削除済みか、存在しない番号です）。")
    if output.username != actor.username and output.expires_at > now:
        raise OutputRefused(f"出力ファイル #{output_id} は {output.username} が作成したものです。"
                            "保存期間内に削除できるのは作成した本人だけです。")
    result = _dispose(output)
    if result is None:
        raise OutputRefused(f"出力ファイル #{output_id} を削除できませんでした（ファイルの権限を確認してください）。")
    outcome = FORCED if result == EXPIRED and output.expires_at > now else result
    _close([(output, outcome)], outcome="forced", actor=actor, now=now)
    return outcome


def forget(path: Path, *, outcome: str, actor: Actor, now: datetime | None = None) -> int:
    """A tracked file another mechanism has just removed and audited (a web download taken or expired):
    close its row."""
    now = now or datetime.now(UTC)
    rows = list(OutputFile.objects.filter(path=str(path.resolve()), purged_at__isnull=True))
    return sum(_close([(o, outcome) for o in rows], outcome=outcome, actor=actor, now=now, audit=False).values())


def live(*, actor: Actor, include_purged: bool = False, limit: int = 100) -> list[OutputFile]:
    """The outputs still on disk (or, ``include_purged``, every recent one), newest first."""
    require(actor, Permission.OUTPUTS_VIEW)
    query = OutputFile.objects.all() if include_purged else OutputFile.objects.filter(purged_at__isnull=True)
    return list(query.order_by("-id")[:max(1, min(limit, 1000))])


def due_count(now: datetime | None = None) -> int:
    return OutputFile.objects.filter(purged_at__isnull=True, expires_at__lte=now or datetime.now(UTC)).count()


# --- the outputs of a job, for a rerun ------------------------------------------------------------

@dataclass(frozen=True)
class EarlierOutput:
    """A file of one interface already written for a job: where it went and what became of it."""

    name: str
    written_at: datetime
    path: str = ""
    purged_at: datetime | None = None
    purge_outcome: str = ""

    def describe(self) -> str:
        """In Japanese, for the person rerunning the job (JST times, no personal data)."""
        from jutaku.domain.jst import format_time as when

        made = f"{when(self.written_at)} に作成済み"
        if self.purged_at is not None:
            label = dict(OutputFile.Outcome.choices).get(self.purge_outcome, self.purge_outcome)
            return f"{self.name}（{made}、{when(self.purged_at)} {label}。再作成はしません）"
        if self.path and not Path(self.path).exists():
            return f"{self.path}（{made}。ファイルは移動または削除されています。再作成はしません）"
        return f"{self.path or self.name}（{made}）"


def earlier_output(job_id: int, interface: str) -> EarlierOutput | None:
    """The last file of ``interface`` written for job ``job_id`` (media ledger), or ``None`` if none was.

    A rerun of a completed job writes its lists only when this is ``None`` (issue 13 item 7): the run that
    completed the job was killed before writing them. A file that was written and has since been removed
    — by the output retention on purpose, or moved away by a person — is reported, not written again.
    """
    entry = (MediaLedgerEntry.objects.filter(direction=MediaLedgerEntry.Direction.WRITE, job_id=job_id,
                                             interface=interface, outcome="ok").order_by("-id").first())
    if entry is None:
        return None
    output = OutputFile.objects.filter(media_entry=entry).order_by("id").first()  # the file, then its manifest
    if output is None:
        return EarlierOutput(entry.file_name, entry.at)
    return EarlierOutput(output.name, entry.at, output.path, output.purged_at, output.purge_outcome or "")
