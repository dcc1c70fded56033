"""The shell a bulk deletion leaves is an invariant of the database too (style habit 6; ADR 0013): a
deleted person's entry with any personal field left is refused by the constraint ``person_erased_is_blank``,
and only a deleted entry may lack a birth date or a sex code. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction

from jutaku.domain.retention import ERASED
from jutaku.registry.models import Person

pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime(2026, 11, 28, tzinfo=UTC)
LIVE = {"kind": "1", "household_no": "500000001", "relationship": "01", "housing_category": "1", "housing_code": "A-101",
        "name": "都営 太郎", "name_kana": "トエイ タロウ", "kana_key": "トエイタロウ", "birth_date": date(1970, 1, 23), "sex": "1",
        "postal_code": "1638001", "address": "東京都新宿区西新宿二丁目8番1号", "status": "2", "updated_at": NOW}


def _refused(**fields: object) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(person_id="1000000002", **fields)


def test_a_shell_is_blank_but_for_its_categories_and_nothing_else_may_be_left() -> None:
    shell = Person.objects.create(person_id="1000000001", **{**LIVE, **ERASED, "deleted_at": NOW})
    assert shell.is_erased and shell.status == "2" and shell.housing_category == "1"
    for field, value in (("name", "都営 太郎"), ("address", "東京都"), ("birth_date", date(1970, 1, 23)),
                         ("household_no", "500000001"), ("non_disclosure", True), ("sex", "1")):
        _refused(**{**LIVE, **ERASED, "deleted_at": NOW, field: value})


def test_only_a_deleted_entry_may_lack_a_birth_date_or_a_sex() -> None:
    _refused(**{**LIVE, "birth_date": None})
    _refused(**{**LIVE, "sex": ""})
    assert not Person.objects.create(person_id="1000000003", **LIVE).is_erased
