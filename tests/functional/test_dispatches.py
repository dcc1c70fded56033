"""Dispatches (ADR 0011): a request file is sent as a whole, recorded once; SQLite and PostgreSQL.

- a crash while the file is written leaves its dispatch unsent and nothing audited as sent; the next run
  writes the left-over requests again, with its own, in one file, and marks both dispatches sent;
- an answer naming a request whose file never went out is refused as unknown (the other side cannot
  have it), for the three result imports;
- sending rewrites no request row: each request keeps the state ``open`` until its answer comes;
- the inquiry audit has one ``sent`` record per person and filing, with the code sent and the count.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.models import AuditRecord
from jutaku.audit.service import verify
from jutaku.exchange import outbound
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import INQUIRY_RESULT_LAYOUT, JUKI_RESULT_LAYOUT, LINKAGE_RESULT_LAYOUT
from jutaku.jobs.errors import JobBusy
from jutaku.juki.requests import create_queries
from jutaku.juki.results import import_juki_results
from jutaku.linkage import dispatch
from jutaku.linkage.inquiries import create_inquiries, create_inquiry_file
from jutaku.linkage.inquiry_results import import_inquiry_results
from jutaku.linkage.models import Dispatch, InquiryRequest, LinkageRequest
from jutaku.linkage.requests import create_requests, request_linkage
from jutaku.linkage.results import import_linkage_results
from jutaku.registry.models import ImportRejection
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.linkage import answer_linkage
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
INCOME = "JT99000000530001"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def world(tmp_path: Path) -> Path:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=150, seed=7, non_disclosure_rate=0.2, consent_rate=1.0), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    return world


class Boom(Exception):
    pass


def test_a_crash_while_writing_leaves_the_dispatch_unsent_and_the_next_file_carries_it(
        world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = outbound.write_csv

    def dies_half_way(target, layout, rows, **kw):  # type: ignore[no-untyped-def]
        def some():
            for n, row in enumerate(rows):
                if n == 20:
                    raise Boom
                yield row
        return real(target, layout, some(), **kw)

    monkeypatch.setattr(outbound, "write_csv", dies_half_way)
    with pytest.raises(Boom):
        request_linkage(tmp_path / "req.csv", actor=SYSTEM, plain=True)
    monkeypatch.setattr(outbound, "write_csv", real)
    first = list(LinkageRequest.objects.values_list("request_no", flat=True))
    assert first and not (tmp_path / "req.csv").exists()
    [unsent] = Dispatch.objects.filter(kind="linkage")
    assert unsent.sent_at is None
    assert not AuditRecord.objects.filter(event="linkage:request").exists()

    again = request_linkage(tmp_path / "req2.csv", actor=SYSTEM, plain=True)
    # Everyone already had an open request: the new run created none, and the file carries the old ones.
    assert again.created == 0
    assert sorted(r["要求番号"] for r in rows_of(tmp_path / "req2.csv")) == sorted(first)
    assert set(Dispatch.objects.filter(kind="linkage").values_list("sent_file_sha256", flat=True)) == {again.sha256}
    assert set(LinkageRequest.objects.values_list("state", flat=True)) == {"open"}  # no row rewritten
    assert AuditRecord.objects.filter(event="linkage:request").count() == len(first)
    assert verify().ok


def test_answers_to_requests_never_sent_are_unknown(world: Path, tmp_path: Path) -> None:
    create_requests(actor=SYSTEM)  # created, file never written
    unsent = list(LinkageRequest.objects.select_related("person")[:3])
    write_csv(tmp_path / "link-ans.csv", LINKAGE_RESULT_LAYOUT, [
        {"要求番号": r.request_no, "個別業務システム利用番号": r.person.person_id, "団体内統合利用番号": f"{i:015d}",
         "結果コード": "0", "エラー内容": ""} for i, r in enumerate(unsent, 1)])
    job = import_linkage_results(tmp_path / "link-ans.csv", actor=SYSTEM).job
    assert job.counts == {"L01": 3}
    assert set(LinkageRequest.objects.values_list("state", flat=True)) == {"open"}

    create_queries(2026, actor=SYSTEM)
    q = Dispatch.objects.get(kind="juki")
    assert q.sent_at is None
    from jutaku.juki.models import JukiQuery

    query = JukiQuery.objects.select_related("person").first()
    assert query is not None
    write_csv(tmp_path / "juki-ans.csv", JUKI_RESULT_LAYOUT, [{
        "照会番号": query.query_no, "処理結果": "01", "住民票コード": "", "個人番号": "", "氏名": "", "氏名カナ": "",
        "生年月日": "", "性別": "", "住所": "", "異動事由": "", "異動年月日": "", "現存区分": ""}])
    assert import_juki_results(tmp_path / "juki-ans.csv", actor=SYSTEM).job.counts == {"J01": 1}


def test_inquiry_answers_to_an_unsent_file_are_unknown_and_sending_rewrites_no_request(
        world: Path, tmp_path: Path) -> None:
    request_linkage(tmp_path / "link-req.csv", actor=SYSTEM, plain=True)
    answer_linkage(world, tmp_path / "link-req.csv", tmp_path / "link-ans.csv")
    import_linkage_results(tmp_path / "link-ans.csv", actor=SYSTEM)
    create_inquiries(INCOME, 2026, actor=SYSTEM)
    request = InquiryRequest.objects.order_by("id").first()
    assert request is not None
    write_csv(tmp_path / "inq-ans.csv", INQUIRY_RESULT_LAYOUT, [{
        "要求番号": request.request_no, "団体内統合利用番号": "0" * 15, "特定個人情報名コード": request.info_code,
        "結果コード": "01", "未設定事由": "", "結果データ": ""}])
    job = import_inquiry_results(tmp_path / "inq-ans.csv", actor=SYSTEM).job
    assert job.counts == {"Q01": 1}
    assert ImportRejection.objects.filter(job_id=job.job_id, code="Q01").count() == 1

    made = create_inquiry_file(INCOME, 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    file_rows = rows_of(tmp_path / "inq.csv")
    assert made.written == len(file_rows) == InquiryRequest.objects.count()
    assert set(InquiryRequest.objects.values_list("state", flat=True)) == {"open"}
    sent = Dispatch.objects.filter(kind="inquiry", sent_at__isnull=False)
    assert sum(d.sent_rows or 0 for d in sent) == made.written
    # One `sent` record per person and filing, carrying the code sent and how many requests it covers.
    records = [(r.object_ids, json.loads(r.detail))
               for r in AuditRecord.objects.filter(event="inquiry:request", outcome="sent")]
    per_person = Counter(r["個別業務システム利用番号"] for r in file_rows)
    assert sum(d["requests"] for _, d in records) == made.written
    assert {pid for pid, _ in records} == set(per_person)
    codes = {r["個別業務システム利用番号"]: r["不開示コード"] for r in file_rows}
    assert all(d["non_disclosure"] == codes[pid] for pid, d in records)
    assert "2" in codes.values()  # the world flags some persons: the rule is exercised
    assert verify().ok


def test_the_file_lock_stops_a_second_run_of_the_same_kind(world: Path, tmp_path: Path) -> None:
    with dispatch.file_lock("linkage"), pytest.raises(JobBusy):
        request_linkage(tmp_path / "req.csv", actor=SYSTEM, plain=True)
    assert not LinkageRequest.objects.exists()
