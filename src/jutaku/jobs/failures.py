"""What an interrupted command had committed, told to the person who ran it (issue 13 item 5, REL-05).

A job commits chunk by chunk (ADR 0006): when an unexpected error stops a command, only the open chunk
is rolled back; every chunk before it stays. Saying "the changes were rolled back" would then be false,
and an operator who believes it may load the file again elsewhere or re-key it by hand. So the message
names each job the command ran, from its row: how many items and chunks are committed, and the command
that continues it (the same command over the same input resumes after the cursor; a completed input is
never applied twice). The text is Japanese, for staff, and holds no personal data (job rows hold none).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import Error as DatabaseError

from jutaku.jobs.models import Job, JobState

#: When even the job rows cannot be read (the database may be what failed).
UNKNOWN = ("確定済みの範囲を確認できませんでした。jutaku jobs list で確認してから、同じコマンドをもう一度"
           "実行してください（確定済みの分は二重に適用されません）。")
NO_JOB = "この処理ではジョブは実行されていません。中止した時点で未確定だった変更は取り消されました。"


def describe_job(job: Job) -> str:
    """One job's committed state and how to continue it, in Japanese."""
    name = f"ジョブ #{job.pk}（{job.kind}）"
    if job.dry_run:
        return f"{name}は試行（dry run）で、何も変更していません。"
    if job.state == JobState.COMPLETED:
        return (f"{name}は完了しています（{job.cursor:,} 件を確定済み）。中止したのはその後の処理です。"
                f"同じコマンドをもう一度実行しても確定済みの件は二重に適用されません（jutaku jobs show {job.pk}）。")
    if job.cursor == 0:
        return (f"{name}は何も確定していません（最初の単位の変更は取り消されました）。"
                "同じコマンドを同じ入力でもう一度実行すると、最初から実行します。")
    total = f" / {job.total:,}" if job.total is not None else ""
    return (f"{name}は {job.cursor:,}{total} 件（{job.chunks:,} 単位）を確定済みです。確定した分は取り消されて"
            f"いません（取り消されたのは処理中だった単位だけです）。同じコマンドを同じ入力でもう一度実行すると、"
            f"{job.cursor + 1:,} 件目から再開します（jutaku jobs show {job.pk}）。")


def committed_summary(job_ids: Iterable[int]) -> str:
    """What the jobs ``job_ids`` (those a command started, resumed or found done) had committed."""
    ids = list(dict.fromkeys(job_ids))
    if not ids:
        return NO_JOB
    try:
        jobs = {job.pk: job for job in Job.objects.filter(pk__in=ids)}
    except DatabaseError:
        return UNKNOWN
    lines = [describe_job(jobs[i]) for i in ids if i in jobs]
    return " ".join(lines) if lines else UNKNOWN
