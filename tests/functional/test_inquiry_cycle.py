"""Inquiries end to end (issue 5 items 3–5): create → simulated linkage server → import, checked against
an expectation computed independently from the world's files and the allow-list file (not from the
system's rules), on several seeds, on SQLite and PostgreSQL.

- every request in the file is permitted for the person's 住宅区分, filed, consented (in the filing, or
  through the person's latest accepted portal application) and numbered, and every such (filing, person,
  information) triple is in the file exactly once;
- every request about a person who asked for non-disclosure carries 不開示コード 2, as the simulated
  server recorded it, and no other request does;
- answers round-trip (stored encrypted, decrypting to the agency's truth); unreported name changes put
  the person on the notice list; hostile rows get their codes while the rest loads.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections import Counter
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.service import verify
from jutaku.crypto.envelope import FieldCipher
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import HOUSING, INQUIRY_RESULT_LAYOUT
from jutaku.linkage.inquiries import create_inquiry_file
from jutaku.linkage.inquiry_results import CIPHER_COLUMN, CIPHER_TABLE, import_inquiry_results
from jutaku.linkage.models import InquiryRequest, InquiryResult, IntegratedNumber
from jutaku.linkage.requests import request_linkage
from jutaku.linkage.results import import_linkage_results
from jutaku.registry.models import ImportRejection, MyNumberRecord
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.linkage import Rates, answer_inquiries, answer_linkage, integrated_number, received_path
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
INCOME = "JT99000000530001"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def prepared_world(tmp_path: Path, seed: int, persons: int = 400) -> Path:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=persons, seed=seed, non_disclosure_rate=0.05, consent_rate=0.9), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    register_numbers(world / "portal.zip", source="portal", actor=SYSTEM, progress=False)
    request_linkage(tmp_path / "link-req.csv", actor=SYSTEM, plain=True)
    answer_linkage(world, tmp_path / "link-req.csv", tmp_path / "link-ans.csv", Rates(not_found=0.05))
    import_linkage_results(tmp_path / "link-ans.csv", actor=SYSTEM)
    return world


def portal_consents(world: Path) -> dict[str, str]:
    """個人ID → 照会同意 of the person's latest accepted portal application (the world's answer key says
    which were accepted), from the files alone (issue 12 item 1: a portal consent is the person's)."""
    accepted = {r["受付番号"] for r in rows_of(world / "answers.csv")
                if r["ファイル"] == "portal.zip" and r["期待結果"] in ("OK", "I01")}
    latest: dict[str, tuple[str, str]] = {}
    with zipfile.ZipFile(world / "portal.zip") as archive:
        for name in archive.namelist():
            root = ElementTree.fromstring(archive.read(name))  # noqa: S314 - the test's own synthetic world
            receipt, at = root.findtext("受付番号") or "", root.findtext("受付日時") or ""
            pid, consent = root.findtext("申請者/個人ID") or "", root.findtext("照会同意") or ""
            if receipt in accepted and consent and at > latest.get(pid, ("", ""))[0]:
                latest[pid] = (at, consent)
    return {pid: consent for pid, (_, consent) in latest.items()}


def expected_requests(world: Path, procedure: str, year: int) -> Counter[tuple[str, str]]:
    """(個人ID, information) → how many filings ask for it, from the files alone."""
    targets = {r["個人ID"]: r for r in rows_of(world / "targets.csv")}
    text = resources.files("jutaku.data").joinpath("allowlist.csv").read_text(encoding="utf-8-sig")
    rules = [r for r in csv.DictReader(text.splitlines()) if r["procedure_code"] == procedure]
    numbered = set(MyNumberRecord.objects.values_list("person__person_id", flat=True))
    linked = set(IntegratedNumber.objects.values_list("person__person_id", flat=True))
    portal = portal_consents(world)
    want: Counter[tuple[str, str]] = Counter()
    for f in rows_of(world / "procedures.csv"):
        pid = f["対象者個人ID"]
        person = targets[pid]
        if f["手続コード"] != procedure or int(f["年度"]) != year or person["状態"] != "1":
            continue
        if pid not in numbered or pid not in linked:
            continue
        for rule in rules:
            if rule["housing_category"] == HOUSING[person["住宅区分"]] and (
                    f["照会同意"] == "1" or portal.get(pid) == "1" or rule["requires_consent"] == "0"):
                want[(pid, rule["info_code"])] += 1
    return want


@pytest.mark.parametrize("seed", [5, 17])
def test_the_file_holds_exactly_the_permitted_pairs_and_carries_non_disclosure(tmp_path: Path, seed: int) -> None:
    world = prepared_world(tmp_path, seed)
    result = create_inquiry_file(INCOME, 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    sent = rows_of(tmp_path / "inq.csv")
    assert Counter((r["個別業務システム利用番号"], r["特定個人情報名コード"]) for r in sent) == \
        expected_requests(world, INCOME, 2026)
    assert result.written == len(sent) > 0 and len({r["要求番号"] for r in sent}) == len(sent)
    assert all(r["事務手続コード"] == INCOME and r["照会年度"] == "2026" for r in sent)
    assert all(r["団体内統合利用番号"] == integrated_number(seed, r["個別業務システム利用番号"]) for r in sent)
    assert {r["不開示コード"] for r in sent} == {"1", "2"}
    from jutaku.audit.models import AuditRecord  # one record per person of the file, none per row

    assert AuditRecord.objects.filter(event="inquiry:request").count() == \
        len({r["個別業務システム利用番号"] for r in sent})

    # The simulated server records what it received: 2 exactly for persons who asked for non-disclosure.
    answer_inquiries(world, tmp_path / "inq.csv", tmp_path / "inq-ans.csv")
    wished = {r["対象者個人ID"] for r in rows_of(world / "procedures.csv") if r["不開示希望"] == "1"}
    received = rows_of(received_path(tmp_path / "inq-ans.csv"))
    assert len(received) == len(sent)
    assert all((r["不開示コード"] == "2") == (r["個人ID"] in wished) for r in received)

    # A repeated create asks nothing twice and writes no file.
    again = create_inquiry_file(INCOME, 2026, tmp_path / "inq2.csv", actor=SYSTEM, plain=True)
    assert again.path is None and "requests" not in again.counts and again.counts.get("X06", 0) > 0
    # Every filing left out has one reason code on the exclusion list.
    excluded = Counter(ImportRejection.objects.filter(job_id=result.job_id).values_list("code", flat=True))
    assert set(excluded) <= {"X01", "X02", "X03", "X04", "X05"} and sum(excluded.values()) > 0
    assert verify().ok


def test_answers_round_trip_and_disagreements_reach_the_notice_list(tmp_path: Path) -> None:
    world = prepared_world(tmp_path, 29, persons=600)
    create_inquiry_file(INCOME, 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    counts = answer_inquiries(world, tmp_path / "inq.csv", tmp_path / "ans.csv", Rates(unset=0.03, error=0.02))
    result = import_inquiry_results(tmp_path / "ans.csv", actor=SYSTEM)
    assert result.job.counts == {k: v for k, v in {"OK": counts.get("00", 0), "N01": counts.get("01", 0),
                                                   "N02": counts.get("02", 0), "N09": counts.get("09", 0)}.items() if v}
    assert InquiryResult.objects.count() == sum(counts.values())
    # Stored data decrypts to the agency's truth (tax of every answered person).
    tax = {r["個人ID"]: r for r in rows_of(world / "truth" / "tax.csv")}
    answered = list(InquiryResult.objects.filter(result_code="00", info_code__endswith="01")
                    .values_list("person__person_id", "data"))
    plain = FieldCipher().decrypt_many(CIPHER_TABLE, CIPHER_COLUMN, [(p, bytes(d)) for p, d in answered])
    assert answered and all(json.loads(d) == {k: v for k, v in tax[p].items() if k != "個人ID"}
                            for (p, _), d in zip(answered, plain, strict=True))
    assert all(b"\xe8\xaa\xb2\xe7\xa8\x8e" not in bytes(d) for _, d in answered)  # no 課税 in clear
    # The notice list is exactly the requested persons whose family register shows a name change.
    changed = {r["個人ID"] for r in rows_of(world / "truth" / "koseki.csv") if r["氏名変更の有無"] == "1"}
    asked = set(InquiryResult.objects.filter(result_code="00", info_code__endswith="07")
                .values_list("person__person_id", flat=True))
    flagged = set(InquiryResult.objects.exclude(discrepancy="").values_list("person__person_id", flat=True))
    assert flagged == changed & asked
    states = Counter(InquiryRequest.objects.values_list("state", flat=True))
    assert states == Counter({"answered": sum(counts.values()) - counts.get("09", 0), "error": counts.get("09", 0)})
    assert verify().ok


def test_hostile_answers_get_their_codes_and_the_rest_loads(tmp_path: Path) -> None:
    world = prepared_world(tmp_path, 31, persons=300)
    create_inquiry_file(INCOME, 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    answer_inquiries(world, tmp_path / "inq.csv", tmp_path / "ans.csv")
    answers = rows_of(tmp_path / "ans.csv")
    found = [a for a in answers if a["結果コード"] == "00"]
    a, b = found[0], next(x for x in found if x["団体内統合利用番号"] != found[0]["団体内統合利用番号"])
    first = [a]
    import_inquiry_results(_write(tmp_path / "first.csv", first), actor=SYSTEM)
    c = found[-1]
    assisted = next(x for x in found if x["特定個人情報名コード"].endswith("03") and x not in (a, c))
    hostile = [
        {**c, "要求番号": "IQ9999999999"},  # Q01
        a,  # Q02 (answered by the first file)
        {**c, "団体内統合利用番号": b["団体内統合利用番号"]},  # Q03
        {**assisted, "特定個人情報名コード": "TM99000000000004"},  # Q04: same items as 03, another code
        {**c, "結果データ": json.dumps({"課税年度": "2026"}, ensure_ascii=False)},  # E00: not the items of c
        c,  # OK
        c,  # Q02 in the same file
    ]
    job = import_inquiry_results(_write(tmp_path / "hostile.csv", hostile), actor=SYSTEM).job
    codes = [code for _, code in sorted(ImportRejection.objects.filter(job_id=job.job_id)
                                        .values_list("line_no", "code"))]
    assert codes == ["Q01", "Q02", "Q03", "Q04", "E00", "Q02"]
    assert job.counts["OK"] == 1
    assert InquiryResult.objects.count() == 2


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    write_csv(path, INQUIRY_RESULT_LAYOUT, rows)
    return path


def test_a_flag_set_after_the_requests_were_made_still_goes_on_every_request(tmp_path: Path) -> None:
    """AUTHZ-07: the code is decided when the file is written, from the sticky flag at that moment."""
    from jutaku.linkage.inquiries import create_inquiries, write_inquiries
    from jutaku.registry.models import Person

    world = prepared_world(tmp_path, 41, persons=300)
    create_inquiries(INCOME, 2026, actor=SYSTEM)
    asked = sorted(set(InquiryRequest.objects.values_list("person_id", flat=True)))
    late = asked[::3]
    Person.objects.filter(pk__in=late).update(non_disclosure=True)  # as a supervisor would, after creation
    flagged = set(Person.objects.filter(non_disclosure=True).values_list("person_id", flat=True))
    path, _, written = write_inquiries(INCOME, 2026, tmp_path / "inq.csv", actor=SYSTEM, job_id=None, plain=True)
    assert path is not None and written > 0
    answer_inquiries(world, path, tmp_path / "ans.csv")
    received = rows_of(received_path(tmp_path / "ans.csv"))
    assert all((r["不開示コード"] == "2") == (r["個人ID"] in flagged) for r in received)
    assert {r["個人ID"] for r in received if r["不開示コード"] == "2"} >= \
        set(Person.objects.filter(pk__in=late).values_list("person_id", flat=True))
    # What was sent is stored on each request.
    assert set(InquiryRequest.objects.filter(person_id__in=late).values_list("non_disclosure", flat=True)) == {"2"}


def test_a_procedure_outside_the_allow_list_is_refused_and_audited(tmp_path: Path) -> None:
    from jutaku.audit.models import AuditRecord
    from jutaku.linkage.inquiries import ProcedureNotPermitted

    with pytest.raises(ProcedureNotPermitted):
        create_inquiry_file("JT99999999999999", 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    assert not (tmp_path / "inq.csv").exists() and not InquiryRequest.objects.exists()
    refusal = AuditRecord.objects.get(event="inquiry:refuse")
    assert refusal.outcome == "not_permitted" and "JT99999999999999" in refusal.object_ids


def test_the_business_export_round_trip_carries_the_answers_and_never_a_number(tmp_path: Path) -> None:
    """F6 under dual control: the file holds every answered request with the agency's values and the
    discrepancy flags, and no My Number or integrated number in any form."""
    from jutaku.accounts.actor import Actor
    from jutaku.accounts.approvals import ApprovalError, approve
    from jutaku.accounts.permissions import Permission
    from jutaku.domain import leakscan
    from jutaku.linkage.export import ExportRefused, request_export, run_export

    world = prepared_world(tmp_path, 43, persons=400)
    create_inquiry_file(INCOME, 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    answer_inquiries(world, tmp_path / "inq.csv", tmp_path / "ans.csv", Rates(error=0.02))
    import_inquiry_results(tmp_path / "ans.csv", actor=SYSTEM)

    inquirer = Actor("inq.tanaka", "10.0.0.5", frozenset(Permission))
    supervisor = Actor("sv.sato", "10.0.0.6", frozenset(Permission))
    approval = request_export(INCOME, 2026, actor=inquirer, reason="令和8年度 家賃算定")
    with pytest.raises(ExportRefused):
        run_export(approval.pk, tmp_path / "early.csv", actor=inquirer, plain=True)  # not approved yet
    with pytest.raises(ApprovalError):
        approve(approval.pk, actor=inquirer)  # nobody approves their own request
    approve(approval.pk, actor=supervisor)
    result = run_export(approval.pk, tmp_path / "business.csv", actor=inquirer, plain=True)
    with pytest.raises(ExportRefused):
        run_export(approval.pk, tmp_path / "again.csv", actor=inquirer, plain=True)  # once

    rows = rows_of(tmp_path / "business.csv")
    answered = InquiryResult.objects.filter(result_code__in=["00", "01", "02"])
    assert result.rows == len(rows) == answered.count() > 0
    truth = {name: {r["個人ID"]: r for r in rows_of(world / "truth" / f"{name}.csv")}
             for name in ("tax", "koseki", "disability_physical")}
    kinds = {"01": "tax", "07": "koseki", "05": "disability_physical"}
    checked = 0
    for row in rows:
        name = kinds.get(row["特定個人情報名コード"][-2:])
        if row["結果コード"] == "00" and name is not None:
            expected = {k: v for k, v in truth[name][row["個人ID"]].items() if k != "個人ID"}
            assert json.loads(row["結果データ"]) == expected
            checked += 1
    assert checked > 0
    flagged = set(InquiryResult.objects.exclude(discrepancy="").values_list("person__person_id", flat=True))
    assert {r["個人ID"] for r in rows if r["相違フラグ"] == "1"} == flagged
    # No number of any kind: no check-digit-valid 12-digit run, none of the world's My Numbers or
    # integrated numbers in any written form.
    data = (tmp_path / "business.csv").read_bytes()
    juki = rows_of(world / "truth" / "juki.csv")
    assert list(leakscan.scan(data)) == []
    assert not leakscan.contains_any(data, [r["個人番号"] for r in juki])
    assert not any(integrated_number(43, r["個人ID"]).encode() in data for r in juki)
