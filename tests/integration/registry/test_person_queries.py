"""The register's read services behind 対象者検索・対象者詳細 (jutaku.registry.queries). SQLite and PostgreSQL.

- every search criterion is served by an index (EXPLAIN on both databases: at 1,000,000 persons a
  sequential scan per search is not acceptable);
- the form's values are checked before any query, and a My Number typed into the GET form is refused;
- one person's file is a fixed handful of queries however many inquiries and Juki-net queries they have,
  shows the results' codes and discrepancies but never the encrypted answers, and carries 不開示 only
  for the roles that need it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.db import connection

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.permissions import ROLE_PERMISSIONS, Permission, Role
from jutaku.domain import my_number
from jutaku.juki.models import JukiResult
from jutaku.juki.requests import request_juki
from jutaku.juki.results import import_juki_results
from jutaku.linkage.inquiries import create_inquiry_file
from jutaku.linkage.inquiry_results import import_inquiry_results
from jutaku.linkage.models import InquiryRequest
from jutaku.linkage.requests import request_linkage
from jutaku.linkage.results import import_linkage_results
from jutaku.registry import queries
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.juki import answer_juki
from jutaku.sim.linkage import answer_inquiries, answer_linkage
from jutaku.sim.world import WorldSpec, build_world


def actor(role: Role) -> Actor:
    return Actor(f"t.{role.value}", "127.0.0.1", ROLE_PERMISSIONS[role])


def plan(criteria: queries.Criteria) -> str:
    """The database's plan for the search, with sequential scans made prohibitively expensive on
    PostgreSQL (an empty test table would otherwise be scanned): an index must be *usable*."""
    qs = queries.search_queryset(criteria)
    if connection.vendor != "postgresql":
        return qs.explain()
    with connection.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        try:
            return qs.explain()
        finally:
            cur.execute("RESET enable_seqscan")


@pytest.mark.django_db
@pytest.mark.parametrize(("criteria", "index"), [
    (queries.Criteria(kana="タナカ"), "kana_key"),
    (queries.Criteria(person_id="1000000001"), "person_id"),
    (queries.Criteria(household_no="500000001"), "household_no"),
    (queries.Criteria(kana="ヤマ", household_no="500000001"), "registry_person_"),
])
def test_every_search_criterion_uses_an_index(criteria: queries.Criteria, index: str) -> None:
    text = plan(criteria)
    assert "Seq Scan" not in text and "SCAN registry_person" not in text
    assert index in text and ("Index" in text or "INDEX" in text), text


@pytest.mark.django_db
def test_the_kana_prefix_on_postgresql_has_a_pattern_index_whatever_the_collation(pg_tier: bool) -> None:
    if not pg_tier:
        pytest.skip("PostgreSQL only: SQLite compares by code point, so the range search is exact there")
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'registry_person'")
        defs = [row[0] for row in cur.fetchall()]
    assert any("kana_key varchar_pattern_ops" in d for d in defs), defs
    assert "LIKE" in str(queries.search_queryset(queries.Criteria(kana="タナカ")).query)


@pytest.mark.parametrize(("fields", "message"), [
    ({"person_id": "12345"}, "10桁"),
    ({"person_id": "10000000０1x"}, "10桁"),
    ({"household_no": "5000-1"}, "世帯番号"),
    ({"kana": "・ "}, "氏名（カナ）"),
    ({"kana": "ア" * 121}, "長すぎ"),
    ({}, "1つ以上"),
])
def test_criteria_that_cannot_be_searched_are_refused(fields: dict[str, str], message: str) -> None:
    with pytest.raises(queries.QueryRefused, match=message):
        queries.parse_criteria(**fields)


def test_a_my_number_in_any_search_field_is_refused_without_quoting_it() -> None:
    number = my_number.synthetic(b"persons-test")
    for name in ("person_id", "kana", "household_no"):
        for spelling in (number, f"{number[:4]} {number[4:8]} {number[8:]}"):
            with pytest.raises(queries.QueryRefused) as caught:
                queries.parse_criteria(**{name: spelling})
            assert "個人番号で検索" in str(caught.value) and number not in str(caught.value)


def test_criteria_are_normalised_to_what_the_register_holds() -> None:
    c = queries.parse_criteria(person_id=" １０００００００４２ ", kana="ｶﾞｸ ﾀﾛｰ", household_no="５００")
    assert (c.person_id, c.kana, c.household_no) == ("1000000042", "カクタロウ", "500")
    assert c.used == ("person_id", "kana", "household_no")


# -------------------------------------------------------------------------------------------- the file


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def cycled(tmp_path: Path) -> Path:
    """A small world through registration, linkage, one inquiry round and one Juki-net round."""
    out = tmp_path / "world"
    build_world(WorldSpec(persons=200, seed=41, non_disclosure_rate=0.2, consent_rate=1.0), out)
    import_targets(out / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(out / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(out / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    register_numbers(out / "portal.zip", source="portal", actor=SYSTEM, progress=False)
    request_linkage(tmp_path / "link.csv", actor=SYSTEM, plain=True)
    answer_linkage(out, tmp_path / "link.csv", tmp_path / "link-ans.csv")
    import_linkage_results(tmp_path / "link-ans.csv", actor=SYSTEM)
    create_inquiry_file("JT99000000530001", 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    answer_inquiries(out, tmp_path / "inq.csv", tmp_path / "inq-ans.csv")
    import_inquiry_results(tmp_path / "inq-ans.csv", actor=SYSTEM)
    request_juki(2026, tmp_path / "juki.csv", actor=SYSTEM, plain=True)
    answer_juki(out, tmp_path / "juki.csv", tmp_path / "juki-ans.csv")
    import_juki_results(tmp_path / "juki-ans.csv", actor=SYSTEM)
    return out


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("home_keys", "allowlist")
def test_a_person_file_is_a_few_queries_with_codes_but_no_answers(cycled: Path,
                                                                   django_assert_max_num_queries: object) -> None:
    from django.db.models import Count

    busiest = (InquiryRequest.objects.values("person").annotate(n=Count("id")).order_by("-n", "person")
               .values_list("person", "n").first())
    assert busiest is not None and busiest[1] >= 2
    flagged = InquiryRequest.objects.filter(non_disclosure="2").values_list("person", flat=True).first()
    assert flagged is not None
    with django_assert_max_num_queries(17):  # type: ignore[operator]  # the use suspension in force, portal applications, a pending clear
        file = queries.person_file(busiest[0], actor=actor(Role.INQUIRER))
    assert file is not None and len(file.inquiries) == busiest[1] and file.integrated == "取得済"
    assert file.number.state == "registered" and file.number.masked.startswith("********")
    assert all(r["state"] and r["request_no"] and "data" not in r for r in file.inquiries)
    assert any(r["result"] for r in file.inquiries)

    seen = queries.person_file(flagged, actor=actor(Role.INQUIRER))
    # Every role that views persons now sets or carries 不開示 (issue 12); the rule still hides it otherwise.
    hidden = queries.person_file(flagged, actor=Actor("t.viewer", "127.0.0.1", frozenset({Permission.PERSONS_VIEW})))
    assert seen is not None and hidden is not None
    assert seen.non_disclosure == {"flag": True, "since": seen.person.non_disclosure_since, "pending": None}
    assert any(r["non_disclosure"] is True for r in seen.inquiries)
    assert hidden.non_disclosure is None and all(r["non_disclosure"] is None for r in hidden.inquiries)
    assert all(f["non_disclosure_wish"] is None for f in hidden.filings)

    noted = JukiResult.objects.exclude(discrepancy="").values_list("person", "discrepancy").first()
    assert noted is not None
    juki_file = queries.person_file(noted[0], actor=actor(Role.SUPERVISOR))
    assert juki_file is not None and juki_file.juki and juki_file.juki[0]["outcome"]
    assert {"kind": "住基ネット照会", "request_no": juki_file.juki[0]["request_no"], "text": noted[1]} in \
        juki_file.follow_up


@pytest.mark.django_db
def test_the_services_check_the_permission_themselves() -> None:
    nobody = Actor("t.ops", "127.0.0.1", ROLE_PERMISSIONS[Role.OPERATIONS])
    with pytest.raises(queries.NotPermitted):
        queries.search_persons(actor=nobody, person_id="1000000001")
    with pytest.raises(queries.NotPermitted):
        queries.person_file(1, actor=nobody)
    with pytest.raises(queries.NotPermitted):
        queries.unmask_number(1, actor=actor(Role.REGISTRAR), reason="理由のテスト")
    assert Permission.NUMBERS_UNMASK in ROLE_PERMISSIONS[Role.SUPERVISOR]
