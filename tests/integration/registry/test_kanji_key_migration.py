"""Migration registry 0005/0006 (issue 14 item 10) on data: every person held before the kanji key existed
gets it, chunk by chunk, so 髙橋 finds them at once; shells keep a blank key; running it again writes
nothing; a change of the variant table recomputes every key. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jutaku.registry import search_keys

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("back_to_latest")]
BEFORE = [("registry", "0004_dv_status_source_and_wishes")]
AFTER = [("registry", "0006_person_kanji_key_backfill")]
AT = datetime(2026, 5, 1, tzinfo=UTC)
NAMES = {"1000000001": "髙橋 一郎", "1000000002": "渡邉\U000e0102 昭", "1000000003": "齋藤　令子",
         "1000000004": "山﨑 澤子", "1000000005": "佐々木 花", "1000000006": "都営 太郎", "1000000007": "櫻井 栁"}


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _person(model, pid: str, name: str, **extra: object):  # type: ignore[no-untyped-def]
    fields = dict(kind="1", household_no="500000001", relationship="01", housing_category="1", housing_code="A1",
                  name=name, name_kana="トエイ タロウ", kana_key="トエイタロウ", birth_date=date(1970, 1, 23), sex="1",
                  address="東京都", status="1", updated_at=AT)
    fields.update(extra)
    return model.objects.create(person_id=pid, **fields)


def test_the_keys_of_persons_held_before_are_filled_chunk_by_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    old = _migrate(BEFORE)
    try:
        Person = old.get_model("registry", "Person")
        for pid, name in NAMES.items():
            _person(Person, pid, name)
        _person(Person, "1000000099", "", household_no="", relationship="", housing_code="", name_kana="",
                kana_key="", birth_date=None, sex="", address="", status="2", deleted_at=AT)  # a shell
        monkeypatch.setattr(search_keys, "CHUNK", 3)  # eight persons: three chunks, each its own transaction
    finally:
        new = _migrate(AFTER)
    Person = new.get_model("registry", "Person")
    keys = dict(Person.objects.values_list("person_id", "kanji_key"))
    assert keys == {"1000000001": "高橋一郎", "1000000002": "渡辺昭", "1000000003": "斎藤令子",
                    "1000000004": "山崎沢子", "1000000005": "佐佐木花", "1000000006": "都営太郎",
                    "1000000007": "桜井柳", "1000000099": ""}
    assert search_keys.refresh_kanji_keys(Person) == 0  # run again: nothing missing

    # A change of the variant table: keys computed under the old one are recomputed, the others left.
    Person.objects.filter(person_id="1000000001").update(kanji_key="髙橋一郎")
    assert search_keys.refresh_kanji_keys(Person, only_missing=False, chunk=2) == 1
    assert Person.objects.get(person_id="1000000001").kanji_key == "高橋一郎"


def test_the_new_column_is_indexed_and_the_birth_date_too() -> None:
    with connection.cursor() as cur:
        indexes = connection.introspection.get_constraints(cur, "registry_person")
    columns = {tuple(spec["columns"]) for spec in indexes.values() if spec["index"]}
    assert ("kanji_key",) in columns and ("birth_date",) in columns
