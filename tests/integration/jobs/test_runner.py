"""The chunked runner: per-chunk atomicity, resume, dry run, duplicates, refusals (REL-01/03/05)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction

from jutaku.audit.events import AuditEvent
from jutaku.audit.service import verify
from jutaku.jobs.errors import JobError, JobOptionsConflict
from jutaku.jobs.models import Job, JobState
from jutaku.jobs.runner import ChunkContext, run_job

from .conftest import audited_objects, events_of, make_handler, make_items, sha, stored_items

pytestmark = pytest.mark.django_db(transaction=True)

N, CHUNK = 230, 50  # five chunks, the last one short
INPUT = sha("synthetic input A")


def expected_rows() -> list[tuple[int, str]]:
    return [(i, item) for i, item in enumerate(make_items(N)) if i % 7 != 3]


def clean_counts() -> dict[str, int]:
    rejected = sum(1 for i in range(N) if i % 7 == 3)
    return {"E07": rejected, "ok": N - rejected}


def run(actor, handler=None, **kwargs):
    kwargs.setdefault("input_sha256", INPUT)
    kwargs.setdefault("input_name", "persons.csv")
    return run_job(
        "test.import", items=iter(make_items(N)), actor=actor, handler=handler or make_handler(),
        chunk_size=CHUNK, progress=False, **kwargs,
    )


def test_a_clean_run_applies_each_item_once_and_completes(items_table, actor):
    result = run(actor, total=N)

    assert (result.state, result.cursor, result.counts) == ("completed", N, clean_counts())
    assert not result.duplicate and not result.resumed
    assert stored_items() == expected_rows()
    assert audited_objects() == [f"{i:010d}" for i, _ in expected_rows()]
    job = Job.objects.get()
    assert (job.total, job.actor_username, job.actor_terminal) == (N, "clerk01", "10.0.0.21")
    assert job.started_at and job.finished_at and job.heartbeat_at
    assert events_of(job.pk)[0] == AuditEvent.JOB_START
    assert events_of(job.pk)[-1] == AuditEvent.JOB_FINISH
    assert Counter(events_of(job.pk))[AuditEvent.JOB_CHUNK] == 5
    assert verify().ok


def test_a_failure_in_chunk_3_keeps_chunks_1_and_2_and_the_rerun_resumes_to_a_clean_result(items_table, actor):
    with pytest.raises(RuntimeError):
        run(actor, handler=make_handler(fail_at=2 * CHUNK + 7))

    job = Job.objects.get()
    assert (job.state, job.cursor, job.error_code) == (JobState.FAILED, 2 * CHUNK, "J_HANDLER")
    assert "row-" not in job.error_message  # the exception text is never copied (no personal data)
    assert stored_items() == [r for r in expected_rows() if r[0] < 2 * CHUNK]
    assert events_of(job.pk)[-1] == AuditEvent.JOB_FAIL

    seen: list[int] = []
    result = run(actor, handler=make_handler(seen=seen))

    assert result.resumed and result.job_id == job.pk
    assert seen[0] == 2 * CHUNK  # the committed items are skipped, not re-applied
    assert (result.state, result.cursor, result.counts) == ("completed", N, clean_counts())
    assert stored_items() == expected_rows()
    assert audited_objects() == [f"{i:010d}" for i, _ in expected_rows()]  # exactly once, in order
    assert AuditEvent.JOB_RESUME in events_of(job.pk)
    assert Job.objects.filter(state=JobState.COMPLETED).count() == 1
    assert verify().ok


def test_a_handler_raising_job_error_keeps_its_code_and_message(items_table, actor):
    def handler(chunk: list[tuple[int, str]], ctx: ChunkContext) -> dict[str, int]:
        raise JobError("E90", "layout version not supported")

    with pytest.raises(JobError):
        run(actor, handler=handler)

    job = Job.objects.get()
    assert (job.state, job.error_code, job.error_message) == ("failed", "E90", "layout version not supported")


def test_an_audit_failure_rolls_back_its_chunk_and_fails_the_job(items_table, actor):
    from jutaku.audit.service import AuditEntry, InvalidAuditContent, record_many

    def handler(chunk: list[tuple[int, str]], ctx: ChunkContext) -> dict[str, int]:
        make_handler()(chunk, ctx)
        if chunk[0][0] == CHUNK:  # chunk 2 tries to audit an object the audit trail refuses
            record_many([AuditEntry(AuditEvent.PERSON_IMPORT, ("bad id",))], actor=ctx.actor)
        return {"ok": len(chunk)}

    with pytest.raises(InvalidAuditContent):
        run(actor, handler=handler)

    assert max(i for i, _ in stored_items()) < CHUNK
    assert Job.objects.get().cursor == CHUNK
    assert verify().ok


def test_a_dry_run_reports_the_counts_and_changes_nothing(items_table, actor):
    result = run(actor, dry_run=True)

    assert (result.state, result.dry_run, result.cursor, result.counts) == ("completed", True, N, clean_counts())
    assert stored_items() == []
    assert audited_objects() == []
    assert Job.objects.get().dry_run
    assert verify().ok

    real = run(actor)  # a dry run never counts as having applied the input
    assert not real.duplicate and real.job_id != result.job_id
    assert stored_items() == expected_rows()


def test_rerunning_a_completed_input_is_a_reported_no_op(items_table, actor):
    first = run(actor)
    calls: list[int] = []

    second = run(actor, handler=make_handler(seen=calls))

    assert second.duplicate and second.job_id == first.job_id
    assert calls == []
    assert Job.objects.count() == 1
    assert events_of(first.job_id)[-1] == AuditEvent.JOB_REFUSE


def test_a_job_whose_process_died_is_resumed(items_table, actor):
    with pytest.raises(RuntimeError):
        run(actor, handler=make_handler(fail_at=3 * CHUNK))
    Job.objects.update(state=JobState.RUNNING, error_code="")  # as if the process had been killed

    result = run(actor)

    assert result.resumed and result.state == "completed"
    assert stored_items() == expected_rows()
    events = events_of(result.job_id)
    assert events.index(AuditEvent.JOB_FAIL) < len(events) - 1 - events[::-1].index(AuditEvent.JOB_RESUME)


def test_a_dead_run_of_another_input_is_marked_crashed_and_does_not_block(items_table, actor):
    dead = Job.objects.create(kind="test.import", input_sha256=sha("other"), state=JobState.RUNNING,
                              actor_username="clerk02", actor_terminal="10.0.0.22")

    result = run(actor)

    dead.refresh_from_db()
    assert (dead.state, dead.error_code) == (JobState.FAILED, "J_CRASHED")
    assert result.state == "completed"


def test_resuming_with_other_options_is_refused(items_table, actor):
    with pytest.raises(RuntimeError):
        run(actor, handler=make_handler(fail_at=CHUNK), options={"mode": "strict"})

    with pytest.raises(JobOptionsConflict, match="different options"):
        run(actor, options={"mode": "lenient"})

    refused = Job.objects.get(state=JobState.REFUSED)
    assert refused.error_code == "J_OPTIONS"
    assert events_of(refused.pk) == [AuditEvent.JOB_REFUSE]
    assert run(actor, options={"mode": "strict"}).resumed


def test_run_job_refuses_to_run_inside_a_transaction(items_table, actor):
    with transaction.atomic(), pytest.raises(RuntimeError, match=r"outside transaction\.atomic"):
        run(actor)


def test_the_input_name_keeps_only_a_base_name_and_never_a_my_number(items_table, actor):
    assert run(actor, input_name="/data/受付/persons.csv").job.input_name == "persons.csv"
    valid_my_number = "123456789018"
    named = run(actor, input_sha256=sha("B"), input_name=f"/srv/in/{valid_my_number}.csv",
                handler=lambda chunk, ctx: {"ok": len(chunk)})
    assert named.job.input_name == "(name withheld)"


def test_a_negative_count_fails_the_job(items_table, actor):
    with pytest.raises(ValueError, match="negative"):
        run(actor, handler=lambda chunk, ctx: {"ok": -1})
    assert Job.objects.get().state == JobState.FAILED


def test_an_empty_input_completes_with_no_counts(items_table, actor):
    result = run_job("test.import", items=[], input_sha256=sha("empty"), input_name="empty.csv",
                     actor=actor, handler=make_handler(), progress=False)
    assert (result.state, result.cursor, result.counts, result.job.total) == ("completed", 0, {}, 0)
