"""A number change keeps the linkage consistent (issue 12 item 8), on SQLite and PostgreSQL.

When a supervisor changes a person's My Number, the integrated number obtained for the old one is marked
for re-acquisition (audited with the change): inquiries leave the person out with ``X08`` (a request made
before and not yet sent is withheld), the next ``linkage request`` asks again with the new number, and
once its answer is imported the person is asked about again, under the new integrated number.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.permissions import ROLE_PERMISSIONS, Role
from jutaku.audit.models import AuditRecord
from jutaku.audit.service import verify
from jutaku.crypto.envelope import FieldCipher
from jutaku.domain import my_number
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import LINKAGE_RESULT_LAYOUT
from jutaku.linkage.inquiries import create_inquiries, create_inquiry_file, write_inquiries
from jutaku.linkage.models import InquiryRequest, IntegratedNumber, LinkageRequest
from jutaku.linkage.requests import create_requests, request_linkage
from jutaku.linkage.results import CIPHER_COLUMN, CIPHER_TABLE, import_linkage_results
from jutaku.registry import queries
from jutaku.registry.models import Filing, ImportRejection, Person
from jutaku.registry.numbers import change_number
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.linkage import answer_linkage, integrated_number
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]
INCOME = "JT99000000530001"
YEAR = 2026
SEED = 71
INQUIRER = Actor("iq.kato", "10.0.0.8", frozenset(ROLE_PERMISSIONS[Role.INQUIRER]))
SUPERVISOR = Actor("sv.sato", "10.0.0.6", frozenset(ROLE_PERMISSIONS[Role.SUPERVISOR]))
NEW_NUMBER = my_number.from_body("98765432109")


def rows_of(path: Path | None) -> list[dict[str, str]]:
    assert path is not None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def held_integrated(pid: str) -> str:
    token = IntegratedNumber.objects.get(person__person_id=pid).ciphertext
    return FieldCipher().decrypt(pid, CIPHER_TABLE, CIPHER_COLUMN, bytes(token)).decode()


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, str]:
    """A world whose numbered persons all hold integrated numbers, and one consenting 収入の申告 filer."""
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=SEED, consent_rate=1.0), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    request_linkage(tmp_path / "link.csv", actor=INQUIRER, plain=True)
    answer_linkage(world, tmp_path / "link.csv", tmp_path / "link-ans.csv")
    import_linkage_results(tmp_path / "link-ans.csv", actor=INQUIRER)
    pid = (Filing.objects.filter(procedure_code=INCOME, fiscal_year=YEAR, person__status="1",
                                 person__integrated_number__isnull=False)
           .order_by("id").values_list("person__person_id", flat=True).first())
    assert pid is not None
    return world, str(pid)


def test_a_changed_number_is_linked_again_and_inquiries_wait_for_it(linked: tuple[Path, str], tmp_path: Path) -> None:
    _, pid = linked
    old_integrated = held_integrated(pid)
    inq_job, _ = create_inquiries(INCOME, YEAR, actor=INQUIRER)  # made before the change, not yet sent
    assert InquiryRequest.objects.filter(person__person_id=pid, state="open").exists()

    change_number(pid, NEW_NUMBER, actor=SUPERVISOR, reason="番号変更届（漏えいによる変更）")
    marked = IntegratedNumber.objects.get(person__person_id=pid)
    assert marked.reacquire_since is not None
    audit = AuditRecord.objects.get(event="number:change")
    assert json.loads(audit.detail)["integrated_number_marked"] == 1 and NEW_NUMBER not in audit.detail
    person = Person.objects.get(person_id=pid)
    detail = queries.person_file(person.pk, actor=SUPERVISOR)
    assert detail is not None and detail.integrated.startswith("再取得待ち")

    # The request made before the change is withheld; a new inquiry leaves the person out with X08.
    path, _, _ = write_inquiries(INCOME, YEAR, tmp_path / "inq.csv", actor=INQUIRER, job_id=inq_job, plain=True)
    assert pid not in {r["個別業務システム利用番号"] for r in rows_of(path)}
    assert set(ImportRejection.objects.filter(job_id=inq_job, person_id=pid).values_list("code", flat=True)) == {"X08"}
    assert set(InquiryRequest.objects.filter(person__person_id=pid).values_list("state", flat=True)) == {"cancelled"}
    waiting = create_inquiry_file(INCOME, YEAR, tmp_path / "inq-wait.csv", actor=INQUIRER, plain=True)
    assert waiting.counts.get("X08") == 1 and waiting.path is None
    assert dict(ImportRejection.objects.filter(job_id=waiting.job_id, code="X08")
                .values_list("person_id", "code")) == {pid: "X08"}

    # The next linkage request asks again with the new number (and only for this person).
    again = request_linkage(tmp_path / "link2.csv", actor=INQUIRER, plain=True)
    sent = rows_of(again.path)
    assert [(r["個別業務システム利用番号"], r["個人番号"]) for r in sent] == [(pid, NEW_NUMBER)]
    create_requests(actor=INQUIRER)  # while it is open, nothing is asked twice
    assert LinkageRequest.objects.filter(person__person_id=pid, state="open").count() == 1

    # The server's answer for the new number replaces the marked one; the person is asked about again.
    renewed = integrated_number(SEED + 1, pid)
    assert renewed != old_integrated
    write_csv(tmp_path / "link2-ans.csv", LINKAGE_RESULT_LAYOUT, [
        {"要求番号": sent[0]["要求番号"], "個別業務システム利用番号": pid, "団体内統合利用番号": renewed,
         "結果コード": "0", "エラー内容": ""}])
    result = import_linkage_results(tmp_path / "link2-ans.csv", actor=INQUIRER)
    assert result.job.counts == {"OK": 1}
    assert held_integrated(pid) == renewed
    assert IntegratedNumber.objects.get(person__person_id=pid).reacquire_since is None
    asked = create_inquiry_file(INCOME, YEAR, tmp_path / "inq-again.csv", actor=INQUIRER, plain=True)
    rows = rows_of(asked.path)
    assert rows and {(r["個別業務システム利用番号"], r["団体内統合利用番号"]) for r in rows} == {(pid, renewed)}
    assert "X08" not in asked.counts
    assert verify().ok


def test_a_change_cancels_an_open_linkage_request_made_with_the_old_number(linked: tuple[Path, str],
                                                                          tmp_path: Path) -> None:
    _, pid = linked
    IntegratedNumber.objects.filter(person__person_id=pid).delete()  # as if never answered
    create_requests(actor=INQUIRER)
    old = LinkageRequest.objects.get(person__person_id=pid, state="open")
    change_number(pid, NEW_NUMBER, actor=SUPERVISOR, reason="番号変更届")
    old.refresh_from_db()
    assert old.state == "cancelled" and "個人番号の変更" in old.error_text
    again = request_linkage(tmp_path / "link2.csv", actor=INQUIRER, plain=True)
    assert [(r["個別業務システム利用番号"], r["個人番号"]) for r in rows_of(again.path)] == [(pid, NEW_NUMBER)]
