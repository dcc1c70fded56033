"""The 対象者検索 form as staff use it (issue 14 item 10, ADR 0023): 氏名（漢字） with its variants, 生年月日 in
西暦 or 和暦 with how it was understood, everything by POST so no name or birth date is ever in a URL; a GET
answers only 個人ID and 世帯番号. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.models import AuditRecord
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import TARGETS
from jutaku.registry.models import Person
from jutaku.registry.targets import import_targets
from tests.integration.registry.test_person_search import PEOPLE, _row
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]


@pytest.fixture(autouse=True)
def registered(tmp_path: Path) -> None:
    write_csv(tmp_path / "targets.csv", TARGETS, [_row(pid, *values) for pid, values in PEOPLE.items()])
    import_targets(tmp_path / "targets.csv", actor=SYSTEM, progress=False)


def search(browser: Browser, **fields: str) -> str:
    response = browser.post("/persons/", fields, form="/persons/")
    assert response.status_code == 200
    return response.content.decode()  # type: ignore[no-any-return]


def shown(html: str) -> set[str]:
    return set(re.findall(r'href="/persons/\d+/">(\d{10})</a>', html))


def searches() -> list[dict[str, object]]:
    return [json.loads(r.detail) for r in AuditRecord.objects.filter(event="person:search").order_by("pk")]


def test_a_kanji_variant_and_a_wareki_birth_date_find_the_person(signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    html = search(browser, name="高橋", birth_date="S45.3.1")  # registered as 髙橋 一郎 and 高橋 次郎, 19700301
    assert shown(html) == {"1000000001", "1000000003"} and "髙橋 一郎" in html
    assert 'data-testid="birth-date-understood">生年月日は 1970年3月1日（昭和45年3月1日） として検索しました' in html
    html = search(browser, name="渡邊", birth_date="昭和64年1月7日")
    assert shown(html) == {"1000000004"} and "1989年1月7日（昭和64年1月7日）" in html
    assert shown(search(browser, name="渡辺", birth_date="H1.1.8")) == {"1000000005"}
    assert searches() == [{"fields": "name+birth_date", "count": n, "more": False} for n in (2, 1, 1)]


def test_the_form_is_posted_and_names_stay_out_of_urls(signed_in: SignedIn) -> None:
    browser = signed_in("inquirer")
    form = browser.get("/persons/").content.decode()
    assert re.search(r'<form method="post" action="/persons/"', form)
    for label in ("氏名（漢字）", "氏名（カナ）", "生年月日", "個人ID（10桁）", "世帯番号"):
        assert f">{label}</label>" in form
    assert browser.client.post("/persons/", {"name": "高橋"}).status_code == 403  # no CSRF token
    # A URL carrying a name or a birth date (a bookmark, a hand-made link) is not searched nor echoed.
    for query in ({"name": "髙橋"}, {"kana": "タカハシ"}, {"birth_date": "S45.3.1", "person_id": "1000000001"}):
        html = browser.get("/persons/?" + urlencode(query)).content.decode()
        assert 'data-testid="url-refused"' in html and not shown(html)
        assert all(f'value="{v}"' not in html for k, v in query.items() if k != "person_id")
    assert searches() == []
    # Internal codes may still come by GET (the audit trail names persons by 個人ID anyway).
    assert shown(browser.get("/persons/?household_no=500000001").content.decode()) == {"1000000001", "1000000002"}
    assert searches() == [{"fields": "household_no", "count": 2, "more": False}]


@pytest.mark.parametrize(("typed", "message"), [
    ("S64.1.8", "生年月日を確認してください。元号の期間外の日付です（昭和は1926年12月25日から1989年1月7日まで）。"),
    ("1970-02-30", "生年月日を確認してください。存在しない日付です。"),
    ("昭和45年", "生年月日を読み取れません。1970-03-01、19700301、昭和45年3月1日、S45.3.1、R1.5.1 のように入力してください。"),
])
def test_an_unreadable_birth_date_is_explained_in_japanese(signed_in: SignedIn, typed: str, message: str) -> None:
    html = search(signed_in("registrar"), name="高橋", birth_date=typed)
    assert f'data-testid="search-error">{message}<' in html
    assert 'data-testid="person-results"' not in html and searches() == []


def test_a_variant_in_the_register_is_found_by_the_standard_form_and_the_audit_holds_no_value(
        signed_in: SignedIn) -> None:
    html = search(signed_in("supervisor"), name="山崎 沢子", birth_date="1970/03/01", kana="とえい")
    assert shown(html) == {"1000000008"} and "山﨑 澤子" in html
    record = AuditRecord.objects.get(event="person:search")
    assert json.loads(record.detail) == {"fields": "name+kana+birth_date", "count": 1, "more": False}
    stored = f"{record.object_ids} {record.detail} {record.outcome}"
    assert not any(v in stored for v in ("山", "沢", "澤", "とえい", "トエイ", "1970", "03"))
    assert Person.objects.get(person_id="1000000008").kanji_key == "山崎沢子"
