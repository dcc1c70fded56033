"""Contact information needs no consent; same-address household members are asked about (issue 12 item 7,
seed II-3 ⑧ 使用方法: 連絡先等情報 for persons who filed and 「同一住所の者」; consent only for 業務関係情報).

On a world whose 入居の申込み filings cover only part of some households (one filer; two filers under two
receipts; everybody), checked against an expectation computed from the files and the corrected allow-list
file alone, on SQLite and PostgreSQL:

- every filer is asked for 住民票関係情報 whether or not they consented, and for business information
  only with consent;
- every current, numbered, linked member of a filer's household (same 世帯番号) without a filing of their
  own is asked for 住民票関係情報 once — under the household's first filing, with their own 不開示コード —
  and for nothing else; a member who filed is asked through their own filing, never twice;
- a rerun asks nothing twice; the answers come back and are stored.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.service import verify
from jutaku.formats.layouts import HOUSING, PROCEDURES
from jutaku.linkage.inquiries import create_inquiry_file
from jutaku.linkage.inquiry_results import import_inquiry_results
from jutaku.linkage.models import InquiryRequest, InquiryResult, IntegratedNumber
from jutaku.linkage.requests import request_linkage
from jutaku.linkage.results import import_linkage_results
from jutaku.registry.models import Filing, MyNumberRecord, Person
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.linkage import answer_inquiries, answer_linkage, received_path
from jutaku.sim.world import WorldSpec, build_world
from tests.functional.test_inquiry_cycle import portal_consents

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
APPLY = "JT99000000530004"
YEAR = 2026
RESIDENT_RECORD = "TM99000000000002"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def partial_filings(world: Path) -> None:
    """Rewrite the application filings: of the receipts covering three or more persons, a third keep only
    the applicant, a third keep the applicant and put the second person under a receipt of their own, a
    third stay whole. Everything else is unchanged."""
    rows = rows_of(world / "procedures.csv")
    by_receipt: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_receipt[row["受付番号"]].append(row)
    kept: list[dict[str, str]] = []
    big = 0
    for receipt, members in by_receipt.items():
        if members[0]["手続コード"] != APPLY or len(members) < 3:
            kept.extend(members)
            continue
        shape, big = big % 3, big + 1
        if shape == 0:
            kept.append(members[0])
        elif shape == 1:
            kept += [members[0], {**members[1], "受付番号": receipt + "B"}]
        else:
            kept.extend(members)
    with (world / "procedures.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=PROCEDURES.header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    assert big >= 6


def expected_requests(world: Path) -> tuple[Counter[tuple[str, str]], set[str]]:
    """(個人ID, information) → count, from the files and the corrected allow-list file alone; and the
    household members asked."""
    targets = {r["個人ID"]: r for r in rows_of(world / "targets.csv")}
    text = resources.files("jutaku.data").joinpath("allowlist-v2.csv").read_text(encoding="utf-8-sig")
    rules = [r for r in csv.DictReader(text.splitlines()) if r["procedure_code"] == APPLY]
    numbered = set(MyNumberRecord.objects.values_list("person__person_id", flat=True))
    linked = set(IntegratedNumber.objects.values_list("person__person_id", flat=True))
    filings = [f for f in rows_of(world / "procedures.csv") if f["手続コード"] == APPLY and int(f["年度"]) == YEAR]
    portal = portal_consents(world)  # a portal consent is the person's (issue 12 item 1)
    want: Counter[tuple[str, str]] = Counter()
    for f in filings:
        pid = f["対象者個人ID"]
        if targets[pid]["状態"] != "1" or pid not in numbered or pid not in linked:
            continue
        for rule in rules:
            if rule["housing_category"] == HOUSING[targets[pid]["住宅区分"]] and (
                    f["照会同意"] == "1" or portal.get(pid) == "1" or rule["requires_consent"] == "0"):
                want[(pid, rule["info_code"])] += 1
    filers = {f["対象者個人ID"] for f in filings}
    households = {targets[pid]["世帯番号"] for pid in filers}
    members = {pid for pid, t in targets.items() if t["世帯番号"] in households and t["状態"] == "1"
               and pid not in filers and pid in numbered and pid in linked}
    for pid in members:
        for rule in rules:
            if rule["housing_category"] == HOUSING[targets[pid]["住宅区分"]] and rule["requires_consent"] == "0":
                want[(pid, rule["info_code"])] += 1
    return want, members


def test_household_members_are_asked_for_contact_information_once_with_their_own_code(tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=900, seed=53, consent_rate=0.5, non_disclosure_rate=0.0), world)
    partial_filings(world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    register_numbers(world / "portal.zip", source="portal", actor=SYSTEM, progress=False)
    request_linkage(tmp_path / "link.csv", actor=SYSTEM, plain=True)
    answer_linkage(world, tmp_path / "link.csv", tmp_path / "link-ans.csv")
    import_linkage_results(tmp_path / "link-ans.csv", actor=SYSTEM)
    want, members = expected_requests(world)
    assert len(members) >= 4
    flagged = sorted(members)[0]  # a DV member: their requests carry 2, the filer's do not
    Person.objects.filter(person_id=flagged).update(non_disclosure=True)

    made = create_inquiry_file(APPLY, YEAR, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    sent = rows_of(tmp_path / "inq.csv")
    assert Counter((r["個別業務システム利用番号"], r["特定個人情報名コード"]) for r in sent) == want
    assert made.counts["household"] == len(members)
    assert {r["特定個人情報名コード"] for r in sent if r["個別業務システム利用番号"] in members} == {RESIDENT_RECORD}
    assert {(r["個別業務システム利用番号"] == flagged) for r in sent if r["不開示コード"] == "2"} == {True}
    assert any(r["個別業務システム利用番号"] == flagged for r in sent)
    # Non-consenting filers are asked for 住民票関係情報 too (no consent needed) and for nothing else.
    portal = portal_consents(world)
    refusing = {f["対象者個人ID"] for f in rows_of(world / "procedures.csv") if f["手続コード"] == APPLY
                and f["照会同意"] == "0" and portal.get(f["対象者個人ID"]) != "1"}
    asked_refusing = {(p, i) for p, i in want if p in refusing}
    assert asked_refusing and {i for _, i in asked_refusing} == {RESIDENT_RECORD}

    # A member's request belongs to the household's first filing, about the member (a different person).
    for request in InquiryRequest.objects.filter(person__person_id__in=members).select_related("filing", "person"):
        first = (Filing.objects.filter(procedure_code=APPLY, fiscal_year=YEAR,
                                       person__household_no=request.person.household_no).order_by("id").first())
        assert request.filing == first and request.filing.person_id != request.person_id

    # A rerun asks nothing twice.
    count = InquiryRequest.objects.count()
    again = create_inquiry_file(APPLY, YEAR, tmp_path / "inq2.csv", actor=SYSTEM, plain=True)
    assert again.path is None and "requests" not in again.counts and again.counts.get("X06", 0) > 0
    assert InquiryRequest.objects.count() == count

    # The simulated server records the member's own code; the answers are stored.
    answer_inquiries(world, tmp_path / "inq.csv", tmp_path / "ans.csv")
    received = rows_of(received_path(tmp_path / "ans.csv"))
    assert all((r["不開示コード"] == "2") == (r["個人ID"] == flagged) for r in received)
    result = import_inquiry_results(tmp_path / "ans.csv", actor=SYSTEM)
    assert set(result.job.counts) <= {"OK", "N01"}
    stored = set(InquiryResult.objects.filter(info_code=RESIDENT_RECORD, result_code="00")
                 .values_list("person__person_id", flat=True))
    assert members <= stored
    assert verify().ok
