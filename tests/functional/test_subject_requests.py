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
from jutaku.juki.requests import request_juki
from jutaku.juki.results import import_juki_results
from jutaku.linkage.inquiries import create_inquiry_file
from jutaku.linkage.inquiry_results import import_inquiry_results
from jutaku.linkage.models import InquiryRequest, InquiryResult
from jutaku.linkage.requests import request_linkage
from jutaku.linkage.results import import_linkage_results
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.retention.deletion import propose, request_deletion, run_deletion
from jutaku.sim.juki import answer_juki
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
    request_linkage(tmp_path / "req.csv", actor=SYSTEM, plain=True)
    answer_linkage(world, tmp_path / "req.csv", tmp_path / "ans.csv")
    import_linkage_results(tmp_path / "ans.csv", actor=SYSTEM)
    create_inquiry_file("JT99000000530001", 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    answer_inquiries(world, tmp_path / "inq.csv", tmp_path / "inq-ans.csv")
    import_inquiry_results(tmp_path / "inq-ans.csv", actor=SYSTEM)
    request_juki(2026, tmp_path / "juki.csv", actor=SYSTEM, plain=True)
    answer_juki(world, tmp_path / "juki.csv", tmp_path / "juki-ans.csv")
    import_juki_results(tmp_path / "juki-ans.csv", actor=SYSTEM)
    return str(InquiryRequest.objects.order_by("id").values_list("person__person_id", flat=True)[0])


def _number(pid: str) -> str:
    token = MyNumberRecord.objects.get(person__person_id=pid).ciphertext
    return FieldCipher().decrypt(pid, "registry_mynumberrecord", "my_number", bytes(token)).decode()


def test_the_disclosure_report_shows_what_is_held_and_who_looked_never_a_full_number(person: str,
                                                                                    tmp_path: Path) -> None:
    number = _number(person)
    request = record_request(person, "disclosure", received_on=date(2026, 11, 27), actor=CLERK)
    report = disclose(request.pk, tmp_path / "report.html", actor=CLERK, plain=True)
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


def test_the_report_is_written_encrypted_unless_a_person_asks_to_print_it(person: str, tmp_path: Path) -> None:
    """It holds the answers obtained from other agencies (特定個人情報): `.enc` by default; plain is audited."""
    from jutaku.audit.models import AuditRecord
    from jutaku.crypto.keyring import get_keyring
    from jutaku.crypto.media import open_media

    request = record_request(person, "disclosure", received_on=date(2026, 11, 27), actor=CLERK)
    sealed = disclose(request.pk, tmp_path / "sealed.html", actor=CLERK)
    assert sealed.path == tmp_path / "sealed.html.enc" and not (tmp_path / "sealed.html").exists()
    assert b"<html" not in sealed.path.read_bytes() and oct(sealed.path.stat().st_mode & 0o777) == "0o600"
    with open_media(sealed.path, get_keyring().media_key, encoding="utf-8") as fh:
        assert "保有個人情報開示書" in fh.read()
    assert not AuditRecord.objects.filter(event="media:plain", outcome="disclosure-report").exists()
    printed = disclose(request.pk, tmp_path / "print.html", actor=CLERK, plain=True)
    assert printed.path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert AuditRecord.objects.filter(event="media:plain", outcome="disclosure-report").count() == 1


def test_the_report_shows_the_portal_applications_and_the_wishes_held(person: str, tmp_path: Path) -> None:
    """What the person stated on Mynaportal (受付番号, consent, 不開示希望) and the 不開示 setting are held, so
    they are disclosed (issue 12 items 1 and 9)."""
    from datetime import UTC, datetime

    from jutaku.registry.models import PortalApplication
    from jutaku.registry.non_disclosure import set_non_disclosure

    held = Person.objects.get(person_id=person)
    at = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)
    PortalApplication.objects.create(receipt_no="P209900000777", person=held, received_at=at, consent=False,
                                     non_disclosure_wish=True, outcome="E05", recorded_at=at)
    set_non_disclosure(person, actor=SYSTEM, reason="窓口で申出")
    request = record_request(person, "disclosure", received_on=date(2026, 11, 27), actor=CLERK)
    html = disclose(request.pk, tmp_path / "report.html", actor=CLERK, plain=True).path.read_text(encoding="utf-8")
    section = html.split("マイナポータルからの個人番号届出", 1)[1].split("<h2>", 1)[0]
    assert "P209900000777" in section and "2026-04-01 09:30" in section  # JST
    assert "<td>なし</td><td>あり</td>" in section and "E05" not in section  # labels, not codes
    assert "情報照会の履歴の不開示</td><td>設定あり" in html and "状態の記録元</td><td>都住システム" in html


