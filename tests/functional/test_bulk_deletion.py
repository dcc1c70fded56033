"""Bulk deletion end to end (issue 6 item 3): propose → request → approval by another → run.

After the run a deleted person's number, integrated number, inquiry answers and Juki-net data are gone,
their data key is destroyed, no lookup by their number finds anything, the business export no longer
carries them, the deletion report holds no number — and the audit chain still verifies. A list that
contradicts the register is refused whole; a crash mid-run resumes. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.approvals import approve
from jutaku.accounts.permissions import Permission
from jutaku.audit.service import verify
from jutaku.crypto.blind_index import blind_index
from jutaku.crypto.envelope import FieldCipher
from jutaku.crypto.models import PersonKey
from jutaku.domain import leakscan
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import DELETION_TARGETS, TARGETS
from jutaku.juki.models import JukiResult
from jutaku.linkage.inquiries import create_inquiry_file
from jutaku.linkage.inquiry_results import import_inquiry_results
from jutaku.linkage.models import InquiryResult, IntegratedNumber
from jutaku.linkage.requests import request_linkage
from jutaku.linkage.results import import_linkage_results
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.retention import deletion
from jutaku.retention.deletion import DeletionRefused, propose, request_deletion, run_deletion
from jutaku.retention.models import DeletionRecord
from jutaku.sim.linkage import answer_inquiries, answer_linkage
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
REGISTRAR = Actor("reg.ito", "10.0.0.7", frozenset(Permission))
SUPERVISOR = Actor("sv.sato", "10.0.0.6", frozenset(Permission))


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def world(tmp_path: Path) -> Path:
    out = tmp_path / "world"
    build_world(WorldSpec(persons=500, seed=37), out)
    import_targets(out / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(out / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(out / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    request_linkage(tmp_path / "req.csv", actor=SYSTEM, plain=True)
    answer_linkage(out, tmp_path / "req.csv", tmp_path / "ans.csv")
    import_linkage_results(tmp_path / "ans.csv", actor=SYSTEM)
    create_inquiry_file("JT99000000530001", 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    answer_inquiries(out, tmp_path / "inq.csv", tmp_path / "inq-ans.csv")
    import_inquiry_results(tmp_path / "inq-ans.csv", actor=SYSTEM)
    # The housing system reports that some registered residents moved out.
    targets = rows_of(out / "targets.csv")
    holders = set(MyNumberRecord.objects.values_list("person__person_id", flat=True))
    moved = [t for t in targets if t["個人ID"] in holders][:40:4]
    for t in moved:
        t.update(状態="2", 状態日付="20261001")
    write_csv(tmp_path / "moves.csv", TARGETS, moved)
    import_targets(tmp_path / "moves.csv", actor=SYSTEM, progress=False)
    return out


def _numbers(pids: set[str]) -> dict[str, str]:
    held = list(MyNumberRecord.objects.filter(person__person_id__in=pids).values_list("person__person_id", "ciphertext"))
    plain = FieldCipher().decrypt_many("registry_mynumberrecord", "my_number", [(p, bytes(t)) for p, t in held])
    return {p: n.decode() for (p, _), n in zip(held, plain, strict=True)}


def test_a_deleted_person_is_unrecoverable_and_the_chain_still_verifies(world: Path, tmp_path: Path) -> None:
    path, info = propose(tmp_path / "proposal.csv", actor=REGISTRAR, today=date(2026, 11, 28), deceased_after_days=90)
    proposed = rows_of(path)
    moved = set(Person.objects.filter(status="2").values_list("person_id", flat=True))
    holders = set(MyNumberRecord.objects.values_list("person__person_id", flat=True))
    assert {r["個人ID"] for r in proposed} == moved & holders and info.rows == len(proposed) > 0
    assert all(r["削除理由"] == "1" for r in proposed)
    doomed = {r["個人ID"] for r in proposed}
    numbers = _numbers(doomed)
    kept = set(list(holders - doomed)[:20])
    kept_numbers = _numbers(kept)

    approval = request_deletion(path, actor=REGISTRAR, reason="退去者の個人番号削除")
    with pytest.raises(DeletionRefused):
        run_deletion(approval.pk, actor=REGISTRAR, report=tmp_path / "early.csv")  # not approved yet
    approve(approval.pk, actor=SUPERVISOR)
    result = run_deletion(approval.pk, actor=REGISTRAR, report=tmp_path / "report.csv")
    assert result.job.counts["persons"] == len(doomed)

    gone = Person.objects.filter(person_id__in=doomed)
    assert not MyNumberRecord.objects.filter(person__in=gone).exists()
    assert not IntegratedNumber.objects.filter(person__in=gone).exists()
    assert not InquiryResult.objects.filter(person__in=gone).exists()
    assert not JukiResult.objects.filter(person__in=gone).exists()
    assert not PersonKey.objects.filter(person_ref__in=doomed).exists()
    # No lookup by the number finds anyone; the others are untouched and still decrypt.
    assert not MyNumberRecord.objects.filter(blind_index__in=[blind_index(n) for n in numbers.values()]).exists()
    assert _numbers(kept) == kept_numbers
    # The deletion report: who, approver, what, how — and no number.
    report = rows_of(tmp_path / "report.csv")
    assert {r["個人ID"] for r in report} == doomed
    assert all(r["依頼者"] == "reg.ito" and r["承認者"] == "sv.sato" and r["削除理由"] == "1" for r in report)
    data = (tmp_path / "report.csv").read_bytes()
    assert not list(leakscan.scan(data)) and not leakscan.contains_any(data, numbers.values())
    assert DeletionRecord.objects.filter(person_ref__in=doomed).count() == len(doomed) == len(deletion.deleted_refs())
    assert verify().ok
    with pytest.raises(DeletionRefused):
        run_deletion(approval.pk, actor=REGISTRAR, report=tmp_path / "again.csv")  # once


def test_a_list_that_contradicts_the_register_is_refused_whole(world: Path, tmp_path: Path) -> None:
    current = list(Person.objects.filter(status="1", my_number__isnull=False).values_list("person_id", flat=True)[:2])
    moved = list(Person.objects.filter(status="2", my_number__isnull=False).values_list("person_id", flat=True)[:1])
    write_csv(tmp_path / "list.csv", DELETION_TARGETS, [{"個人ID": moved[0], "削除理由": "1"},
                                                       {"個人ID": current[0], "削除理由": "1"},  # 退去, but current
                                                       {"個人ID": "1999999999", "削除理由": "9"}])  # unknown
    with pytest.raises(DeletionRefused) as exc:
        request_deletion(tmp_path / "list.csv", actor=REGISTRAR, reason="test")
    assert "3行目" in str(exc.value) and "4行目" in str(exc.value) and current[0] not in str(exc.value)
    assert MyNumberRecord.objects.filter(person__person_id__in=[*current, *moved]).count() == 3
    from jutaku.accounts.models import Approval

    assert not Approval.objects.filter(kind=deletion.KIND).exists()


def test_a_crash_mid_run_resumes_and_deletes_each_person_once(world: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = propose(tmp_path / "proposal.csv", actor=REGISTRAR, today=date(2026, 11, 28))
    doomed = {r["個人ID"] for r in rows_of(path)}
    approval = request_deletion(path, actor=REGISTRAR, reason="退去者")
    approve(approval.pk, actor=SUPERVISOR)
    real = deletion.record_many
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash")
        return int(real(*args, **kwargs))

    monkeypatch.setattr(deletion, "record_many", failing)
    with pytest.raises(RuntimeError):
        run_deletion(approval.pk, actor=REGISTRAR, report=tmp_path / "r.csv", chunk_size=3)
    assert DeletionRecord.objects.count() == 3  # the first chunk only; the second rolled back whole
    assert MyNumberRecord.objects.filter(person__person_id__in=doomed).count() == len(doomed) - 3
    monkeypatch.setattr(deletion, "record_many", real)
    result = run_deletion(approval.pk, actor=REGISTRAR, report=tmp_path / "r.csv", chunk_size=3)
    assert result.job.resumed and DeletionRecord.objects.count() == len(doomed)
    assert not MyNumberRecord.objects.filter(person__person_id__in=doomed).exists()
    assert verify().ok


def test_a_deleted_person_stays_a_shell_that_imports_leave_alone_until_they_come_back(world: Path,
                                                                                      tmp_path: Path) -> None:
    """Issue 12: the next extracts do not bring a deleted person's data back — a moved-out row is I02, a
    filing E09, a notification E03 — until the housing system says they became current after the
    deletion (a new application): then the register entry is filled again."""
    from jutaku.formats.layouts import KIT, PROCEDURES
    from jutaku.registry.models import Filing, ImportRejection
    from jutaku.stats.service import persons_table

    path, _ = propose(tmp_path / "proposal.csv", actor=REGISTRAR, today=date(2026, 11, 28))
    doomed = sorted(r["個人ID"] for r in rows_of(path))
    before = persons_table(1).cells[-1][-1]
    approval = request_deletion(path, actor=REGISTRAR, reason="退去者")
    approve(approval.pk, actor=SUPERVISOR)
    run_deletion(approval.pk, actor=REGISTRAR, report=tmp_path / "report.csv")
    shells = Person.objects.filter(person_id__in=doomed)
    assert all(p.is_erased and p.name == p.address == p.household_no == "" and p.birth_date is None for p in shells)
    assert not Filing.objects.filter(person__in=shells).exists()
    assert persons_table(1).cells[-1][-1] == before - len(doomed)  # statistics count numbers held

    targets = {t["個人ID"]: t for t in rows_of(world / "targets.csv")}
    again = [{**targets[p], "状態": "2", "状態日付": "20261002"} for p in doomed]  # the next extract
    write_csv(tmp_path / "again.csv", TARGETS, again)
    assert import_targets(tmp_path / "again.csv", actor=SYSTEM, progress=False).job.counts == {"I02": len(doomed)}
    write_csv(tmp_path / "filing.csv", PROCEDURES, [{
        "受付番号": "P209912310001", "手続コード": "JT99000000530001", "年度": "2026", "受付日": "20261201",
        "申請者個人ID": doomed[0], "対象者個人ID": doomed[0], "照会同意": "1", "不開示希望": "1"}])
    assert import_procedures(tmp_path / "filing.csv", actor=SYSTEM, progress=False).job.counts == {"E09": 1}
    kit = [r for r in rows_of(world / "kit.csv") if r["個人ID"] == doomed[0]][:1]
    write_csv(tmp_path / "kit.csv", KIT, [{**kit[0], "受付番号": "K209912310001"}])
    assert register_numbers(tmp_path / "kit.csv", source="kit", actor=SYSTEM, progress=False,
                            workers=0).job.counts == {"E03": 1}
    assert not Filing.objects.filter(person__in=shells).exists() and not MyNumberRecord.objects.filter(
        person__in=shells).exists() and not Person.objects.filter(person_id__in=doomed, non_disclosure=True).exists()
    assert ImportRejection.objects.filter(person_id=doomed[0]).count() == 2  # the new refusals are recorded

    back = [{**targets[doomed[0]], "状態": "1", "状態日付": "20991231"}]
    write_csv(tmp_path / "back.csv", TARGETS, back)
    assert import_targets(tmp_path / "back.csv", actor=SYSTEM, progress=False).job.counts == {"U01": 1}
    person = Person.objects.get(person_id=doomed[0])
    assert not person.is_erased and person.name == targets[doomed[0]]["氏名"] and person.status == "1"
    assert DeletionRecord.objects.filter(person=person).exists()  # the 削除記録 stays
    assert verify().ok
