"""Migration linkage 0003 / juki 0002 (ADR 0011) on data: requests made before dispatches existed get one
dispatch per (create job, file, time sent), ``created``/``sent`` become ``open``, and the file's hash and
count move to the dispatch. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("linkage", "0002_inquiryrequest_inquiryresult_and_more"), ("juki", "0001_initial")]
AFTER = [("linkage", "0003_dispatch"), ("juki", "0002_dispatch")]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.usefixtures("back_to_latest")
def test_requests_made_before_dispatches_keep_their_history() -> None:
    old = _migrate(BEFORE)
    try:
        Person = old.get_model("registry", "Person")
        LinkageRequest = old.get_model("linkage", "LinkageRequest")
        JukiQuery = old.get_model("juki", "JukiQuery")
        at = datetime(2026, 5, 1, tzinfo=UTC)
        persons = [Person.objects.create(
            person_id=f"{1000000001 + i}", kind="1", household_no=f"H{i}", relationship="01",
            housing_category="1", housing_code="A1", name="都営 太郎", name_kana="トエイ タロウ", kana_key="トエイタロウ", birth_date=date(1970, 1, 23),
            sex="1", address="東京都", status="1", status_date=date(2026, 4, 1), updated_at=at) for i in range(4)]
        sent = dict(sent_at=at, sent_file_sha256="a" * 64)
        LinkageRequest.objects.create(request_no="LK0000000001", person=persons[0], state="sent", created_at=at,
                                      created_job=1, **sent)
        LinkageRequest.objects.create(request_no="LK0000000002", person=persons[1], state="answered", created_at=at,
                                      created_job=1, **sent)
        LinkageRequest.objects.create(request_no="LK0000000003", person=persons[2], state="created", created_at=at,
                                      created_job=2)
        JukiQuery.objects.create(query_no="JK0000000001", person=persons[3], fiscal_year=2026, state="sent",
                                 created_at=at, created_job=3, sent_at=at, sent_file_sha256="b" * 64)
    finally:
        new = _migrate(AFTER)
    Dispatch = new.get_model("linkage", "Dispatch")
    states = dict(new.get_model("linkage", "LinkageRequest").objects.values_list("request_no", "state"))
    assert states == {"LK0000000001": "open", "LK0000000002": "answered", "LK0000000003": "open"}
    dispatches = {(d.kind, d.created_job): d for d in Dispatch.objects.all()}
    assert set(dispatches) == {("linkage", 1), ("linkage", 2), ("juki", 3)}
    assert (dispatches[("linkage", 1)].sent_file_sha256, dispatches[("linkage", 1)].sent_rows) == ("a" * 64, 2)
    assert dispatches[("linkage", 2)].sent_at is None and dispatches[("linkage", 2)].sent_rows is None
    query = new.get_model("juki", "JukiQuery").objects.get()
    assert (query.state, query.dispatch_id) == ("open", dispatches[("juki", 3)].pk)
