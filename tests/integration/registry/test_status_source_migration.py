"""Migration registry 0004 / juki 0004 (issue 12 item 6) on data: a death Juki-net reported before status
sources existed becomes Juki-net's, so a later extract no longer undoes it; other statuses stay the
extract's, and a person whose Juki-net death an extract already undid is not changed silently.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("back_to_latest")]
BEFORE = [("registry", "0002_filings_and_non_disclosure"), ("juki", "0002_dispatch")]
AFTER = [("registry", "0004_dv_status_source_and_wishes"), ("juki", "0004_dv_death_source")]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_deaths_recorded_from_juki_net_become_juki_nets() -> None:
    old = _migrate(BEFORE)
    try:
        Person = old.get_model("registry", "Person")
        StatusChange = old.get_model("registry", "StatusChange")
        Dispatch = old.get_model("linkage", "Dispatch")
        JukiQuery = old.get_model("juki", "JukiQuery")
        JukiResult = old.get_model("juki", "JukiResult")
        at = datetime(2026, 5, 1, tzinfo=UTC)
        persons = {name: Person.objects.create(
            person_id=f"{1000000001 + i}", kind="1", household_no=f"H{i}", relationship="01", housing_category="1",
            housing_code="A1", name="都営 太郎", name_kana="トエイ タロウ", kana_key="トエイタロウ",
            birth_date=date(1970, 1, 23), sex="1", address="東京都", status=status, status_date=date(2026, 4, 1),
            updated_at=at) for i, (name, status) in enumerate(
                (("juki_dead", "4"), ("extract_dead", "4"), ("undone", "1"), ("alive", "1")))}
        dispatch = Dispatch.objects.create(kind="juki", created_at=at, created_job=1)
        for n, name in enumerate(("juki_dead", "undone")):
            query = JukiQuery.objects.create(query_no=f"JK000000000{n}", person=persons[name], fiscal_year=2026,
                                             state="answered", dispatch=dispatch, created_at=at, created_job=1)
            JukiResult.objects.create(query=query, person=persons[name], result_code="00", outcome="D02",
                                      change_reason="消除:死亡", received_at=at, job_id=7)
            StatusChange.objects.create(person=persons[name], old_status="1", new_status="4", recorded_at=at, job_id=7)
        StatusChange.objects.create(person=persons["extract_dead"], old_status="1", new_status="4", recorded_at=at,
                                    job_id=3)
    finally:
        new = _migrate(AFTER)
    sources = dict(new.get_model("registry", "Person").objects.values_list("person_id", "status_source"))
    assert sources == {"1000000001": "juki", "1000000002": "extract", "1000000003": "extract",
                       "1000000004": "extract"}
    changes = set(new.get_model("registry", "StatusChange").objects.values_list("person__person_id", "job_id",
                                                                                 "source"))
    assert changes == {("1000000001", 7, "juki"), ("1000000003", 7, "juki"), ("1000000002", 3, "extract")}
