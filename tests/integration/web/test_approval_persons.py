"""The approver of a deletion or an export sees who and what it affects before deciding (issue 14 item 8).

承認依頼の詳細 shows the counts by reason, then the persons 50 at a time — 個人ID, 氏名, カナ, 状態 and reason in
words — with the approve and reject buttons under them; reading it is audited with the 個人ID shown and
counts, never a name. A page is an index range (keyset), never the whole list. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.models import Approval
from jutaku.accounts.sessions import actor_for
from jutaku.audit.models import AuditRecord
from jutaku.linkage.export import request_export
from jutaku.registry import affected
from jutaku.registry.models import Person
from jutaku.subjects.service import handle, record_request
from tests.integration.web.affected_world import deletion_request, export_results, make_persons
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = pytest.mark.django_db
ROW = re.compile(r'<tr><td><a href="/persons/(\d+)/">(\d{10})</a></td><td>([^<]*)</td><td>([^<]*)</td>'
                 r'<td>([^<]*)</td><td>([^<]*)</td></tr>')
NEXT = re.compile(r'href="\?after=(\d+)" rel="next"')
PREV = re.compile(r'href="\?before=(\d+)" rel="prev"')
PROCEDURE = "JT99000000530001"


def actor_of(browser: Browser) -> Actor:
    return actor_for(browser.made.user, "127.0.0.1")


@pytest.fixture
def clerk(signed_in: SignedIn) -> Browser:
    return signed_in("registrar")


@pytest.fixture
def deletion(clerk: Browser) -> Approval:
    """120 persons: 70 moved out (退去), 30 withdrawn (辞退・不合格), 20 deceased (死亡), in one request."""
    moved = make_persons(70, seed=1, status="2")
    withdrawn = make_persons(30, seed=2, status="3", first_id=1_000_100_001)
    dead = make_persons(20, seed=3, status="4", first_id=1_000_200_001)
    targets = [(pk, "1") for pk in moved] + [(pk, "2") for pk in withdrawn] + [(pk, "3") for pk in dead]
    return deletion_request(targets, actor=actor_of(clerk))


def rows(html: str) -> list[tuple[str, ...]]:
    return [m.groups() for m in ROW.finditer(html)]


def test_the_approver_sees_the_counts_by_reason_and_the_persons_before_deciding(
        signed_in: SignedIn, deletion: Approval) -> None:
    boss = signed_in("supervisor")
    html = boss.get(f"/approvals/{deletion.pk}/").content.decode()
    assert "対象者（120 人）" in html
    counts = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([\d,]+) 人</td></tr>", html)
    assert counts == [("退去", "70"), ("辞退・不合格", "30"), ("死亡", "20")]
    shown = rows(html)
    assert len(shown) == affected.PAGE_SIZE == 50
    first = Person.objects.order_by("pk").first()
    assert first is not None
    assert shown[0] == (str(first.pk), first.person_id, first.name, first.name_kana, "退去", "退去")
    assert [r[1] for r in shown] == sorted(r[1] for r in shown)
    # The decision is offered under the list, not before it.
    assert html.index('data-testid="affected"') < html.index(f'/approvals/{deletion.pk}/approve/')
    record = AuditRecord.objects.get(event="approval:targets", username=boss.username)
    assert record.object_ids.split(",")[0] == f"approval:{deletion.pk}"
    assert set(record.object_ids.split(",")[1:]) == {r[1] for r in shown}
    assert json.loads(record.detail) == {"kind": "bulk-deletion", "count": 50, "total": 120}
    assert first.name not in record.detail and first.name_kana not in record.detail


def test_the_pages_walk_the_whole_list_forward_and_back_without_gaps_or_repeats(
        signed_in: SignedIn, deletion: Approval) -> None:
    boss = signed_in("supervisor")
    url = f"/approvals/{deletion.pk}/"
    seen: list[str] = []
    pages: list[tuple[str, list[str]]] = []
    query = "?after=junk"  # a cursor that is not one: the first page
    while True:
        html = boss.get(url + query).content.decode()
        ids = [r[1] for r in rows(html)]
        pages.append((query, ids))
        seen += ids
        following = NEXT.search(html)
        if following is None:
            break
        query = f"?after={following.group(1)}"
    assert [len(ids) for _, ids in pages] == [50, 50, 20]
    assert seen == sorted(set(seen)) and len(seen) == 120
    # Back from the last page: the page before it, exactly; and from there, the first one.
    last = boss.get(url + pages[-1][0]).content.decode()
    back = PREV.search(last)
    assert back is not None
    second = boss.get(url + f"?before={back.group(1)}").content.decode()
    assert [r[1] for r in rows(second)] == pages[1][1]
    back = PREV.search(second)
    assert back is not None
    first = boss.get(url + f"?before={back.group(1)}").content.decode()
    assert [r[1] for r in rows(first)] == pages[0][1] and PREV.search(first) is None
    assert AuditRecord.objects.filter(event="approval:targets").count() == 6


def test_the_requester_sees_their_list_but_a_security_admin_sees_no_person(
        signed_in: SignedIn, clerk: Browser, deletion: Approval) -> None:
    assert len(rows(clerk.get(f"/approvals/{deletion.pk}/").content.decode())) == 50
    admin = signed_in("security_admin")  # decides role grants; holds no personal-data permission
    html = admin.get(f"/approvals/{deletion.pk}/").content.decode()
    assert rows(html) == [] and 'data-testid="affected-hidden"' in html and "個人番号の一括削除" in html
    assert not AuditRecord.objects.filter(event="approval:targets", username=admin.username).exists()
    with pytest.raises(affected.NotPermitted):
        affected.affected(deletion.pk, actor=actor_of(admin))


def test_an_export_lists_the_persons_it_would_write_and_those_its_run_leaves_out(signed_in: SignedIn) -> None:
    inquirer, boss = signed_in("inquirer"), signed_in("supervisor")
    answered = make_persons(10, seed=5, status="1")
    export_results(answered, procedure=PROCEDURE, year=2026)
    export_results(make_persons(3, seed=6, status="1", first_id=1_000_300_001), procedure=PROCEDURE, year=2025)
    export_results(make_persons(2, seed=7, status="1", first_id=1_000_400_001), procedure=PROCEDURE, year=2026,
                   result_code="09")  # no answer to write
    for pk in answered[:2]:  # a handled use-suspension request: X07 on every outbound file
        person_id = Person.objects.get(pk=pk).person_id
        handle(record_request(person_id, "suspension", received_on=date(2026, 5, 1), actor=SYSTEM).pk, actor=SYSTEM)
    export = request_export(PROCEDURE, 2026, actor=actor_of(inquirer), reason="家賃算定のため")
    html = boss.get(f"/approvals/{export.pk}/").content.decode()
    assert "対象者（10 人）" in html
    assert "<tr><td>連携対象</td><td class=\"num\">8 人</td></tr>" in html
    assert "<tr><td>対象外（利用停止請求 X07）</td><td class=\"num\">2 人</td></tr>" in html
    shown = rows(html)
    assert [int(r[0]) for r in shown] == answered
    assert [r[5] for r in shown] == ["対象外（利用停止請求 X07）"] * 2 + ["連携対象"] * 8
    assert all(r[4] == "有効" for r in shown)


def explain(sql: str) -> str:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Tiny test tables: the index must be *usable* for the range in key order (at 100,000 rows the
            # planner picks it: bench/reports/approvals.md); whatever else is merely made expensive.
            off = ("enable_seqscan", "enable_bitmapscan", "enable_sort")
            for setting in off:
                cur.execute(f"SET {setting} = off")
            try:
                cur.execute(f"EXPLAIN {sql}")
                found = cur.fetchall()
            finally:
                for setting in off:
                    cur.execute(f"RESET {setting}")
        else:
            cur.execute(f"EXPLAIN QUERY PLAN {sql}")
            found = cur.fetchall()
        return "\n".join(" ".join(str(c) for c in row) for row in found)


def test_a_page_of_a_deletion_list_is_an_index_range_of_one_page(signed_in: SignedIn, deletion: Approval) -> None:
    boss = signed_in("supervisor")
    middle = Person.objects.order_by("pk").values_list("pk", flat=True)[60]
    with CaptureQueriesContext(connection) as queries:
        page = affected.affected(deletion.pk, actor=actor_of(boss), after=middle)
    assert page is not None and len(page.rows) == 50
    keyset = [q["sql"] for q in queries.captured_queries
              if "retention_deletiontarget" in q["sql"] and "ORDER BY" in q["sql"] and "COUNT" not in q["sql"]]
    assert len(keyset) == 1 and re.search(r"LIMIT 51\b", keyset[0]), keyset
    plan = explain(keyset[0])
    # The (approval_id, person_id) unique index: by name on PostgreSQL, SQLite's automatic index of it.
    assert "deletion_target_once" in plan or "USING INDEX sqlite_autoindex_retention_deletiontarget_1 (approval_id=? AND person_id>?)" in plan, plan
    assert "Seq Scan" not in plan and "TEMP B-TREE" not in plan and "Sort" not in plan, plan
