"""ファイル取込 / ファイル作成 (issue 7 item 3): every import and file creation of the CLI from the browser,
run by the worker with the CLI's services, on small synthetic worlds; SQLite and PostgreSQL.

- a registrar's kit upload ends in the outcome table of the job and a rejection list that holds exactly
  the rows the world's answer key rejects, downloadable once, by its owner only;
- a wrong file is refused before anything is queued, or the task fails with the R_ code's message; the
  upload never stays behind;
- each form is shown and accepted only with its function's permission (403 and audited otherwise);
- the income-declaration cycle runs through the screens (linkage request → simulated answer → import →
  inquiry file → simulated answer → import → notice list), Juki-net too;
- the business export is asked for, approved by another supervisor, run once by its requester, and the
  file holds no My Number.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from jutaku import config
from jutaku.accounts.actor import SYSTEM
from jutaku.accounts.approvals import approve
from jutaku.accounts.models import Approval
from jutaku.accounts.sessions import actor_for
from jutaku.audit.models import AuditRecord
from jutaku.crypto.keyring import get_keyring
from jutaku.crypto.media import encrypt_file, open_media
from jutaku.domain import leakscan
from jutaku.domain.free_text import refill
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import INQUIRY_RESULT_LAYOUT
from jutaku.jobs.models import Download, Job, Task
from jutaku.jobs.worker import run_pending
from jutaku.juki.models import JukiResult
from jutaku.linkage.models import InquiryResult, IntegratedNumber
from jutaku.registry.models import Filing, Person
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.faults import FaultRates
from jutaku.sim.juki import answer_juki
from jutaku.sim.linkage import answer_inquiries, answer_linkage
from jutaku.sim.world import WorldSpec, build_world
from jutaku.web.tasks import all_kinds
from tests.integration.web.conftest import Browser, SignedIn
from tests.reports_support import numbers_in, workbook_xml

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
INCOME = "JT99000000530001"
DOWNLOAD = re.compile(r'<a href="(/downloads/[^"]+/)" data-testid="download">([^<（]+)（')
POST_URLS = ("/files/import/targets/", "/files/import/procedures/", "/files/import/kit/", "/files/import/portal/",
             "/files/import/linkage/", "/files/import/inquiry/", "/files/import/juki/", "/files/create/linkage/",
             "/files/create/inquiry/", "/files/create/juki/", "/files/create/export/", "/files/create/export/1/run/")


# --- helpers -----------------------------------------------------------------------------------------

def rows_of(data: bytes | Path) -> list[dict[str, str]]:
    text = (data.read_bytes() if isinstance(data, Path) else data).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def upload(browser: Browser, key: str, content: bytes, name: str, **fields: str) -> Any:
    return browser.post(f"/files/import/{key}/", {"file": SimpleUploadedFile(name, content), **fields},
                        form="/files/import/")


def run_task(response: Any) -> Task:
    """The task a form started (the answer redirects to its page), after the worker ran it."""
    assert response.status_code == 302, response.content.decode()[:800]
    match = re.fullmatch(r"/tasks/(\d+)/", response["Location"])
    assert match, response["Location"]
    run_pending(all_kinds())
    return Task.objects.get(pk=int(match.group(1)))


def job_of(task: Task) -> Job:
    return Job.objects.get(pk=task.job_ids[-1])


def links(browser: Browser, task: Task) -> dict[str, str]:
    """{label: download URL} offered on the task's page."""
    page = browser.get(f"/tasks/{task.pk}/").content.decode()
    return {label: url for url, label in DOWNLOAD.findall(page)}


def fetch(browser: Browser | Client, url: str) -> bytes:
    client = browser.client if isinstance(browser, Browser) else browser
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def no_upload_left(*tasks: Task) -> bool:
    return all(t.upload and not (config.get().uploads_dir / t.upload).exists() for t in tasks)


def world_of(tmp_path: Path, seed: int, persons: int = 300, rates: FaultRates | None = None) -> Path:
    out = tmp_path / "world"
    build_world(WorldSpec(persons=persons, seed=seed, rates=rates or FaultRates()), out)
    return out