def test_a_handled_suspension_leads_to_deletion_and_the_report_shows_it(person: str, tmp_path: Path) -> None:
    number = _number(person)
    name = Person.objects.get(person_id=person).name
    suspension = record_request(person, "suspension", received_on=date(2026, 11, 27), actor=CLERK,
                                note=f"{name}様より電話")
    path, _ = propose(tmp_path / "p0.csv", actor=CLERK, today=date(2026, 11, 28))
    assert person not in path.read_text(encoding="utf-8")  # not before the request is handled
    handle(suspension.pk, actor=CLERK)
    path, _ = propose(tmp_path / "p1.csv", actor=CLERK, today=date(2026, 11, 28))
    assert f"{person},4" in path.read_text(encoding="utf-8-sig")
    approval = request_deletion(path, actor=CLERK, reason="利用停止請求")
    approve(approval.pk, actor=SUPERVISOR)
    run_deletion(approval.pk, actor=CLERK, report=tmp_path / "deleted.csv")
    disclosure = record_request(person, "disclosure", received_on=date(2026, 11, 28), actor=CLERK)
    html = disclose(disclosure.pk, tmp_path / "after.html", actor=CLERK, plain=True).path.read_text(encoding="utf-8")
    assert "保有していません" in html and "削除記録" in html and "DL" in html
    assert number[-4:] not in html.split("削除記録")[0].split("個人番号")[1][:40]
    assert not list(leakscan.scan(html.encode())) and number not in html
    # The report of a deleted person says what is left — and holds nothing else about them (issue 12).
    assert "削除後に保有している情報" in html and "削除済み" in html and "バックアップなし" in html
    assert name not in html and "保有している回答はありません" in html and "利用停止請求" in html
    assert "操作の記録" in html and "個人番号等の削除" in html
    from jutaku.subjects.models import SubjectRequest

    assert list(SubjectRequest.objects.filter(person__person_id=person).values_list("note", flat=True)) == ["", ""]


def _truth(tmp_path: Path, name: str, pid: str) -> dict[str, str]:
    import csv

    with (tmp_path / "world" / "truth" / f"{name}.csv").open(encoding="utf-8") as fh:
        return next(r for r in csv.DictReader(fh) if r["個人ID"] == pid)


def test_the_report_discloses_the_answers_held_with_their_source_and_labels_not_codes(person: str,
                                                                                     tmp_path: Path) -> None:
    """Seed V-1: the information obtained from other agencies is disclosed — decrypted only into the
    report, with its name, the providing agency, the day obtained and each item by its label."""
    taxed = (InquiryResult.objects.filter(info_code="TM99000000000001", result_code="00")
             .exclude(person__person_id=person).values_list("person__person_id", flat=True).order_by("id").first())
    assert taxed is not None
    tax = _truth(tmp_path, "tax", taxed)
    juki = _truth(tmp_path, "juki", taxed)
    request = record_request(taxed, "disclosure", received_on=date(2026, 11, 27), actor=CLERK)
    html = disclose(request.pk, tmp_path / "report.html", actor=CLERK, plain=True).path.read_text(encoding="utf-8")
    answers = html.split("3. 他機関から取得した情報", 1)[1].split("<h2>", 1)[0]
    assert "地方税関係情報" in answers and "区市町村長" in answers and "該当あり" in answers
    assert f"総所得金額等: {int(tax['総所得金額等']):,}円" in answers
    assert f"課税区分: {dict(zip('123', ('課税', '非課税', '未申告'), strict=True))[tax['課税区分']]}" in answers
    assert f"扶養親族数: {int(tax['扶養親族数'])}人" in answers and "収入の申告（2026年度）" in answers
    identity = html.split("4. 住基ネットから取得した本人確認情報", 1)[1].split("<h2>", 1)[0]
    assert juki["氏名カナ"] in identity and f"住民票コード: {'*' * 7}{juki['住民票コード'][-4:]}" in identity
    assert juki["住民票コード"] not in html
    kit = MyNumberRecord.objects.get(person__person_id=taxed)
    assert {"1": "個人番号カード", "2": "通知カード＋身元確認書類", "3": "番号記載の住民票の写し＋身元確認書類"}[
        kit.id_document] in html
    # Labels, not codes: no information code, no audit event code, no result code in a cell.
    assert "TM99000000000001" not in html and "JT99000000530001" not in html
    assert "inquiry:request" not in html and "情報照会の要求" in html and "情報照会結果の取込み" in html
    assert "<td>00</td>" not in html and "<td>OK</td>" not in html
    number = _number(taxed)
    assert number not in html and integrated_number(SEED, taxed) not in html and not list(leakscan.scan(html.encode()))
