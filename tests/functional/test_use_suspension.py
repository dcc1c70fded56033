"""A handled 利用停止請求 stops use at once (issue 12 item 2, seed V-1), on SQLite and PostgreSQL.

From the moment a use-suspension request is handled until it is lifted (dual control, audited) or the
data are deleted, the person is left out of every outbound file — inquiry requests, linkage requests,
Juki-net queries, the business export — with ``X07`` on that file's exclusion list; a request made
before the suspension is not written after it.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.approvals import approve
from jutaku.accounts.errors import AccessDenied
from jutaku.accounts.permissions import ROLE_PERMISSIONS, Role
from jutaku.audit.models import AuditRecord
from jutaku.audit.service import verify
from jutaku.juki.models import JukiQuery
from jutaku.juki.requests import create_queries, request_juki, write_queries
from jutaku.linkage.export import request_export, run_export, write_exclusions
from jutaku.linkage.inquiries import create_inquiries, create_inquiry_file, write_inquiries
from jutaku.linkage.inquiry_results import import_inquiry_results
from jutaku.linkage.models import InquiryRequest, IntegratedNumber, LinkageRequest
from jutaku.linkage.requests import create_requests, request_linkage, write_requests
from jutaku.linkage.results import import_linkage_results
from jutaku.registry.models import Filing, ImportRejection, Person
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.linkage import Rates, answer_inquiries, answer_linkage
from jutaku.sim.world import WorldSpec, build_world
from jutaku.subjects.models import SubjectRequest
from jutaku.subjects.service import handle, record_request
from jutaku.subjects.suspension import LiftRefused, request_lift, suspended_persons

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
INCOME = "JT99000000530001"
YEAR = 2026
CLERK = Actor("rg.ito", "10.0.0.7", frozenset(ROLE_PERMISSIONS[Role.REGISTRAR]))
INQUIRER = Actor("iq.kato", "10.0.0.8", frozenset(ROLE_PERMISSIONS[Role.INQUIRER]))
SUPERVISOR = Actor("sv.sato", "10.0.0.6", frozenset(ROLE_PERMISSIONS[Role.SUPERVISOR]))
SUSPENDED = "X07"


def rows_of(path: Path | None) -> list[dict[str, str]]:
    assert path is not None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def persons_in(path: Path | None, column: str = "個別業務システム利用番号") -> set[str]:
    return {r[column] for r in rows_of(path)}


def exclusions(job_id: int) -> dict[str, str]:
    return dict(ImportRejection.objects.filter(job_id=job_id).values_list("person_id", "code"))


def loaded_world(tmp_path: Path, seed: int) -> Path:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=seed, consent_rate=1.0), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    return world


def filers(n: int) -> list[str]:
    """個人ID of ``n`` current, numbered persons who filed 収入の申告 this year, in different households."""
    found: dict[str, str] = {}
    for pid, household in (Filing.objects.filter(procedure_code=INCOME, fiscal_year=YEAR, person__status="1",
                                                 person__my_number__isnull=False)
                           .order_by("id").values_list("person__person_id", "person__household_no")):
        found.setdefault(household, pid)
    assert len(found) >= n
    return list(found.values())[:n]


def suspend(pid: str) -> SubjectRequest:
    request = record_request(pid, "suspension", received_on=date(2026, 11, 27), actor=CLERK)
    return handle(request.pk, actor=CLERK, note="利用停止を決定")


def pk_of(pid: str) -> int:
    return int(Person.objects.get(person_id=pid).pk)


def linkage_cycle(world: Path, tmp_path: Path, name: str, rates: Rates | None = None) -> set[str]:
    sent = request_linkage(tmp_path / f"{name}.csv", actor=INQUIRER, plain=True)
    answer_linkage(world, tmp_path / f"{name}.csv", tmp_path / f"{name}-ans.csv", rates or Rates())
    import_linkage_results(tmp_path / f"{name}-ans.csv", actor=INQUIRER)
    return persons_in(sent.path)


def test_a_handled_suspension_leaves_the_person_out_of_every_request_file_until_it_is_lifted(
        tmp_path: Path) -> None:
    world = loaded_world(tmp_path, seed=61)
    (pid,) = filers(1)
    received = record_request(pid, "suspension", received_on=date(2026, 11, 27), actor=CLERK)
    assert suspended_persons() == frozenset()  # received is not yet handled
    request = handle(received.pk, actor=CLERK)
    assert suspended_persons() == {pk_of(pid)}

    linked = request_linkage(tmp_path / "link.csv", actor=INQUIRER, plain=True)
    assert pid not in persons_in(linked.path) and linked.written > 0
    assert exclusions(linked.job_id) == {pid: SUSPENDED} and linked.excluded == 1
    answer_linkage(world, tmp_path / "link.csv", tmp_path / "link-ans.csv")
    import_linkage_results(tmp_path / "link-ans.csv", actor=INQUIRER)
    assert not IntegratedNumber.objects.filter(person__person_id=pid).exists()

    made = create_inquiry_file(INCOME, YEAR, tmp_path / "inq.csv", actor=INQUIRER, plain=True)
    assert pid not in persons_in(made.path) and made.written > 0
    assert exclusions(made.job_id)[pid] == SUSPENDED and made.counts[SUSPENDED] == 1
    juki = request_juki(YEAR, tmp_path / "juki.csv", actor=INQUIRER, plain=True)
    assert not JukiQuery.objects.filter(person__person_id=pid).exists() and juki.written > 0
    assert exclusions(juki.job_id) == {pid: SUSPENDED} and juki.excluded == 1

    # Lifting is dual control: the clerk asks, the clerk cannot decide, a supervisor's approval lifts it.
    with pytest.raises(LiftRefused):
        request_lift(received.pk + 999, actor=CLERK, reason="誤り")
    approval = request_lift(request.pk, actor=CLERK, reason="本人が利用停止請求を取り下げたため")
    with pytest.raises(LiftRefused):
        request_lift(request.pk, actor=CLERK, reason="二重の依頼")
    with pytest.raises(AccessDenied):
        approve(approval.pk, actor=CLERK)
    assert suspended_persons() == {pk_of(pid)}
    approve(approval.pk, actor=SUPERVISOR)
    request.refresh_from_db()
    assert request.state == "lifted" and request.lift_approval == approval.pk and request.lifted_at is not None
    lift = AuditRecord.objects.get(event="subject:lift")
    assert lift.username == SUPERVISOR.username and pid in lift.object_ids
    assert suspended_persons() == frozenset()

    assert pid in linkage_cycle(world, tmp_path, "link2")
    again = create_inquiry_file(INCOME, YEAR, tmp_path / "inq2.csv", actor=INQUIRER, plain=True)
    assert persons_in(again.path) == {pid} and SUSPENDED not in again.counts
    juki2 = request_juki(YEAR, tmp_path / "juki2.csv", actor=INQUIRER, plain=True)
    assert JukiQuery.objects.filter(person__person_id=pid).count() == 1 and juki2.written >= 1
    assert verify().ok


def test_requests_made_before_a_suspension_are_withheld_and_the_export_leaves_the_person_out(
        tmp_path: Path) -> None:
    world = loaded_world(tmp_path, seed=67)
    linkage_cycle(world, tmp_path, "link", Rates(not_found=0.1))
    answered, asked = filers(2)
    unlinked = str(LinkageRequest.objects.filter(state="not_found", person__status="1")
                   .values_list("person__person_id", flat=True).order_by("id").first())
    # Requests are made (not yet written) ...
    link_job, _ = create_requests(actor=INQUIRER)
    inq_job, _ = create_inquiries(INCOME, YEAR, actor=INQUIRER)
    juki_job, _ = create_queries(YEAR, actor=INQUIRER)
    assert LinkageRequest.objects.filter(person__person_id=unlinked, state="open").exists()
    assert InquiryRequest.objects.filter(person__person_id=asked, state="open").exists()
    assert JukiQuery.objects.filter(person__person_id=asked, state="open").exists()
    # ... then the suspensions are handled, then the files are written.
    suspend(asked)
    suspend(unlinked)
    path, _, _, _ = write_requests(tmp_path / "link2.csv", actor=INQUIRER, job_id=link_job, plain=True)
    assert unlinked not in persons_in(path)
    assert exclusions(link_job) == {unlinked: SUSPENDED}
    assert set(LinkageRequest.objects.filter(person__person_id=unlinked).values_list("state", flat=True)) == \
        {"not_found", "cancelled"}
    inq_path, _, inq_written = write_inquiries(INCOME, YEAR, tmp_path / "inq.csv", actor=INQUIRER, job_id=inq_job, plain=True)
    assert asked not in persons_in(inq_path) and answered in persons_in(inq_path) and inq_written > 0
    assert exclusions(inq_job)[asked] == SUSPENDED
    withheld = set(ImportRejection.objects.filter(job_id=inq_job, person_id=asked).values_list("receipt_no", "code"))
    cancelled = InquiryRequest.objects.filter(person__person_id=asked)
    assert set(cancelled.values_list("state", flat=True)) == {"cancelled"}
    assert withheld == {(no, SUSPENDED) for no in cancelled.values_list("request_no", flat=True)}
    juki_path, _, _ = write_queries(tmp_path / "juki.csv", actor=INQUIRER, job_id=juki_job, plain=True)
    assert JukiQuery.objects.get(person__person_id=asked).state == "cancelled"
    assert exclusions(juki_job)[asked] == SUSPENDED and juki_path is not None
    assert {r.outcome for r in AuditRecord.objects.filter(object_ids__contains=asked,
                                                          event__in=["inquiry:request", "juki:request"])} == {"withheld"}

    # Answers that were sent are stored; once the answered person's use is suspended, the business
    # export leaves their rows out and lists them with X07.
    answer_inquiries(world, inq_path, tmp_path / "inq-ans.csv")
    import_inquiry_results(tmp_path / "inq-ans.csv", actor=INQUIRER)
    suspend(answered)
    approval = request_export(INCOME, YEAR, actor=INQUIRER, reason="家賃算定")
    approve(approval.pk, actor=SUPERVISOR)
    result = run_export(approval.pk, tmp_path / "business.csv", actor=INQUIRER, plain=True)
    exported = rows_of(result.path)
    assert exported and answered not in {r["個人ID"] for r in exported} and asked not in {r["個人ID"] for r in exported}
    receipts = set(Filing.objects.filter(person__person_id=answered, procedure_code=INCOME)
                   .values_list("receipt_no", flat=True))
    assert set(result.excluded) == {(r, answered) for r in receipts}
    listed, _ = write_exclusions(result, tmp_path / "business-exclusions.csv", actor=INQUIRER)
    assert [(r["個人ID"], r["結果コード"]) for r in rows_of(listed)] == [(answered, SUSPENDED)] * len(receipts)
    assert verify().ok