def registered_world(tmp_path: Path, seed: int) -> Path:
    """A world whose register, filings and numbers are loaded (as the CLI would), linkage not yet run."""
    world = world_of(tmp_path, seed)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    return world


def decrypted(data: bytes, tmp_path: Path, name: str) -> io.BytesIO:
    path = tmp_path / name
    path.write_bytes(data)
    with open_media(path, get_keyring().media_key) as fh:
        return io.BytesIO(fh.read())


# --- ファイル取込 -------------------------------------------------------------------------------------

def test_a_kit_upload_shows_its_outcomes_and_offers_the_rejection_list_once(signed_in: SignedIn,
                                                                           tmp_path: Path) -> None:
    world = world_of(tmp_path, 7, persons=250, rates=FaultRates.uniform(0.04))
    registrar = signed_in("registrar")
    encrypt_file(world / "targets.csv", tmp_path / "targets.csv.enc", get_keyring().media_key)  # media
    dry = run_task(upload(registrar, "targets", (tmp_path / "targets.csv.enc").read_bytes(), "targets.csv.enc",
                          dry_run="1"))
    assert dry.state == "done" and dry.result["summary"]["OK"] > 0 and Person.objects.count() == 0
    assert "ドライラン" in dry.result["message"] and not links(registrar, dry)
    targets = run_task(upload(registrar, "targets", (world / "targets.csv").read_bytes(), "targets.csv"))
    procedures = run_task(upload(registrar, "procedures", (world / "procedures.csv").read_bytes(), "p.csv"))
    assert targets.result["summary"] == job_of(targets).counts and Person.objects.count() > 0
    assert procedures.state == "done" and Filing.objects.count() > 0

    kit = run_task(upload(registrar, "kit", (world / "kit.csv").read_bytes(), "kit.csv", encoding="utf-8"))
    answers = [r for r in rows_of(world / "answers.csv") if r["ファイル"] == "kit.csv"]
    expected = Counter(r["期待結果"] for r in answers)
    assert kit.state == "done" and kit.result["summary"] == job_of(kit).counts == dict(expected)
    # The media ledger records the file as the user named it, not by its generated upload name.
    from jutaku.exchange.models import MediaLedgerEntry

    assert MediaLedgerEntry.objects.filter(direction="read", interface="kit").get().file_name == "kit.csv"
    page = registrar.get(f"/tasks/{kit.pk}/").content.decode()
    table = page[page.index('data-testid="outcome-table"'):]
    from jutaku.formats.layouts import REGISTRATION_OUTCOME

    for code, count in expected.items():  # each code with the registration's own label (not another import's)
        assert f'<td>{code}</td><td>{REGISTRATION_OUTCOME[code]}</td><td class="num">{count}</td>' in table, code

    url = links(registrar, kit)["差戻リスト"]
    assert signed_in("registrar").get(url).status_code == 404  # another user: the same 404 as none
    rejected = rows_of(fetch(registrar, url))
    # A 受付番号 holding a number (the world's number_in_text fault) is listed withheld (ADR 0020).
    assert Counter((r["受付番号"], r["個人ID"], r["結果コード"]) for r in rejected) == Counter(
        (refill(r["受付番号"]), r["個人ID"], r["期待結果"]) for r in answers if r["期待結果"].startswith("E"))
    assert not Path(Download.objects.get(task=kit, label="差戻リスト").path).exists()
    assert registrar.get(url).status_code == 404  # once
    assert AuditRecord.objects.filter(event="file:download", username=registrar.username).count() == 1

    # The same list as an Excel workbook to sort and filter (ADR 0022): the outcome table, then the list —
    # header row, filter, frozen header, identifiers as text — and no number in any of its parts.
    workbook = fetch(registrar, links(registrar, kit)["差戻リスト Excel版"])
    book = load_workbook(io.BytesIO(workbook))
    assert book.sheetnames == ["結果", "差戻リスト"]
    assert {r[0]: (r[1], r[2]) for r in book["結果"].iter_rows(min_row=2, values_only=True)} == {
        code: (REGISTRATION_OUTCOME[code], n) for code, n in expected.items()}
    sheet = book["差戻リスト"]
    assert [c.value for c in sheet[1]] == ["行番号", "受付番号", "個人ID", "結果コード", "内容", "理由"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:F{len(rejected) + 1}"
    listed = list(sheet.iter_rows(min_row=2))
    assert Counter((r[1].value or "", r[2].value or "", r[3].value) for r in listed) == Counter(
        (r["受付番号"], r["個人ID"], r["結果コード"]) for r in rejected)
    assert all(r[2].data_type == "s" and r[2].number_format == "@" for r in listed if r[2].value)
    assert [r[0].value for r in listed] == sorted(int(r["行番号"]) for r in rejected)
    assert not numbers_in(workbook_xml(workbook))
    portal = run_task(upload(registrar, "portal", (world / "portal.zip").read_bytes(), "portal.zip"))
    assert portal.state == "done" and portal.result["summary"] == job_of(portal).counts
    assert no_upload_left(dry, targets, procedures, kit, portal)
    assert AuditRecord.objects.filter(event="task:submit", username=registrar.username).count() == 5


def test_a_wrong_kind_of_file_is_refused_and_leaves_nothing_behind(signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    refused = upload(registrar, "kit", b"MZ\x90\x00binary", "tool.exe")
    assert refused.status_code == 400 and "このファイルの種類は取り込めません" in refused.content.decode()
    assert upload(registrar, "portal", b"a,b\n", "kit.csv").status_code == 400  # the portal takes a ZIP only
    assert Task.objects.count() == 0
    uploads = config.get().uploads_dir
    assert not uploads.exists() or not any(uploads.iterdir())

    pdf = run_task(upload(registrar, "kit", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "kit.csv"))
    assert pdf.state == "failed" and re.match(r"\[R_[A-Z_]+\] ", pdf.error), pdf.error
    page = registrar.get(f"/tasks/{pdf.pk}/").content.decode()
    assert pdf.error.split("]")[0] in page and no_upload_left(pdf)


def test_each_form_is_for_its_permission_only(signed_in: SignedIn) -> None:
    inquirer = signed_in("inquirer")
    page = inquirer.get("/files/import/").content.decode()
    assert 'data-testid="import-linkage"' in page and 'data-testid="import-juki"' in page
    assert 'data-testid="import-kit"' not in page and 'data-testid="import-targets"' not in page
    denied = upload(inquirer, "kit", b"x", "kit.csv")
    assert denied.status_code == 403 and Task.objects.count() == 0
    denials = AuditRecord.objects.filter(event="access:denied", username=inquirer.username)
    assert any("numbers:register" in d.detail for d in denials)
    registrar = signed_in("registrar").get("/files/import/").content.decode()
    assert 'data-testid="import-kit"' in registrar and 'data-testid="import-inquiry"' not in registrar
    # A page with no form for the user is refused (and not in their menu): a registrar creates no files,
    # an auditor (JOBS_VIEW for the ledger) neither imports nor creates.
    assert signed_in("registrar").get("/files/create/").status_code == 403
    auditor = signed_in("auditor")
    assert auditor.get("/files/import/").status_code == auditor.get("/files/create/").status_code == 403
    assert "ファイル取込" not in auditor.get("/").content.decode()
    assert all(f'data-testid="create-{k}"' in inquirer.get("/files/create/").content.decode()
               for k in ("linkage", "inquiry", "juki", "export"))
    assert signed_in("security_admin").get("/files/import/").status_code == 403  # no JOBS_VIEW


def test_post_urls_need_a_csrf_token_and_refuse_get(signed_in: SignedIn) -> None:
    browser = signed_in("registrar", "inquirer")
    for url in POST_URLS:
        assert browser.get(url).status_code == 405, url
        assert browser.client.post(url, {}).status_code == 403, url
    assert Task.objects.count() == 0 and Approval.objects.count() == 0


# --- ファイル作成 and the cycles through the screens --------------------------------------------------

def test_the_income_declaration_cycle_runs_through_the_screens(signed_in: SignedIn, tmp_path: Path) -> None:
    world = registered_world(tmp_path, 29)
    inquirer = signed_in("inquirer")
    made = run_task(inquirer.post("/files/create/linkage/", form="/files/create/"))
    files = links(inquirer, made)
    assert made.state == "done" and set(files) == {"統合利用番号取得要求ファイル", "統合利用番号取得要求ファイルのマニフェスト"}
    request_file = fetch(inquirer, files["統合利用番号取得要求ファイル"])
    manifest = json.loads(fetch(inquirer, files["統合利用番号取得要求ファイルのマニフェスト"]))
    assert list(leakscan.scan(request_file)) == []  # encrypted: no number readable in the download
    plain = decrypted(request_file, tmp_path, "link-req.csv.enc")
    assert manifest["record_count"] == len(rows_of(plain.getvalue())) > 0
    answer_linkage(world, plain, tmp_path / "link-ans.csv")
    linked = run_task(upload(inquirer, "linkage", (tmp_path / "link-ans.csv").read_bytes(), "link-ans.csv"))
    assert linked.result["summary"] == job_of(linked).counts and IntegratedNumber.objects.count() == \
        linked.result["summary"]["OK"] == manifest["record_count"]

    asked = run_task(inquirer.post("/files/create/inquiry/", {"procedure": INCOME, "year": "2026"},
                                   form="/files/create/"))
    assert asked.state == "done" and "情報照会要求ファイル" in links(inquirer, asked)
    assert asked.result["summary"]["暗号化"] == "あり"  # integrated numbers: encrypted by default (issue 12)
    inquiries = decrypted(fetch(inquirer, links(inquirer, asked)["情報照会要求ファイル"]), tmp_path, "inq.csv.enc")
    answer_inquiries(world, inquiries, tmp_path / "ans.csv")
    changed = renamed(tmp_path / "ans.csv")
    imported = run_task(upload(inquirer, "inquiry", (tmp_path / "ans.csv").read_bytes(), "ans.csv"))
    job = job_of(imported)
    assert imported.result["summary"] == job.counts and job.counts["OK"] > 0
    notices = rows_of(fetch(inquirer, links(inquirer, imported)["届出勧奨リスト"]))
    flagged = InquiryResult.objects.filter(job_id=job.pk).exclude(discrepancy="")
    assert changed in {r["個人ID"] for r in notices} and len(notices) == flagged.count()
    assert no_upload_left(linked, imported)


def renamed(path: Path) -> str:
    """Make one family-register answer report a name change the register lacks; returns its 個人ID."""
    from jutaku.linkage.models import InquiryRequest

    rows = rows_of(path)
    row = next(r for r in rows if r["結果コード"] == "00" and r["特定個人情報名コード"].endswith("07"))
    data = json.loads(row["結果データ"])
    row["結果データ"] = json.dumps({**data, "氏名変更の有無": "1", "変更後氏名": "改姓 花子"}, ensure_ascii=False)
    write_csv(path, INQUIRY_RESULT_LAYOUT, rows)
    return str(InquiryRequest.objects.get(request_no=row["要求番号"]).person.person_id)


def test_a_juki_net_query_and_its_answers_run_through_the_screens(signed_in: SignedIn, tmp_path: Path) -> None:
    world = registered_world(tmp_path, 23)
    inquirer = signed_in("inquirer")
    made = run_task(inquirer.post("/files/create/juki/", {"year": "2026"}, form="/files/create/"))
    files = links(inquirer, made)
    assert made.state == "done" and made.result["summary"]["暗号化"] == "あり"
    queries = decrypted(fetch(inquirer, files["住基ネット照会ファイル"]), tmp_path, "juki.csv.enc")
    answered = answer_juki(world, queries, tmp_path / "juki-ans.csv")
    imported = run_task(upload(inquirer, "juki", (tmp_path / "juki-ans.csv").read_bytes(), "juki-ans.csv"))
    assert imported.state == "done" and imported.result["summary"] == job_of(imported).counts
    assert sum(job_of(imported).counts.values()) == sum(answered.values()) == JukiResult.objects.count()
    offered = links(inquirer, imported)
    notices = rows_of(fetch(inquirer, offered["届出勧奨リスト"]))  # moves, name changes: never applied
    assert len(notices) == JukiResult.objects.exclude(discrepancy="").count() > 0
    follow_up = rows_of(fetch(inquirer, offered["要確認リスト"]))
    assert Counter(r["結果コード"] for r in follow_up) == {
        code: n for code, n in job_of(imported).counts.items() if code not in ("OK", "D02")}
    bad_year = inquirer.post("/files/create/juki/", {"year": "19x"}, form="/files/create/")
    assert bad_year.status_code == 400 and "年度" in bad_year.content.decode()


def test_an_inquiry_for_a_procedure_outside_the_allow_list_is_not_queued(signed_in: SignedIn) -> None:
    inquirer = signed_in("inquirer")
    page = inquirer.get("/files/create/").content.decode()
    assert f'value="{INCOME}"' in page
    response = inquirer.post("/files/create/inquiry/", {"procedure": "JT99999999999999", "year": "2026"},
                             form="/files/create/")
    assert response.status_code == 400 and "手続と年度" in response.content.decode()
    assert Task.objects.count() == 0


def test_the_business_export_is_approved_by_another_supervisor_and_run_once(signed_in: SignedIn,
                                                                            tmp_path: Path) -> None:
    world = registered_world(tmp_path, 43)
    from jutaku.linkage.inquiries import create_inquiry_file
    from jutaku.linkage.inquiry_results import import_inquiry_results
    from jutaku.linkage.requests import request_linkage
    from jutaku.linkage.results import import_linkage_results

    request_linkage(tmp_path / "link-req.csv", actor=SYSTEM, plain=True)
    answer_linkage(world, tmp_path / "link-req.csv", tmp_path / "link-ans.csv")
    import_linkage_results(tmp_path / "link-ans.csv", actor=SYSTEM)
    create_inquiry_file(INCOME, 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    answer_inquiries(world, tmp_path / "inq.csv", tmp_path / "ans.csv")
    import_inquiry_results(tmp_path / "ans.csv", actor=SYSTEM)

    inquirer, other = signed_in("inquirer"), signed_in("inquirer")
    refused = inquirer.post("/files/create/export/", {"procedure": INCOME, "year": "2026", "reason": " "},
                            form="/files/create/")
    assert refused.status_code == 400 and Approval.objects.count() == 0
    asked = inquirer.post("/files/create/export/", {"procedure": INCOME, "year": "2026", "reason": "家賃算定"},
                          form="/files/create/")
    assert asked.status_code == 302 and asked["Location"] == "/files/create/"
    approval = Approval.objects.get(kind="business-export", requested_by=inquirer.username)
    assert AuditRecord.objects.filter(event="approval:request", username=inquirer.username).exists()
    run_url = f"/files/create/export/{approval.pk}/run/"
    assert inquirer.post(run_url, form="/files/create/").status_code == 404  # not approved yet

    supervisor = signed_in("supervisor").made.user
    approve(approval.pk, actor=actor_for(supervisor, "127.0.0.1"))
    page = inquirer.get("/files/create/").content.decode()
    assert f'action="{run_url}"' in page
    assert run_url not in other.get("/files/create/").content.decode()
    assert other.post(run_url, form="/files/create/").status_code == 404  # another user's request
    assert inquirer.post("/files/create/export/99999/run/", form="/files/create/").status_code == 404
    ran = run_task(inquirer.post(run_url, form="/files/create/"))
    assert ran.state == "done"
    assert ran.result["summary"]["暗号化"] == "あり"  # tax, welfare, disability: encrypted by default (issue 12)
    data = decrypted(fetch(inquirer, links(inquirer, ran)["業務システム連携ファイル"]), tmp_path, "biz.csv.enc").getvalue()
    numbers = [r["個人番号"] for r in rows_of(world / "truth" / "juki.csv")]
    assert len(rows_of(data)) > 0 and list(leakscan.scan(data)) == [] and not leakscan.contains_any(data, numbers)
    assert inquirer.post(run_url, form="/files/create/").status_code == 404  # once
    assert Approval.objects.get(pk=approval.pk).state == "executed"
