"""削除 (issue 7 item 3; F7, AUTHZ-06): the bulk deletion journey in the browser, on a small synthetic world.

A registrar makes the proposal (task) and downloads it, requests the deletion with that file, a different
supervisor approves in 承認待ち, the registrar runs it after a step-up (task): the moved-out persons'
numbers are gone and the 削除記録 download holds no valid My Number. A request not approved is refused by
the service. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jutaku.accounts.actor import SYSTEM
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.sessions import actor_for
from jutaku.audit.models import AuditRecord
from jutaku.crypto.envelope import FieldCipher
from jutaku.domain import leakscan
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import DELETION_TARGETS, TARGETS
from jutaku.jobs.models import Task
from jutaku.jobs.worker import run_pending
from jutaku.linkage.export import request_export
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.retention.deletion import KIND, request_deletion
from jutaku.retention.models import DeletionRecord
from jutaku.sim.world import WorldSpec, build_world
from jutaku.web.tasks import all_kinds
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
PAGE = "/deletion/"
DOWNLOAD = re.compile(r'href="(/downloads/[^"]+/)" data-testid="download"')


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture(scope="module")
def world_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deletion-world")
    build_world(WorldSpec(persons=120, seed=71), out)
    return out


@pytest.fixture
def moved(world_files: Path, tmp_path: Path) -> set[str]:
    """The register with numbers, and the 個人ID of the residents the housing system reports moved out."""
    import_targets(world_files / "targets.csv", actor=SYSTEM, progress=False)
    register_numbers(world_files / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    holders = set(MyNumberRecord.objects.filter(person__status="1").values_list("person__person_id", flat=True))
    with (world_files / "targets.csv").open(encoding="utf-8-sig", newline="") as fh:
        leaving = [t for t in csv.DictReader(fh) if t["個人ID"] in holders][:24:3]
    day = (timezone.localdate() - timedelta(days=30)).strftime("%Y%m%d")
    for t in leaving:
        t.update(状態="2", 状態日付=day)
    write_csv(tmp_path / "moves.csv", TARGETS, leaving)
    import_targets(tmp_path / "moves.csv", actor=SYSTEM, progress=False)
    assert len(leaving) >= 5
    return {t["個人ID"] for t in leaving}


def numbers_of(pids: set[str]) -> dict[str, str]:
    held = list(MyNumberRecord.objects.filter(person__person_id__in=pids).values_list("person__person_id", "ciphertext"))
    plain = FieldCipher().decrypt_many("registry_mynumberrecord", "my_number", [(p, bytes(t)) for p, t in held])
    return {p: n.decode() for (p, _), n in zip(held, plain, strict=True)}


def finished(browser: Browser, response: Any) -> tuple[Task, str]:
    """Run the queued task in-process; the task and its page."""
    assert response.status_code == 302 and response["Location"].startswith("/tasks/"), response
    run_pending(all_kinds())
    task = Task.objects.get(pk=int(response["Location"].split("/")[2]))
    return task, browser.get(response["Location"]).content.decode()


def download(browser: Browser, page: str) -> bytes:
    link = DOWNLOAD.search(page)
    assert link, "no download offered"
    response = browser.get(link.group(1))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    data = b"".join(response.streaming_content)
    response.close()
    return data


def upload(browser: Browser, data: bytes, reason: str = "退去者の個人番号削除") -> Any:
    return browser.post("/deletion/request/", {"reason": reason, "file": SimpleUploadedFile("list.csv", data)},
                        form=PAGE)


def test_propose_request_approve_run_deletes_the_numbers_and_the_record_holds_none(
        signed_in: SignedIn, moved: set[str], tmp_path: Path) -> None:
    registrar, supervisor = signed_in("registrar"), signed_in("supervisor")
    numbers = numbers_of(moved)
    kept = numbers_of(set(MyNumberRecord.objects.exclude(person__person_id__in=moved)
                          .values_list("person__person_id", flat=True)[:10]))
    assert registrar.get(PAGE).status_code == 200
    task, page = finished(registrar, registrar.post("/deletion/propose/", {"deceased_after_days": "90"}, form=PAGE))
    assert task.state == "done" and "削除理由 1（退去）" in page
    proposal = download(registrar, page)
    assert {r["個人ID"] for r in rows_of(proposal)} >= moved

    task, page = finished(registrar, upload(registrar, proposal))
    assert task.state == "done", task.error
    approval = Approval.objects.get(kind=KIND)
    assert approval.state == ApprovalState.PENDING and approval.requested_by == registrar.username
    assert f"#{approval.pk}" in registrar.get(PAGE).content.decode()
    # The approver may take the request's persons as a workbook to sort and filter (ADR 0022).
    from openpyxl import load_workbook

    from jutaku.registry.lists import write_deletion_request_xlsx

    path, listed = write_deletion_request_xlsx(approval.pk, tmp_path / "affected.xlsx", actor=SYSTEM)
    sheet = load_workbook(path)["削除の対象者"]
    assert [c.value for c in sheet[1]] == ["行番号", "個人ID", "削除理由", "区分", "住宅区分", "状態"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:F{listed + 1}"
    assert {r[1] for r in sheet.iter_rows(min_row=2, values_only=True)} == {r["個人ID"] for r in rows_of(proposal)}
    assert moved <= {r[1] for r in sheet.iter_rows(min_row=2, values_only=True) if r[2] == "1 退去" and r[5] == "退去"}

    supervisor.step_up()
    assert supervisor.post(f"/approvals/{approval.pk}/approve/", form="/approvals/").status_code == 302
    assert Approval.objects.get(pk=approval.pk).state == ApprovalState.APPROVED
    listing = registrar.get(PAGE).content.decode()
    assert f"/deletion/{approval.pk}/run/" in listing and "data-confirm=" in listing

    run_url = f"/deletion/{approval.pk}/run/"
    assert registrar.post(run_url, form=PAGE)["Location"].startswith("/step-up/")  # irreversible: step-up first
    registrar.step_up()
    task, page = finished(registrar, registrar.post(run_url, form=PAGE))
    assert task.state == "done", task.error
    assert not MyNumberRecord.objects.filter(person__person_id__in=moved).exists()
    assert numbers_of(set(kept)) == kept  # the others untouched
    report = download(registrar, page)
    assert moved <= {r["個人ID"] for r in rows_of(report)}
    assert not list(leakscan.scan(report)) and not leakscan.contains_any(report, numbers.values())
    assert all(r["依頼者"] == registrar.username and r["承認者"] == supervisor.username for r in rows_of(report))
    assert AuditRecord.objects.filter(event="number:delete", username=registrar.username).count() >= len(moved)
    assert Approval.objects.get(pk=approval.pk).state == ApprovalState.EXECUTED
    records = registrar.get(PAGE).content.decode()
    number = DeletionRecord.objects.filter(approval_id=approval.pk).values_list("deletion_no", flat=True).first()
    assert number and number in records and "退去" in records
    assert not leakscan.contains_any(records.encode(), numbers.values())

    # The 削除記録 again, as a PDF to print and file (ADR 0022): the same records, the font embedded.
    from tests.reports_support import assert_japanese_font_embedded, flat, numbers_in, pdf_text

    assert 'name="format" value="pdf"' in records
    task, page = finished(registrar, registrar.post(f"/deletion/{approval.pk}/report/", {"format": "pdf"}, form=PAGE))
    assert task.state == "done", task.error
    printed = download(registrar, page)
    assert printed.startswith(b"%PDF")
    assert_japanese_font_embedded(printed)
    text = flat(pdf_text(printed))
    assert f"削除記録（承認依頼 #{approval.pk}）" in text and number in text and "退去者の個人番号削除" in text
    assert all(pid in text for pid in moved) and registrar.username in text and supervisor.username in text
    assert f"合計{len(rows_of(report))}" in text.replace(" ", "") and "データ鍵" in text
    assert not numbers_in(pdf_text(printed)) and not leakscan.contains_any(text.encode(), numbers.values())


def test_a_request_not_approved_is_refused_by_the_service(signed_in: SignedIn, moved: set[str],
                                                          tmp_path: Path) -> None:
    registrar = signed_in("registrar")
    write_csv(tmp_path / "list.csv", DELETION_TARGETS, [{"個人ID": pid, "削除理由": "1"} for pid in sorted(moved)])
    approval = request_deletion(tmp_path / "list.csv", actor=actor_for(registrar.made.user, "127.0.0.1"),
                                reason="退去者")
    registrar.step_up()
    task, page = finished(registrar, registrar.post(f"/deletion/{approval.pk}/run/", form=PAGE))
    assert task.state == "failed" and "承認済みではありません" in task.error and "承認済みではありません" in page
    assert MyNumberRecord.objects.filter(person__person_id__in=moved).count() == len(moved)
    assert not DeletionRecord.objects.exists()


def test_a_list_that_contradicts_the_register_is_refused_whole(signed_in: SignedIn, moved: set[str],
                                                               tmp_path: Path) -> None:
    registrar = signed_in("registrar")
    current = Person.objects.filter(status="1").values_list("person_id", flat=True).first()
    assert current is not None
    write_csv(tmp_path / "bad.csv", DELETION_TARGETS, [{"個人ID": sorted(moved)[0], "削除理由": "1"},
                                                      {"個人ID": current, "削除理由": "1"}])  # 退去, but current
    task, page = finished(registrar, upload(registrar, (tmp_path / "bad.csv").read_bytes()))
    assert task.state == "failed" and "削除リストを受け付けません" in page and "3行目" in page
    assert not Approval.objects.filter(kind=KIND).exists()


def test_the_request_form_needs_a_reason_and_a_csv_file(signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    response = upload(registrar, b"x", reason=" ")
    assert response.status_code == 400 and "依頼理由を入力してください" in response.content.decode()
    response = registrar.post("/deletion/request/", {"reason": "退去者"}, form=PAGE)
    assert response.status_code == 400 and "ファイルが選択されていません" in response.content.decode()
    response = registrar.post("/deletion/request/", {"reason": "退去者",
                                                     "file": SimpleUploadedFile("list.txt", b"x")}, form=PAGE)
    assert response.status_code == 400 and not Task.objects.exists()


def test_who_may_open_the_page_and_run(signed_in: SignedIn) -> None:
    for role in ("supervisor", "auditor", "operations"):
        assert signed_in(role).get(PAGE).status_code == 403
    supervisor = signed_in("supervisor")
    supervisor.step_up()
    assert supervisor.post("/deletion/1/run/", form="/approvals/").status_code == 403  # approves, never runs


def test_a_made_up_or_other_kind_of_request_is_not_found(signed_in: SignedIn) -> None:
    registrar, inquirer = signed_in("registrar"), signed_in("inquirer")
    export = request_export("JT99000000530001", 2026, actor=actor_for(inquirer.made.user, "127.0.0.1"), reason="家賃算定")
    registrar.step_up()
    for approval_id in (999_999, export.pk):
        assert registrar.post(f"/deletion/{approval_id}/run/", form=PAGE).status_code == 404
        assert registrar.post(f"/deletion/{approval_id}/report/", form=PAGE).status_code == 404
    assert not Task.objects.exists()


def test_the_deletion_actions_need_post_and_a_csrf_token(signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    registrar.step_up()
    for url in ("/deletion/propose/", "/deletion/request/", "/deletion/1/run/", "/deletion/1/report/"):
        assert registrar.get(url).status_code == 405, url
        assert registrar.client.post(url).status_code == 403, url
    assert not Task.objects.exists()


def test_the_records_say_until_when_the_last_backup_holding_the_persons_is_kept(
        signed_in: SignedIn, moved: set[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: a backup taken before the run holds the deleted persons until it expires; the 削除記録
    says until when (a backup taken after the run holds none of them and does not count)."""
    from datetime import UTC, datetime

    from jutaku import config
    from jutaku.accounts.actor import Actor
    from jutaku.accounts.approvals import approve
    from jutaku.accounts.permissions import Permission
    from jutaku.retention import catalogue
    from jutaku.retention.deletion import run_deletion

    monkeypatch.setattr(catalogue, "catalogue_path", lambda: tmp_path / "ledger" / "backups.jsonl")
    copy = tmp_path / "jutaku-copy.sqlite3"
    copy.write_bytes(b"a backup")
    taken = datetime.now(UTC) - timedelta(days=3)
    expires = catalogue.begin(copy, taken)
    catalogue.finish(copy, ok=True, sha256="0" * 64, size=8)
    assert expires == (timezone.localdate() - timedelta(days=3)) + timedelta(days=config.get().backup_retention_days)
    write_csv(tmp_path / "list.csv", DELETION_TARGETS, [{"個人ID": p, "削除理由": "1"} for p in sorted(moved)])
    approval = request_deletion(tmp_path / "list.csv", actor=Actor("reg.ito", "127.0.0.1", frozenset(Permission)),
                                reason="退去者")
    approve(approval.pk, actor=Actor("sv.sato", "127.0.0.1", frozenset(Permission)))
    result = run_deletion(approval.pk, actor=SYSTEM, report=tmp_path / "report.csv")
    assert result.backup_expires_on == expires
    later = tmp_path / "jutaku-later.sqlite3"
    later.write_bytes(b"a later backup")
    catalogue.begin(later, datetime.now(UTC) + timedelta(days=1))
    records = signed_in("registrar").get(PAGE).content.decode()
    assert f'data-testid="backup-expiry">{expires.isoformat()} まで<' in records
    assert set(DeletionRecord.objects.values_list("backup_expires_on", flat=True)) == {expires}


