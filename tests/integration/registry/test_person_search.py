"""対象者検索 as staff think (issue 14 item 10, ADR 0023): the kanji name with its variants folded (髙橋 finds 高橋,
渡邉 with an IVS finds 渡辺), the birth date in 西暦 or 和暦 (S45.3.1, 昭和64年1月7日 / 平成元年1月8日), every
criterion combined with AND, still capped, each served by an index, and audited with the kinds of criteria
used — never the values. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.permissions import ROLE_PERMISSIONS, Role
from jutaku.audit.models import AuditRecord
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import TARGETS
from jutaku.registry import queries
from jutaku.registry.models import Person
from jutaku.registry.targets import import_targets
from jutaku.retention.erasure import erase
from tests.integration.registry.test_person_queries import plan

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]
CLERK = Actor("t.registrar", "127.0.0.1", ROLE_PERMISSIONS[Role.REGISTRAR])

#: 個人ID -> (氏名 as the housing system wrote it, 生年月日 as the extract carries it, 世帯番号)
PEOPLE = {
    "1000000001": ("髙橋 一郎", "19700301", "500000001"),
    "1000000002": ("高橋 花子", "19720615", "500000001"),
    "1000000003": ("高橋 次郎", "19700301", "500000002"),
    "1000000004": ("渡邉\U000e0102 昭", "19890107", "500000003"),
    "1000000005": ("渡辺 平", "19890108", "500000004"),
    "1000000006": ("齋藤 令子", "R010501", "500000005"),
    "1000000007": ("斉藤 明", "19700301", "500000006"),
    "1000000008": ("山﨑 澤子", "S450301", "500000007"),
}


def _row(pid: str, name: str, birth: str, household: str) -> dict[str, str]:
    return {"個人ID": pid, "区分": "1", "世帯番号": household, "続柄": "01", "住宅区分": "1", "住宅コード": "A1",
            "申込番号": "", "氏名": name, "氏名カナ": "トエイ タロウ", "生年月日": birth, "性別": "1",
            "郵便番号": "", "住所": "東京都新宿区西新宿二丁目8番1号", "状態": "1", "状態日付": ""}


@pytest.fixture
def register(tmp_path: Path) -> Callable[[dict[str, tuple[str, str, str]]], None]:
    def load(people: dict[str, tuple[str, str, str]]) -> None:
        path = tmp_path / f"targets-{len(list(tmp_path.iterdir()))}.csv"
        write_csv(path, TARGETS, [_row(pid, *values) for pid, values in people.items()])
        import_targets(path, actor=SYSTEM, progress=False)

    load(PEOPLE)
    return load


def found(**criteria: str) -> list[str]:
    return [r.person_id for r in queries.search_persons(actor=CLERK, **criteria).rows]


@pytest.mark.usefixtures("register")
@pytest.mark.parametrize(("typed", "expected"), [
    ("高橋", {"1000000001", "1000000002", "1000000003"}),
    ("髙橋", {"1000000001", "1000000002", "1000000003"}),
    ("髙橋　一郎", {"1000000001"}),
    ("高橋一", {"1000000001"}),
    ("渡辺", {"1000000004", "1000000005"}),
    ("渡邊", {"1000000004", "1000000005"}),
    ("渡邉\U000e0101", {"1000000004", "1000000005"}),
    ("斎藤", {"1000000006"}),  # 齋 folds to 斎; 斉 is another character (ADR 0004)
    ("斉藤", {"1000000007"}),
    ("山崎沢", {"1000000008"}),
    ("ｶﾀｶﾅ", set()),
])
def test_a_kanji_name_finds_its_variants(typed: str, expected: set[str]) -> None:
    assert set(found(name=typed)) == expected


@pytest.mark.usefixtures("register")
@pytest.mark.parametrize(("typed", "expected"), [
    ("1970-03-01", {"1000000001", "1000000003", "1000000007", "1000000008"}),
    ("S45.3.1", {"1000000001", "1000000003", "1000000007", "1000000008"}),
    ("昭和45年3月1日", {"1000000001", "1000000003", "1000000007", "1000000008"}),
    ("昭和64年1月7日", {"1000000004"}),
    ("S64.1.7", {"1000000004"}),
    ("平成元年1月8日", {"1000000005"}),
    ("H1.1.8", {"1000000005"}),
    ("R1.5.1", {"1000000006"}),
    ("令和元年5月1日", {"1000000006"}),
])
def test_a_birth_date_in_seireki_or_wareki_finds_the_same_persons(typed: str, expected: set[str]) -> None:
    result = queries.search_persons(actor=CLERK, birth_date=typed)
    assert {r.person_id for r in result.rows} == expected
    assert result.birth_date_read.endswith("日）") and "年" in result.birth_date_read  # how it was understood, both ways


@pytest.mark.usefixtures("register")
def test_every_criterion_given_must_hold() -> None:
    assert set(found(name="髙橋", birth_date="S45.3.1")) == {"1000000001", "1000000003"}
    assert found(name="髙橋", birth_date="S45.3.1", household_no="500000002") == ["1000000003"]
    assert found(name="高橋", birth_date="1970-03-01", person_id="1000000001") == ["1000000001"]
    assert found(name="高橋", kana="トエイ", birth_date="1972-06-15") == ["1000000002"]
    assert found(name="高橋", kana="ヤマダ") == []
    assert found(name="渡辺", birth_date="S64.1.7") == ["1000000004"]
    assert found(name="渡辺", birth_date="H1.1.8") == ["1000000005"]
    assert found(name="斎藤", birth_date="S45.3.1") == []


@pytest.mark.usefixtures("register")
@pytest.mark.parametrize(("fields", "message"), [
    ({"birth_date": "S64.1.8"}, "昭和は1926年12月25日から1989年1月7日まで"),
    ({"birth_date": "平成元年1月7日"}, "平成は1989年1月8日から"),
    ({"birth_date": "1970-02-30"}, "生年月日を確認してください。存在しない日付です。"),
    ({"birth_date": "昭45年"}, "生年月日を読み取れません"),
    ({"birth_date": "2999-01-01"}, "未来"),
    ({"name": "  "}, "1つ以上"),
    ({"name": "\u200b"}, "氏名（漢字）を正しく入力してください"),
    ({"name": "高" * 121}, "氏名（漢字）が長すぎます"),
    ({"name": "高橋", "birth_date": "昭和四十五年"}, "生年月日を読み取れません"),
])
def test_what_cannot_be_searched_is_refused_in_japanese_and_not_audited(fields: dict[str, str], message: str) -> None:
    with pytest.raises(queries.QueryRefused, match=message) as caught:
        queries.search_persons(actor=CLERK, **fields)
    assert all(v.strip() not in str(caught.value) for v in fields.values() if v.strip())
    assert not AuditRecord.objects.filter(event="person:search").exists()


@pytest.mark.usefixtures("register")
def test_the_audit_names_the_kinds_of_criteria_and_never_the_values() -> None:
    found(name="髙橋", birth_date="S45.3.1", household_no="500000002")
    found(birth_date="昭和64年1月7日")
    records = list(AuditRecord.objects.filter(event="person:search").order_by("pk"))
    assert [json.loads(r.detail) for r in records] == [
        {"fields": "name+birth_date+household_no", "count": 1, "more": False},
        {"fields": "birth_date", "count": 1, "more": False}]
    assert [r.object_ids for r in records] == ["1000000003", "1000000004"]
    text = "\n".join(f"{r.object_ids} {r.detail} {r.outcome}" for r in records)
    for value in ("髙橋", "高橋", "S45", "昭和", "1970", "19700301", "1989", "0301", "0107"):
        assert value not in text


def test_the_result_stays_capped(register: Callable[[dict[str, tuple[str, str, str]]], None]) -> None:
    register({f"20000000{i:02d}": ("髙橋 多数", "S450301", "600000001") for i in range(60)})
    result = queries.search_persons(actor=CLERK, name="高橋多", birth_date="1970-03-01")
    assert len(result.rows) == queries.SEARCH_LIMIT and result.more
    assert json.loads(AuditRecord.objects.get(event="person:search").detail) == {
        "fields": "name+birth_date", "count": queries.SEARCH_LIMIT, "more": True}


@pytest.mark.parametrize(("criteria", "index"), [
    (queries.Criteria(name="高橋"), "kanji_key"),
    (queries.Criteria(birth_date=date(1970, 3, 1)), "person_birth_date"),
    (queries.Criteria(name="高橋", birth_date=date(1970, 3, 1)), "registry_person"),
    (queries.Criteria(name="高橋", household_no="500000001"), "registry_person_"),
])
def test_the_new_criteria_use_an_index(criteria: queries.Criteria, index: str) -> None:
    text = plan(criteria)
    assert "Seq Scan" not in text and "SCAN registry_person" not in text
    assert index in text and ("Index" in text or "INDEX" in text), text


def test_a_prefix_is_exact_for_supplementary_plane_kanji(
        register: Callable[[dict[str, tuple[str, str, str]]], None]) -> None:
    """𡈽 (U+2123D) sorts after U+FFFF in UTF-8: a range ending at prefix + U+FFFF would miss 高𡈽."""
    register({"3000000001": ("高\U0002123d 太郎", "19700301", "700000001")})
    assert "3000000001" in found(name="高")


@pytest.mark.usefixtures("register")
def test_the_key_follows_the_name_and_a_deletion_blanks_it(tmp_path: Path) -> None:
    keys = dict(Person.objects.values_list("person_id", "kanji_key"))
    assert keys["1000000001"] == "高橋一郎" and keys["1000000004"] == "渡辺昭" and keys["1000000006"] == "斎藤令子"
    path = tmp_path / "again.csv"
    # The same persons again (in another order: the same file would be the same job): the keys computed
    # again are those held, so nothing counts as changed.
    write_csv(path, TARGETS, [_row(pid, *values) for pid, values in reversed(PEOPLE.items())])
    assert import_targets(path, actor=SYSTEM, progress=False).job.counts == {"I01": len(PEOPLE)}
    write_csv(path, TARGETS, [_row("1000000002", "鈴木 花子", "19720615", "500000001")])
    import_targets(path, actor=SYSTEM, progress=False)
    assert Person.objects.get(person_id="1000000002").kanji_key == "鈴木花子"
    assert found(name="鈴木") == ["1000000002"] and "1000000002" not in found(name="高橋")
    person = Person.objects.get(person_id="1000000001")
    erase([person.pk], [person.person_id], now=person.updated_at, job_id=None)
    assert Person.objects.get(pk=person.pk).kanji_key == ""
    assert "1000000001" not in found(name="高橋")
