"""開示請求 (issue 7 item 3; PIA 開示・訂正・利用停止請求): record, handle and the disclosure report in the
browser, on a small synthetic world. The report is a one-time attachment with the number masked to its last
four digits, never a full number. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.models import AuditRecord
from jutaku.crypto.envelope import FieldCipher
from jutaku.domain import leakscan
from jutaku.domain.my_number import from_body
from jutaku.jobs.models import Task
from jutaku.jobs.worker import run_pending
from jutaku.registry.models import MyNumberRecord
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world
from jutaku.subjects.models import SubjectRequest
from jutaku.web.tasks import all_kinds
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
PAGE = "/subjects/"
DOWNLOAD = re.compile(r'href="(/downloads/[^"]+/)" data-testid="download"')


@pytest.fixture(scope="module")
def world_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("subjects-world")
    build_world(WorldSpec(persons=60, seed=83), out)
    return out


@pytest.fixture
def person(world_files: Path) -> str:
    """個人ID of a registered person holding a My Number."""
    import_targets(world_files / "targets.csv", actor=SYSTEM, progress=False)
    register_numbers(world_files / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    pid = MyNumberRecord.objects.order_by("id").values_list("person__person_id", flat=True).first()
    assert pid is not None
    return str(pid)


def number_of(pid: str) -> str:
    token = MyNumberRecord.objects.get(person__person_id=pid).ciphertext
    return FieldCipher().decrypt(pid, "registry_mynumberrecord", "my_number", bytes(token)).decode()


def record(browser: Browser, pid: str, kind: str = "disclosure", note: str = "窓口で受付") -> Any:
    return browser.post("/subjects/record/", {"person_id": pid, "kind": kind, "note": note,
                                              "received_on": timezone.localdate().isoformat()}, form=PAGE)


def test_record_handle_and_download_the_disclosure_report_with_the_number_masked(
        signed_in: SignedIn, person: str) -> None:
    clerk = signed_in("registrar")
    number = number_of(person)
    response = record(clerk, person)
    assert response.status_code == 302 and response["Location"] == PAGE
    request = SubjectRequest.objects.get(person__person_id=person)
    assert request.kind == "disclosure" and request.state == "received" and request.received_by == clerk.username
    assert AuditRecord.objects.filter(event="subject:request", username=clerk.username).count() == 1
    page = clerk.get(PAGE).content.decode()
    assert f"#{request.pk}" in page and "を受け付けました" in page and f"/subjects/{request.pk}/disclose/" in page

    # By default the report (it holds the answers held) is encrypted under the media key.
    sealed = clerk.post(f"/subjects/{request.pk}/disclose/", form=PAGE)
    run_pending(all_kinds())
    sealed_link = DOWNLOAD.search(clerk.get(sealed["Location"]).content.decode())
    assert sealed_link
    sealed_download = clerk.get(sealed_link.group(1))
    assert ".html.enc" in sealed_download["Content-Disposition"]
    assert b"<html" not in b"".join(sealed_download.streaming_content)
    sealed_download.close()
    assert not AuditRecord.objects.filter(event="media:plain", username=clerk.username).exists()

    # To print it for the person, the clerk ticks 暗号化しない: recorded on the audit trail.
    started = clerk.post(f"/subjects/{request.pk}/disclose/", {"plain": "1"}, form=PAGE)
    assert started.status_code == 302 and started["Location"].startswith("/tasks/")
    run_pending(all_kinds())
    assert AuditRecord.objects.filter(event="media:plain", username=clerk.username,
                                      outcome="disclosure-report").count() == 1
    task_page = clerk.get(started["Location"]).content.decode()
    assert number not in task_page and "保有個人情報開示書（特定個人情報）" not in task_page  # not inline
    link = DOWNLOAD.search(task_page)
    assert link
    download = clerk.get(link.group(1))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    html = b"".join(download.streaming_content)
    download.close()
    assert "保有個人情報開示書".encode() in html and f"********{number[-4:]}".encode() in html
    assert number.encode() not in html and not list(leakscan.scan(html))
    assert AuditRecord.objects.filter(event="subject:disclose", username=clerk.username).count() == 2
    assert clerk.get(link.group(1)).status_code == 404  # once only

    assert clerk.post(f"/subjects/{request.pk}/close/", {"outcome": "handled"}, form=PAGE).status_code == 302
    request.refresh_from_db()
    assert request.state == "handled" and request.handled_by == clerk.username
    assert AuditRecord.objects.filter(event="subject:handle", username=clerk.username, outcome="handled").exists()


def test_the_disclosure_report_as_a_pdf_is_encrypted_by_default_and_holds_the_japanese_text_masked(
        signed_in: SignedIn, person: str, tmp_path: Path) -> None:
    """ADR 0022: 「PDF で作成」 renders the same report as a PDF, the Japanese font embedded; it holds the
    answers held, so it is `.pdf.enc` unless 暗号化しない is ticked (audited)."""
    from jutaku.crypto.keyring import get_keyring
    from jutaku.crypto.media import open_media
    from tests.reports_support import assert_japanese_font_embedded, flat, numbers_in, pdf_text

    clerk = signed_in("registrar")
    number = number_of(person)
    record(clerk, person)
    request = SubjectRequest.objects.get(person__person_id=person)
    assert 'name="format" value="pdf"' in clerk.get(PAGE).content.decode()

    sealed = clerk.post(f"/subjects/{request.pk}/disclose/", {"format": "pdf"}, form=PAGE)
    run_pending(all_kinds())
    link = DOWNLOAD.search(clerk.get(sealed["Location"]).content.decode())
    assert link
    response = clerk.get(link.group(1))
    assert f"disclosure-{request.pk}.pdf.enc" in response["Content-Disposition"]
    (tmp_path / "d.pdf.enc").write_bytes(b"".join(response.streaming_content))
    response.close()
    assert not (tmp_path / "d.pdf.enc").read_bytes().startswith(b"%PDF")
    with open_media(tmp_path / "d.pdf.enc", get_keyring().media_key) as fh:
        assert fh.read().startswith(b"%PDF")
    assert not AuditRecord.objects.filter(event="media:plain", username=clerk.username).exists()

    printed = clerk.post(f"/subjects/{request.pk}/disclose/", {"format": "pdf", "plain": "1"}, form=PAGE)
    run_pending(all_kinds())
    link = DOWNLOAD.search(clerk.get(printed["Location"]).content.decode())
    assert link
    response = clerk.get(link.group(1))
    assert response["Content-Disposition"].endswith(f'disclosure-{request.pk}.pdf"')
    data = b"".join(response.streaming_content)
    response.close()
    assert data.startswith(b"%PDF")
    assert_japanese_font_embedded(data)
    text = pdf_text(data)
    assert "保有個人情報開示書（特定個人情報）" in text and f"********{number[-4:]}" in text
    assert "8. アクセス記録（操作の記録）" in text and "個人番号の登録" in flat(text)
    assert number not in flat(text) and not numbers_in(text) and not numbers_in(flat(text))
    assert AuditRecord.objects.filter(event="media:plain", username=clerk.username,
                                      outcome="disclosure-report").count() == 1
    assert AuditRecord.objects.filter(event="subject:disclose", username=clerk.username).count() == 2


def test_refuse_then_a_second_decision_is_refused_by_the_service(signed_in: SignedIn, person: str) -> None:
    clerk = signed_in("registrar")
    record(clerk, person, kind="suspension")
    request = SubjectRequest.objects.get()
    clerk.post(f"/subjects/{request.pk}/close/", {"outcome": "refused", "note": "本人確認できず"}, form=PAGE)
    request.refresh_from_db()
    assert request.state == "refused" and "本人確認できず" in request.note
    clerk.post(f"/subjects/{request.pk}/close/", {"outcome": "handled"}, form=PAGE)
    assert "処理済みです" in clerk.get(PAGE).content.decode()
    assert SubjectRequest.objects.get().state == "refused"


def test_the_report_is_only_for_a_disclosure_request(signed_in: SignedIn, person: str) -> None:
    clerk = signed_in("registrar")
    record(clerk, person, kind="correction")
    request = SubjectRequest.objects.get()
    assert f"/subjects/{request.pk}/disclose/" not in clerk.get(PAGE).content.decode()
    started = clerk.post(f"/subjects/{request.pk}/disclose/", form=PAGE)
    run_pending(all_kinds())
    task = Task.objects.get(pk=int(started["Location"].split("/")[2]))
    assert task.state == "failed" and "開示請求ではありません" in task.error


def test_a_bad_form_is_shown_again_without_echoing_what_could_be_a_number(signed_in: SignedIn, person: str) -> None:
    clerk = signed_in("registrar")
    valid = from_body("12345678901")
    response = record(clerk, "1999999999")
    assert response.status_code == 400 and "個人IDが登録されていません" in response.content.decode()
    response = record(clerk, valid)  # a My Number typed into the 個人ID field
    assert response.status_code == 400 and valid not in response.content.decode()
    response = record(clerk, person, note=f"番号 {valid}")
    body = response.content.decode()
    assert response.status_code == 400 and "メモに個人番号" in body and valid not in body
    assert not SubjectRequest.objects.exists()


def test_roles_without_requests_handle_are_refused(signed_in: SignedIn) -> None:
    for role in ("auditor", "operations", "supervisor"):
        browser = signed_in(role)
        assert browser.get(PAGE).status_code == 403
        assert browser.post("/subjects/record/", {"person_id": "1000000001", "kind": "disclosure"}).status_code == 403
    assert not SubjectRequest.objects.exists()


def test_a_made_up_request_is_not_found(signed_in: SignedIn) -> None:
    clerk = signed_in("registrar")
    assert clerk.post("/subjects/999999/close/", {"outcome": "handled"}, form=PAGE).status_code == 404
    assert clerk.post("/subjects/999999/disclose/", form=PAGE).status_code == 404
    assert clerk.post("/subjects/999999/lift/", {"reason": "取り下げ"}, form=PAGE).status_code == 404
    assert not Task.objects.exists()


def test_the_actions_need_post_and_a_csrf_token(signed_in: SignedIn, person: str) -> None:
    clerk = signed_in("registrar")
    record(clerk, person)
    request = SubjectRequest.objects.get()
    for url in ("/subjects/record/", f"/subjects/{request.pk}/close/", f"/subjects/{request.pk}/disclose/",
                f"/subjects/{request.pk}/lift/"):
        assert clerk.get(url).status_code == 405, url
        assert clerk.client.post(url, {"outcome": "handled"}).status_code == 403, url
    assert SubjectRequest.objects.get().state == "received" and not Task.objects.exists()


def test_a_handled_suspension_shows_on_the_person_page_until_a_supervisor_approves_its_lift(
        signed_in: SignedIn, person: str) -> None:
    """Issue 12 item 2: the person detail screen says 利用停止中; the lift is asked for on this screen and
    takes effect only when a different supervisor approves it on 承認待ち (dual control, audited)."""
    from jutaku.accounts.models import Approval
    from jutaku.registry.models import Person

    clerk = signed_in("registrar")
    pk = Person.objects.get(person_id=person).pk
    detail = f"/persons/{pk}/"
    record(clerk, person, kind="suspension")
    request = SubjectRequest.objects.get()
    assert "利用停止中" not in clerk.get(detail).content.decode()  # received is not yet handled
    clerk.post(f"/subjects/{request.pk}/close/", {"outcome": "handled"}, form=PAGE)
    page = clerk.get(detail).content.decode()
    assert 'data-testid="suspension"' in page and "利用停止中" in page and f"利用停止請求 #{request.pk}" in page
    assert f"/subjects/{request.pk}/lift/" in clerk.get(PAGE).content.decode()

    assert clerk.post(f"/subjects/{request.pk}/lift/", {"reason": ""}, form=PAGE).status_code == 302
    assert "理由を入力してください" in clerk.get(PAGE).content.decode() and not Approval.objects.exists()
    clerk.post(f"/subjects/{request.pk}/lift/", {"reason": "本人が請求を取り下げたため"}, form=PAGE)
    approval = Approval.objects.get(kind="suspension-lift")
    assert "解除が承認待ちです" in clerk.get(detail).content.decode()
    supervisor = signed_in("supervisor")
    queue = supervisor.get("/approvals/").content.decode()
    assert "利用停止の解除" in queue and f"請求: #{request.pk}" in queue and person not in queue
    supervisor.step_up()
    assert supervisor.post(f"/approvals/{approval.pk}/approve/", form="/approvals/").status_code == 302
    request.refresh_from_db()
    assert request.state == "lifted" and request.lift_approval == approval.pk
    assert AuditRecord.objects.filter(event="subject:lift", username=supervisor.username).count() == 1
    assert "利用停止中" not in clerk.get(detail).content.decode()
    assert f"/subjects/{request.pk}/lift/" not in clerk.get(PAGE).content.decode()
