"""`jutaku jobs` commands, and the conventions every job command follows.

A command that runs a job (import, register, export, ...) takes ``--dry-run`` (:data:`dry_run_option`):
the same handler runs and the same outcome counts are reported, but every chunk is rolled back; only the
job row, marked as a dry run, remains. It wraps :func:`jutaku.jobs.runner.run_job` in
:func:`refusals_exit` so that a busy lock or an options conflict exits 2 with a clear message.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, echo_table, requires
from jutaku.domain.jst import format_time
from jutaku.jobs.errors import JobRefused

dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Run every check and report the counts, but roll back every change (only the job row stays).",
)


@contextlib.contextmanager
def refusals_exit() -> Iterator[None]:
    """Turn a refused run (another run holds the lock, options conflict) into exit code 2."""
    try:
        yield
    except JobRefused as exc:
        raise Refused(str(exc)) from exc


@click.group(name="jobs")
def jobs() -> None:
    """The job ledger."""


@jobs.command(name="list")
@click.option("--kind", default=None, help="Only jobs of this kind (import-targets, register-kit, inquiry-create, …).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@requires(Permission.JOBS_VIEW)
def list_jobs(kind: str | None, limit: int, as_json: bool) -> None:
    """The latest jobs, newest first; a job whose process died is shown 中断, with the command to resume it."""
    from jutaku.domain.jobs import kind_label
    from jutaku.jobs.models import Job
    from jutaku.jobs.status import shown

    query = Job.objects.all() if kind is None else Job.objects.filter(kind=kind)
    rows = list(query.order_by("-id")[:limit])
    states = shown(rows)
    if as_json:
        for job in rows:
            click.echo(json.dumps(job_summary(job, states[job.pk]), ensure_ascii=False))
        return
    table = []
    for job in rows:
        s = job_summary(job, states[job.pk])
        done = f"{s['cursor']:,}/{'?' if s['total'] is None else format(s['total'], ',')}"
        table.append([s["id"], kind_label(s["kind"]), s["status_label"], "試行" if s["dry_run"] else "", done,
                      format_time(job.created_at), s["input_name"]])
    echo_table(["番号", "種類", "状態", "試行", "処理件数", "作成日時", "入力"], table, right={0, 4})
    for job in rows:
        if states[job.pk].hint:
            click.echo(f"#{job.pk} {states[job.pk].label}: {states[job.pk].hint}")


@jobs.command(name="show")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the job as one JSON object.")
@requires(Permission.JOBS_VIEW)
def show_job(job_id: int, as_json: bool) -> None:
    """One job: state, progress, who ran it, and counts by outcome code."""
    from jutaku.domain.jobs import kind_label
    from jutaku.jobs.labels import count_rows
    from jutaku.jobs.models import Job
    from jutaku.jobs.status import shown_one

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise Refused(f"there is no job #{job_id}")
    s = job_summary(job, shown_one(job))
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False))
        return
    times = {key: format_time(getattr(job, key)) for key in ("created_at", "started_at", "heartbeat_at", "finished_at")
             if getattr(job, key) is not None}
    shown = {**s, **times, "kind": kind_label(s["kind"]),
             "dry_run": "はい（何も変更していません）" if s["dry_run"] else ""}
    echo_table(["項目", "内容"], [[label, shown[key]] for key, label in _SHOWN if shown[key] not in (None, "")])
    click.echo("")
    echo_table(["結果コード", "件数", "内容"], [[code, f"{n:,}", label] for code, label, n in count_rows(job.kind, s["counts"])],
               right={1}, empty="結果: なし")


#: What `jutaku jobs show` prints of a job, in order, with the words for it.
_SHOWN = (("id", "番号"), ("kind", "種類"), ("status_label", "状態"), ("dry_run", "試行"), ("input_name", "入力"),
          ("input_sha256", "入力のSHA-256"), ("cursor", "処理済み件数"), ("total", "総件数"), ("actor", "実行者"),
          ("created_at", "作成日時"), ("started_at", "開始日時"), ("heartbeat_at", "最終応答"),
          ("finished_at", "終了日時"), ("error_code", "エラーコード"), ("error_message", "エラー内容"),
          ("resume", "再開の方法"))


def job_summary(job: Any, shown: Any = None) -> dict[str, Any]:
    """A job as plain data (times ISO 8601 with the JST offset, for ``--json``); no personal data is stored on
    the row. ``state`` is the row's; ``status`` what is shown (:mod:`jutaku.jobs.status`: a dead owner's
    running row is interrupted)."""
    from jutaku.domain.jst import to_jst
    from jutaku.jobs.status import shown_one

    shown = shown or shown_one(job)

    def when(value: Any) -> str | None:
        return None if value is None else to_jst(value).isoformat(timespec="seconds")

    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "status": str(shown.status),
        "status_label": shown.label,
        "resume": shown.hint,
        "dry_run": job.dry_run,
        "input_name": job.input_name,
        "input_sha256": job.input_sha256,
        "cursor": job.cursor,
        "total": job.total,
        "counts": dict(sorted(job.counts.items())),
        "actor": f"{job.actor_username}@{job.actor_terminal}",
        "created_at": when(job.created_at),
        "started_at": when(job.started_at),
        "heartbeat_at": when(job.heartbeat_at),
        "finished_at": when(job.finished_at),
        "error_code": job.error_code,
        "error_message": job.error_message,
        "options": job.options,
    }
