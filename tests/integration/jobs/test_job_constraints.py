"""The job ledger's invariants, written as named database constraints (style habit 6)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from jutaku.jobs.models import Job, JobState

from .conftest import sha

pytestmark = pytest.mark.django_db


def make_job(**fields: object) -> Job:
    values: dict[str, object] = {
        "kind": "test.import", "input_sha256": sha("A"), "actor_username": "clerk01",
        "actor_terminal": "10.0.0.21", "state": JobState.FAILED,
    }
    values.update(fields)
    return Job.objects.create(**values)


def refused_by(name: str, **fields: object) -> None:
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        make_job(**fields)
    message = str(info.value)
    # PostgreSQL names every constraint; SQLite names CHECK constraints but only the columns of a unique index
    assert name in message or (connection.vendor == "sqlite" and "UNIQUE constraint failed: jobs_job." in message)


def test_a_state_outside_the_set_is_refused():
    refused_by("jobs_job_state_valid", state="paused")


def test_a_negative_cursor_is_refused():
    refused_by("jobs_job_cursor_not_negative", cursor=-1)


def test_an_input_is_completed_at_most_once_by_a_real_run():
    make_job(state=JobState.COMPLETED)
    refused_by("jobs_job_one_completed_per_input", state=JobState.COMPLETED)


def test_dry_runs_and_other_kinds_may_complete_the_same_input_again():
    make_job(state=JobState.COMPLETED)
    make_job(state=JobState.COMPLETED, dry_run=True)
    make_job(state=JobState.COMPLETED, dry_run=True)
    make_job(state=JobState.COMPLETED, kind="test.other")
    make_job(state=JobState.FAILED)
    assert Job.objects.count() == 5


def test_at_most_one_job_of_a_kind_is_running():
    make_job(state=JobState.RUNNING)
    refused_by("jobs_job_one_running_per_kind", state=JobState.RUNNING, input_sha256=sha("B"))
    make_job(state=JobState.RUNNING, kind="test.other")
