"""An interrupted command says what its jobs had committed, never a rollback it did not make (issue 13 item 5)."""

from __future__ import annotations

from jutaku.jobs.failures import describe_job
from jutaku.jobs.models import Job, JobState


def job(**fields: object) -> Job:
    return Job(pk=7, kind="register-kit", **fields)


def test_a_failed_job_names_its_committed_items_and_chunks_and_where_it_resumes() -> None:
    text = describe_job(job(state=JobState.FAILED, cursor=100_000, chunks=2, total=212_000))
    assert "ジョブ #7（register-kit）は 100,000 / 212,000 件（2 単位）を確定済みです" in text
    assert "確定した分は取り消されていません" in text and "100,001 件目から再開します" in text
    assert "jutaku jobs show 7" in text


def test_a_job_that_committed_nothing_says_so() -> None:
    text = describe_job(job(state=JobState.FAILED, cursor=0, chunks=0))
    assert "何も確定していません" in text and "確定済み" not in text


def test_a_completed_job_says_the_failure_came_after_it() -> None:
    text = describe_job(job(state=JobState.COMPLETED, cursor=212, chunks=5))
    assert "完了しています（212 件を確定済み）" in text and "その後の処理" in text


def test_a_dry_run_changed_nothing() -> None:
    assert "何も変更していません" in describe_job(job(state=JobState.FAILED, cursor=50, dry_run=True))


def test_no_message_claims_everything_was_rolled_back() -> None:
    for state, cursor in ((JobState.FAILED, 5), (JobState.RUNNING, 5), (JobState.COMPLETED, 5)):
        assert "変更は取り消されました" not in describe_job(job(state=state, cursor=cursor, chunks=1))
