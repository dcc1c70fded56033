"""Migration retention 0003 (issue 12, ADR 0013) on data: a person deleted before the change — number,
answers and key gone, everything else left — becomes a shell like a person deleted now: register entry
blanked, filings, status history, requests, rejection rows and request notes gone. What a person who came
back after the deletion brought is kept. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("back_to_latest")]
BEFORE = [("registry", "0002_filings_and_non_disclosure"), ("retention", "0001_initial"), ("linkage", "0003_dispatch"),
          ("juki", "0002_dispatch"), ("subjects", "0001_initial"), ("jobs", "0002_task_download")]
AFTER = [("retention", "0003_deletion_erase_earlier")]
DELETED_AT = datetime(2026, 6, 1, tzinfo=UTC)
EARLIER, LATER = DELETED_AT - timedelta(days=30), DELETED_AT + timedelta(days=30)


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _person(old, pid: str, at: datetime):  # type: ignore[no-untyped-def]
    return old.get_model("registry", "Person").objects.create(
        person_id=pid, kind="1", household_no="500000001", relationship="01", housing_category="1", housing_code="A1",
        name="都営 太郎", name_kana="トエイ タロウ", kana_key="トエイタロウ", birth_date=date(1970, 1, 23), sex="1",
        address="東京都新宿区", status="2", status_date=date(2026, 4, 1), updated_at=at, non_disclosure=True,
        non_disclosure_since=at)


def _history(old, person, at: datetime) -> None:  # type: ignore[no-untyped-def]
    filing = old.get_model("registry", "Filing").objects.create(
        receipt_no=f"P{person.person_id}", procedure_code="JT99000000530001", fiscal_year=2026, received_date=at.date(),
        applicant=person, person=person, consent=True, non_disclosure_wish=True, updated_at=at)
    old.get_model("registry", "StatusChange").objects.create(person=person, new_status="2", recorded_at=at)
    dispatch = old.get_model("linkage", "Dispatch").objects.create(kind="inquiry", created_at=at)
    old.get_model("linkage", "InquiryRequest").objects.create(
        request_no=f"IQ{person.person_id}", filing=filing, person=person, procedure_code="JT99000000530001",
        info_code="TM99000000000001", fiscal_year=2026, non_disclosure="2", state="open", created_at=at,
        dispatch=dispatch)
    job = old.get_model("jobs", "Job").objects.create(kind="register-kit", input_sha256="a" * 64,
                                                      actor_username="system", actor_terminal="-", created_at=at)
    old.get_model("registry", "ImportRejection").objects.create(job_id=job.pk, line_no=int(person.person_id[-1]),
                                                                person_id=person.person_id, code="E03", reason="不一致")
    old.get_model("subjects", "SubjectRequest").objects.create(person=person, kind="suspension", received_on=at.date(),
                                                               received_by="reg.ito", note="都営 太郎 様より")


def test_persons_deleted_before_the_change_become_shells_and_a_returned_person_keeps_what_is_new() -> None:
    old = _migrate(BEFORE)
    try:
        gone, back, alive = _person(old, "1000000001", EARLIER), _person(old, "1000000002", LATER), \
            _person(old, "1000000003", EARLIER)
        for person in (gone, alive):
            _history(old, person, EARLIER)
        for person in (gone, back):
            old.get_model("retention", "DeletionRecord").objects.create(
                deletion_no="DL0000000001", approval_id=1, person=person, person_ref=person.person_id, reason="1",
                executed_at=DELETED_AT, requested_by="reg.ito", approved_by="sv.sato", items="個人番号", method="行削除")
    finally:
        new = _migrate(AFTER)
    Person = new.get_model("registry", "Person")
    shell = Person.objects.get(person_id="1000000001")
    assert (shell.name, shell.name_kana, shell.address, shell.household_no, shell.birth_date, shell.sex) == \
        ("", "", "", "", None, "")
    assert shell.deleted_at == DELETED_AT and not shell.non_disclosure and shell.status == "2"
    for app, name in (("registry", "Filing"), ("registry", "StatusChange"), ("linkage", "InquiryRequest")):
        assert not new.get_model(app, name).objects.filter(person=shell).exists(), name
    assert not new.get_model("registry", "ImportRejection").objects.filter(person_id="1000000001").exists()
    assert new.get_model("subjects", "SubjectRequest").objects.get(person=shell).note == ""
    # Updated after the deletion (they came back): kept. Never deleted: untouched.
    returned = Person.objects.get(person_id="1000000002")
    assert returned.name == "都営 太郎" and returned.deleted_at is None
    kept = Person.objects.get(person_id="1000000003")
    assert kept.name == "都営 太郎" and new.get_model("registry", "Filing").objects.filter(person=kept).exists()
    assert new.get_model("subjects", "SubjectRequest").objects.get(person=kept).note == "都営 太郎 様より"
