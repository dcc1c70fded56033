"""Disclosure, correction and use-suspension requests (issue 6 item 4), on a generated world, both databases.

The disclosure report shows what is held (number masked to its last four digits), where it came from,
the inquiries with dates and codes, and who accessed the record — never a full number; a handled
use-suspension request leads, through the approved deletion, to a report that shows the data deleted.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.approvals import approve
from jutaku.accounts.permissions import Permission
from jutaku.crypto.envelope import FieldCipher
from jutaku.domain import leakscan
from jutaku.domain.my_number import from_body
from jutaku.exchange.models import MediaLedgerEntry
from jutaku.linkage.inquiries import create_inquiry_file
from jutaku.linkage.inquiry_results import import_inquiry_results
from jutaku.linkage.models import InquiryRequest
from jutaku.linkage.requests import request_linkage
from jutaku.linkage.results import import_linkage_results
from jutaku.registry.models import MyNumberRecord
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.retention.deletion import propose, request_deletion, run_deletion
from jutaku.sim.linkage import answer_inquiries, answer_linkage, integrated_number
from jutaku.sim.world import WorldSpec, build_world
from jutaku.subjects.report import disclose
from jutaku.subjects.service import SubjectRequestError, handle, record_request

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
CLERK = Actor("reg.ito", "10.0.0.7", frozenset(Permission))
SUPERVISOR = Actor("sv.sato", "10.0.0.6", frozenset(Permission))
SEED = 47


@pytest.fixture
def person(tmp_path: Path) -> str:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=SEED), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    request_linkage(tmp_path / "req.csv", actor=SYSTEM)
    answer_linkage(world, tmp_path / "req.csv", tmp_path / "ans.csv")
    import_linkage_results(tmp_path / "ans.csv", actor=SYSTEM)
    create_inquiry_file("JT99000000530001", 2026, tmp_path / "inq.csv", actor=SYSTEM)
    answer_inquiries(world, tmp_path / "inq.csv", tmp_path / "inq-ans.csv")
    import_inquiry_results(tmp_path / "inq-ans.csv", actor=SYSTEM)
    return str(InquiryRequest.objects.order_by("id").values_list("person__person_id", flat=True)[0])


def _number(pid: str) -> str:
    token = MyNumberRecord.objects.get(person__person_id=pid).ciphertext
    return FieldCipher().decrypt(pid, "registry_mynumberrecord", "my_number", bytes(token)).decode()


def test_the_disclosure_report_shows_what_is_held_and_who_looked_never_a_full_number(person: str,
                                                                                    tmp_path: Path) -> None:
    number = _number(person)
    request = record_request(person, "disclosure", received_on=date(2026, 11, 27), actor=CLERK)
    report = disclose(request.pk, tmp_path / "report.html", actor=CLERK)
    html = report.path.read_text(encoding="utf-8")
    assert "保有個人情報開示書" in html and f"********{number[-4:]}" in html
    assert number not in html and not list(leakscan.scan(html.encode()))
    assert integrated_number(SEED, person) not in html and integrated_number(SEED, person)[-4:] in html
    for no in InquiryRequest.objects.filter(person__person_id=person).values_list("request_no", flat=True):
        assert no in html
    # Who registered it, the operation by its name, not its code.
    assert "system" in html and "個人番号の登録" in html and "number:store" not in html and report.accesses > 0
    assert oct((tmp_path / "report.html").stat().st_mode & 0o777) == "0o600"
    assert MediaLedgerEntry.objects.filter(interface="disclosure-report", direction="write").count() == 1
    with pytest.raises(SubjectRequestError):
        record_request(person, "correction", received_on=date(2026, 11, 27), actor=CLERK,
                       note=f"番号 {from_body('12345678901')} の訂正")


def test_a_handled_suspension_leads_to_deletion_and_the_report_shows_it(person: str, tmp_path: Path) -> None:
    number = _number(person)
    suspension = record_request(person, "suspension", received_on=date(2026, 11, 27), actor=CLERK)
    path, _ = propose(tmp_path / "p0.csv", actor=CLERK, today=date(2026, 11, 28))
    assert person not in path.read_text(encoding="utf-8")  # not before the request is handled
    handle(suspension.pk, actor=CLERK)
    path, _ = propose(tmp_path / "p1.csv", actor=CLERK, today=date(2026, 11, 28))
    assert f"{person},4" in path.read_text(encoding="utf-8-sig")
    approval = request_deletion(path, actor=CLERK, reason="利用停止請求")
    approve(approval.pk, actor=SUPERVISOR)
    run_deletion(approval.pk, actor=CLERK, report=tmp_path / "deleted.csv")
    disclosure = record_request(person, "disclosure", received_on=date(2026, 11, 28), actor=CLERK)
    html = disclose(disclosure.pk, tmp_path / "after.html", actor=CLERK).path.read_text(encoding="utf-8")
    assert "保有していません" in html and "削除記録" in html and "DL" in html
    assert number[-4:] not in html.split("削除記録")[0].split("個人番号")[1][:40]
    assert not list(leakscan.scan(html.encode())) and number not in html
