"""監査 screens (issue 7 item 3.1): search the trail by user, object, event and period (itself audited),
keyset pages, the chain verification and the auditors' CSV export as tasks, the job and media ledgers.
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.models import AuditRecord
from jutaku.audit.service import AuditEntry, record, record_many
from jutaku.domain import leakscan
from jutaku.domain.my_number import synthetic
from jutaku.jobs.models import Task
from jutaku.jobs.worker import run_pending
from jutaku.web.tasks import all_kinds
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = pytest.mark.django_db

TWENTY_DAYS = timedelta(days=20)
TEN_DAYS = timedelta(days=10)


@pytest.fixture
def history(db: None) -> Iterator[dict[str, Any]]:
    """Records on three different days, written before anything else (``at`` grows with seq)."""
    now = timezone.now()
    written = {}
    for age, who, event, obj in ((TWENTY_DAYS, "clerk.old", AuditEvent.NUMBER_STORE, "1000000001"),
                                 (TEN_DAYS, "clerk.mid", AuditEvent.PERSON_VIEW, "1000000002")):
        with time_machine.travel(now - age, tick=False), transaction.atomic():
            written[who] = record(event, actor=Actor(who, "127.0.0.1"), objects=[obj])
    yield {"now": now, **written}


def day(moment: Any) -> str:
    return str(timezone.localtime(moment).date().isoformat())


def seqs(page: str) -> list[int]:
    table = page.split('data-testid="audit-results"', 1)[1].split("</table>", 1)[0]
    return [int(s) for s in re.findall(r'<tr><td class="num">(\d+)</td>', table)]


def run_task(browser: Browser, response: Any) -> tuple[Task, str]:
    assert response.status_code == 302 and response["Location"].startswith("/tasks/"), response.status_code
    assert run_pending(all_kinds()) >= 1
    task = Task.objects.get(pk=int(response["Location"].split("/")[2]))
    return task, browser.get(response["Location"]).content.decode()


def download(browser: Browser, page: str, suffix: str) -> bytes:
    link = next(h for h in re.findall(r'href="(/downloads/[^"]+/)"[^>]*>([^<]+)', page) if h[1].endswith(suffix + "）"))
    response = browser.get(link[0])
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_search_by_user_event_and_period_finds_the_right_records_and_is_audited(
        history: dict[str, Any], signed_in: SignedIn) -> None:
    auditor = signed_in("auditor")
    page = auditor.get("/audit/?search=1&user=clerk.old").content.decode()
    assert seqs(page) == [history["clerk.old"]]
    page = auditor.get("/audit/?search=1&event=person:view").content.decode()
    assert seqs(page) == [history["clerk.mid"]]
    page = auditor.get("/audit/?search=1&object=1000000002").content.decode()
    assert seqs(page) == [history["clerk.mid"]]
    middle = history["now"] - timedelta(days=12), history["now"] - timedelta(days=8)
    page = auditor.get(f"/audit/?search=1&since={day(middle[0])}&until={day(middle[1])}").content.decode()
    assert seqs(page) == [history["clerk.mid"]]
    page = auditor.get(f"/audit/?search=1&until={day(history['now'] - timedelta(days=15))}").content.decode()
    assert seqs(page) == [history["clerk.old"]]
    # Newest first: today's sign-in records come before the old ones.
    everything = seqs(auditor.get("/audit/?search=1").content.decode())
    assert everything == sorted(everything, reverse=True) and history["clerk.old"] in everything
    searches = AuditRecord.objects.filter(event="audit:search", username=auditor.username).order_by("seq")
    assert searches.count() == 6
    period = json.loads(searches[3].detail)
    assert period["since"] == day(middle[0]) and period["until"] == day(middle[1]) and period["hits"] == 1
    assert searches[2].object_ids == "1000000002"


def test_the_event_filter_is_grouped_by_area_and_results_show_names_with_the_detail_folded(
        history: dict[str, Any], signed_in: SignedIn) -> None:
    """Issue 14 item 4: the filter's <optgroup>s are areas in Japanese, each <option> an event's name (its value
    the code the search takes); a result shows the event and outcome by name, its detail folded as
    label/value pairs."""
    with transaction.atomic():
        record(AuditEvent.JOB_FINISH, actor=Actor("clerk.job", "127.0.0.1"), objects=[f"sha256:{'c' * 64}"],
               outcome="ok", detail={"kind": "register-kit", "dry_run": False, "counts": '{"E03":2,"OK":12}'})
    auditor = signed_in("auditor")
    page = auditor.get("/audit/").content.decode()
    select = page.split('id="f-event"', 1)[1].split("</select>", 1)[0]
    areas = re.findall(r'<optgroup label="([^"]+)">', select)
    assert {"個人番号", "情報照会・連携", "住基ネット", "利用者・端末", "監査"} <= set(areas)
    assert all(not area.isascii() for area in areas)
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select))
    assert options["number:store"] == "個人番号の登録" and options["access:denied"] == "アクセスの拒否"
    assert len(options) == len(AuditEvent) and all(not label.isascii() for label in options.values())
    number = select.split('<optgroup label="個人番号">', 1)[1].split("</optgroup>", 1)[0]
    assert 'value="number:store"' in number and 'value="juki:store"' not in number

    page = auditor.get("/audit/?search=1&user=clerk.job").content.decode()
    table = page.split('data-testid="audit-results"', 1)[1].split("</table>", 1)[0]
    assert "一括処理の終了" in table and ">job:finish<" not in table and ">正常<" in table
    details = table.split("<details", 1)[1].split("</details>", 1)[0]
    assert "<summary>" in details and "<dt>種類</dt><dd>個人番号届出データの登録</dd>" in details
    assert "<dt>件数</dt><dd>E03 2、OK 12</dd>" in details and "{" not in details
    page = auditor.get("/audit/?search=1&event=number:store").content.decode()
    assert seqs(page) == [history["clerk.old"]] and "個人番号の登録" in page
    assert re.search(r'<option value="number:store" selected>個人番号の登録</option>', page)


def test_results_come_in_pages_newest_first(signed_in: SignedIn) -> None:
    with transaction.atomic():
        record_many([AuditEntry(AuditEvent.PERSON_VIEW, [f"10000001{i:02d}"]) for i in range(60)],
                    actor=Actor("bulk.t", "127.0.0.1"))
    auditor = signed_in("auditor")
    first = auditor.get("/audit/?search=1&user=bulk.t").content.decode()
    shown = seqs(first)
    assert len(shown) == 50 and shown == sorted(shown, reverse=True)
    following = re.search(r'href="(\?[^"]+)" data-testid="next-page"', first)
    assert following
    second = seqs(auditor.get("/audit/" + following.group(1).replace("&amp;", "&")).content.decode())
    assert len(second) == 10 and max(second) < min(shown)


def test_a_number_shaped_object_is_refused_and_never_shown(signed_in: SignedIn) -> None:
    auditor = signed_in("auditor")
    number = synthetic()
    page = auditor.get(f"/audit/?search=1&object={number}").content.decode()
    assert "個人番号は検索条件にできません" in page and number not in page
    assert not AuditRecord.objects.filter(event="audit:search", username=auditor.username).exists()
    assert "個人番号は検索条件にできません" in auditor.get("/audit/?search=1&object=a,b").content.decode()
    refused = auditor.post("/audit/export/", {"object": number}, form="/audit/")
    assert refused.status_code == 302 and not Task.objects.exists()
    assert number not in auditor.get(refused["Location"]).content.decode()
    bad = auditor.get("/audit/?search=1&since=2026-13-01&event=no:such").content.decode()
    assert "YYYY-MM-DD" in bad and "一覧から選んで" in bad and 'data-testid="audit-results"' not in bad


def test_other_roles_are_refused_the_audit_screens(signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    assert registrar.get("/audit/").status_code == 403
    assert registrar.post("/audit/verify/").status_code == 403
    assert registrar.post("/audit/export/").status_code == 403
    assert AuditRecord.objects.filter(event="access:denied", username=registrar.username).count() == 3
    assert signed_in("operations").get("/audit/media/").status_code == 403
    admin = signed_in("security_admin")
    assert admin.get("/audit/jobs/").status_code == 403


def test_state_changes_answer_post_only_with_a_csrf_token(signed_in: SignedIn) -> None:
    auditor = signed_in("auditor")
    assert auditor.get("/audit/verify/").status_code == 405
    assert auditor.get("/audit/export/").status_code == 405
    assert auditor.client.post("/audit/verify/").status_code == 403
    assert not Task.objects.exists()


def test_verify_runs_as_a_task_reports_ok_and_is_audited(signed_in: SignedIn) -> None:
    auditor = signed_in("auditor")
    assert "ハッシュチェーン検証" in auditor.get("/audit/").content.decode()
    task, page = run_task(auditor, auditor.post("/audit/verify/", form="/audit/"))
    assert task.state == "done" and task.result["summary"]["結果"] == "正常", task.error
    assert "監査証跡は完全です" in page
    verified = AuditRecord.objects.get(event="audit:verify", username=auditor.username)
    assert verified.outcome == "ok" and json.loads(verified.detail)["checked"] > 0
    assert "正常" in auditor.get("/audit/").content.decode().split('data-testid="last-verify"', 1)[1][:300]


@pytest.mark.django_db(transaction=True)
def test_a_tampered_trail_is_reported_broken_at_its_first_bad_record(signed_in: SignedIn) -> None:
    from tests.integration.audit.helpers import owner_rights, sql

    auditor = signed_in("auditor")
    with owner_rights():
        sql("UPDATE audit_record SET username = 'someone.else' WHERE seq = 2")
    task, page = run_task(auditor, auditor.post("/audit/verify/", form="/audit/"))
    assert task.state == "done" and task.result["summary"]["最初の異常 seq"] == "2"
    assert "不整合を検出しました: seq 2" in page
    assert AuditRecord.objects.get(event="audit:verify").outcome == "broken"
    shown = auditor.get("/audit/").content.decode().split('data-testid="last-verify"', 1)[1][:400]
    assert "異常" in shown and "最初の異常 seq 2" in shown


def test_the_export_holds_the_matching_records_escaped_and_no_my_number(
        history: dict[str, Any], signed_in: SignedIn) -> None:
    with transaction.atomic():
        record(AuditEvent.PERSON_VIEW, actor=Actor("=HYPERLINK", "127.0.0.1"), objects=["1000000003"])
    auditor = signed_in("auditor")
    task, page = run_task(auditor, auditor.post("/audit/export/", {"since": day(history["now"] - TWENTY_DAYS)},
                                                form="/audit/"))
    assert task.state == "done", task.error
    text = download(auditor, page, ".csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_seq = {int(r["連番"]): r for r in rows}
    assert by_seq[history["clerk.old"]]["利用者"] == "clerk.old" and by_seq[history["clerk.mid"]]["対象"] == "1000000002"
    assert [int(r["連番"]) for r in rows] == sorted(by_seq) and len(rows) == task.result["summary"]["書き出した記録"]
    assert any(r["利用者"] == "'=HYPERLINK" for r in rows)  # formula escaped (staff-facing CSV)
    assert leakscan.scan_text(text) == []  # record hashes are hex digests, not numbers
    exported = AuditRecord.objects.get(event="audit:export", username=auditor.username)
    assert json.loads(exported.detail)["rows"] == len(rows)
    assert AuditRecord.objects.filter(event="file:download", username=auditor.username).exists()


def test_an_export_narrowed_to_a_user_holds_only_their_records(history: dict[str, Any], signed_in: SignedIn) -> None:
    auditor = signed_in("auditor")
    task, page = run_task(auditor, auditor.post("/audit/export/", {"user": "clerk.mid"}, form="/audit/"))
    assert task.params["user"] == "clerk.mid"
    rows = list(csv.DictReader(io.StringIO(download(auditor, page, ".csv").decode("utf-8-sig"))))
    assert [r["連番"] for r in rows] == [str(history["clerk.mid"])]
    refused = auditor.post("/audit/export/", {"since": "yesterday"}, form="/audit/")
    assert refused.status_code == 302 and Task.objects.count() == 1
    assert "YYYY-MM-DD" in auditor.get(refused["Location"]).content.decode()  # said once, as a message


def test_the_job_and_media_ledgers_list_without_personal_data(signed_in: SignedIn) -> None:
    from jutaku.exchange.media import MediaFile, record_media
    from jutaku.jobs.models import Job

    Job.objects.create(kind="register-kit", input_sha256="a" * 64, input_name="kit.csv", state="completed",
                       counts={"OK": 12, "E01": 3}, actor_username="clerk.t", actor_terminal="127.0.0.1")
    with transaction.atomic():
        record_media("write", MediaFile(Path("inq.csv"), "inquiry-request", "b" * 64, 10, 4),
                     actor=Actor("clerk.t", "127.0.0.1"))
    registrar = signed_in("registrar")
    jobs = registrar.get("/audit/jobs/").content.decode()
    ledger = jobs.split('data-testid="job-ledger"', 1)[1].split("</table>", 1)[0]
    assert "個人番号届出データの登録" in ledger and "register-kit" not in ledger and "完了" in ledger
    assert "OK 登録しました: 12" in ledger and "E01 個人番号のチェックデジットまたは桁数が不正です: 3" in ledger
    assert '<option value="register-kit">個人番号届出データの登録</option>' in jobs  # the kind filter, by name
    assert "個人番号届出データの登録" not in registrar.get("/audit/jobs/?kind=juki-import").content.decode().split(
        'data-testid="job-ledger"', 1)[1]
    media = registrar.get("/audit/media/").content.decode()
    assert "inq.csv" in media and "情報照会要求" in media and ">inquiry-request<" not in media


def test_the_job_ledger_shows_a_running_job_whose_process_died_as_interrupted_with_its_command(
        signed_in: SignedIn) -> None:
    """Issue 14 item 12: a ``running`` row whose kind's lock no process holds (killed by a signal) is 中断,
    with the command that resumes it; one whose lock is held is 実行中; a failed one is 失敗, resumable too."""
    from jutaku import config
    from jutaku.jobs.locks import file_lock
    from jutaku.jobs.models import Job

    def job(kind: str, name: str, state: str, **kw: Any) -> Job:
        return Job.objects.create(kind=kind, input_sha256=kind[:1] * 64, input_name=name, state=state, cursor=7,
                                  total=20, actor_username="clerk.t", actor_terminal="127.0.0.1", **kw)

    killed = job("import-targets", "targets 2026.csv", "running")
    job("bulk-deletion", "deletion-12", "failed", error_code="J_HANDLER")
    operations = signed_in("operations")
    with file_lock("register-kit", config.get().locks_dir):
        job("register-kit", "kit.csv", "running")
        page = operations.get("/audit/jobs/").content.decode()
    assert "中断" in page and "続きから処理するには: jutaku import targets &#x27;targets 2026.csv&#x27;" in page
    assert "失敗" in page and "続きから処理するには: jutaku delete run 12" in page
    assert "実行中" in page and page.count("続きから処理するには") == 2  # the live one needs nothing
    assert page.count(">中断<") == 1
    # Marked crashed by the next run of its kind, it is still 中断; the kit run's lock is free now: 中断 too.
    Job.objects.filter(pk=killed.pk).update(state="failed", error_code="J_CRASHED")
    assert operations.get("/audit/jobs/").content.decode().count(">中断<") == 2


def test_the_media_ledger_screen_shows_the_files_never_confirmed_erased(signed_in: SignedIn) -> None:
    """Issue 12 item 3: the 媒体管理台帳 shows the medium, the carrier and which files await an erasure."""
    from datetime import UTC, datetime

    from jutaku.exchange.models import MediaLedgerEntry

    def entry(interface: str, name: str, **kw: Any) -> None:
        MediaLedgerEntry.objects.create(at=datetime(2026, 6, 1, tzinfo=UTC), username="inq.t", terminal="10.0.0.5",
                                        direction="read", interface=interface, file_name=name, sha256="0" * 64,
                                        size=1, record_count=1, **kw)

    entry("kit", "kit-unerased.csv")
    entry("kit", "kit-erased.csv", media_id="USB-7", erased_at=datetime(2026, 6, 2, tzinfo=UTC), erased_by="reg.t")
    entry("targets", "targets.csv")
    auditor = signed_in("auditor")
    page = auditor.get("/audit/media/").content.decode()
    assert "媒体からの消去が未確認の記録: 1 件" in page and "USB-7" in page and "未確認" in page
    only = auditor.get("/audit/media/?unerased=1").content.decode()
    assert "kit-unerased.csv" in only and "kit-erased.csv" not in only and "targets.csv" not in only
