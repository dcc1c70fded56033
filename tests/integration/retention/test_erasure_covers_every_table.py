"""A deletion erases every row that names the person, the tables added after ADR 0013 included: the
Mynaportal applications (受付番号, consent, 不開示希望) and the notices of a disagreeing extract (issue 12
items 1, 5 and 6). A restore's re-application (``before``) erases only what existed at the deletion."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jutaku.registry.models import Person, PortalApplication, StatusNotice
from jutaku.retention.erasure import erase

pytestmark = pytest.mark.django_db
AT = datetime(2026, 6, 1, tzinfo=UTC)


def _person(pid: str) -> Person:
    return Person.objects.create(
        person_id=pid, kind="1", household_no="500000001", relationship="01", housing_category="1",
        housing_code="A1", name="都営 太郎", name_kana="トエイ タロウ", kana_key="トエイタロウ",
        birth_date=date(1970, 1, 23), sex="1", address="東京都新宿区", status="4", status_date=date(2026, 4, 1),
        updated_at=AT, non_disclosure=True, non_disclosure_since=AT)


def _traces(person: Person, at: datetime, receipt: str) -> None:
    PortalApplication.objects.create(receipt_no=receipt, person=person, received_at=at, consent=True,
                                     non_disclosure_wish=True, outcome="OK", recorded_at=at)
    StatusNotice.objects.create(job_id=1, person=person, code="S01", extract_status="1",
                                description="S01 住基ネットで死亡が記録されています", recorded_at=at)


def test_a_live_deletion_leaves_no_portal_application_or_status_notice() -> None:
    doomed, other = _person("1000000001"), _person("1000000002")
    _traces(doomed, AT, "202604010001")
    _traces(other, AT, "202604010002")
    counts = erase([doomed.pk], [doomed.person_id], now=AT + timedelta(days=1), job_id=None)
    assert counts["portal_applications"] == 1 and counts["status_notices"] == 1
    assert not PortalApplication.objects.filter(person=doomed).exists()
    assert not StatusNotice.objects.filter(person=doomed).exists()
    assert PortalApplication.objects.filter(person=other).count() == 1  # nobody else's


def test_a_restore_erases_only_what_existed_at_the_deletion() -> None:
    person = _person("1000000003")
    _traces(person, AT, "202604010003")
    later = AT + timedelta(days=30)  # the person came back and applied again after the deletion
    _traces(person, later, "202605010003")
    counts = erase([person.pk], [person.person_id], now=later + timedelta(days=1), job_id=None,
                   before=AT + timedelta(days=1))
    assert counts["portal_applications"] == 1 and counts["status_notices"] == 1
    assert list(PortalApplication.objects.filter(person=person).values_list("receipt_no", flat=True)) == [
        "202605010003"]