def test_the_same_list_uploaded_twice_is_the_one_request_named_on_the_task_page(
        signed_in: SignedIn, moved: set[str], tmp_path: Path) -> None:
    """Issue 14 item 9: the 削除 screen, like `jutaku delete request`, makes one request of one list."""
    registrar = signed_in("registrar")
    write_csv(tmp_path / "list.csv", DELETION_TARGETS, [{"個人ID": pid, "削除理由": "1"} for pid in sorted(moved)])
    task, page = finished(registrar, upload(registrar, (tmp_path / "list.csv").read_bytes()))
    assert task.state == "done", task.error
    [approval] = Approval.objects.filter(kind=KIND)
    write_csv(tmp_path / "again.csv", DELETION_TARGETS, [{"個人ID": pid, "削除理由": "1"}
                                                        for pid in sorted(moved, reverse=True)])
    task, page = finished(registrar, upload(registrar, (tmp_path / "again.csv").read_bytes(), reason="再依頼"))
    assert task.state == "done", task.error
    assert f"同じ削除リストの承認依頼 #{approval.pk}（承認待ち" in page and "新しい依頼は作成していません" in page
    assert list(Approval.objects.filter(kind=KIND)) == [approval]
    assert registrar.get(PAGE).content.decode().count(f"#{approval.pk}") >= 1
