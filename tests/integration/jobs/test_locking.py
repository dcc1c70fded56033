"""Single runner per kind (REL-03): the OS lock, the PostgreSQL advisory lock, and the refusal record."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from jutaku.audit.events import AuditEvent
from jutaku.jobs import locks
from jutaku.jobs.errors import JobBusy
from jutaku.jobs.models import Job, JobState
from jutaku.jobs.runner import run_job

from .conftest import events_of, make_handler, make_items, sha

pytestmark = pytest.mark.django_db(transaction=True)


def run(actor, **kwargs):
    return run_job("test.import", items=make_items(20), input_sha256=sha("A"), input_name="a.csv",
                   actor=actor, handler=make_handler(), chunk_size=5, progress=False, **kwargs)


def test_a_second_run_of_the_same_kind_is_refused_while_the_lock_is_held(items_table, actor):
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with locks.kind_lock("test.import"):
                holding.set()
                release.wait(30)
        finally:
            connection.close()  # this thread's own connection (PostgreSQL advisory session)
            done.set()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(30)
    try:
        with pytest.raises(JobBusy, match=r"another 'test\.import' job is running"):
            run(actor)
    finally:
        release.set()
        thread.join(30)

    refused = Job.objects.get()
    assert (refused.state, refused.error_code, refused.cursor) == (JobState.REFUSED, "J_BUSY", 0)
    assert events_of(refused.pk) == [AuditEvent.JOB_REFUSE]
    assert run(actor).state == "completed"  # released when the holder let go


def test_locks_of_different_kinds_are_independent(items_table, actor):
    with locks.kind_lock("test.other"):
        assert run(actor).state == "completed"


def test_the_lock_is_free_again_after_a_failed_run(items_table, actor):
    with pytest.raises(RuntimeError):
        run_job("test.import", items=make_items(20), input_sha256=sha("A"), input_name="a.csv", actor=actor,
                handler=make_handler(fail_at=7), chunk_size=5, progress=False)
    with locks.kind_lock("test.import"):
        pass


def test_a_holder_on_another_host_is_seen_through_the_advisory_lock(items_table, actor, pg_tier, monkeypatch):
    if not pg_tier:
        pytest.skip("PostgreSQL tier only: SQLite is single-host")
    import psycopg

    monkeypatch.setattr(locks, "PG_LOCK_GRACE_SECONDS", 0.3)
    settings = connection.settings_dict
    other = psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
                            port=settings["PORT"] or 5432, password=settings["PASSWORD"] or None, autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [locks.advisory_key("test.import")])
        with pytest.raises(JobBusy, match="another host"):
            run(actor)
    finally:
        other.close()  # the session ends: its lock goes with it
    assert run(actor).state == "completed"
