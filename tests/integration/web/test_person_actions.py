"""対象者詳細's actions (issue 12 items 1 and 6): a registrar or supervisor sets 不開示 at once with a reason;
a supervisor requests clearing and a different supervisor approves it in 承認待ち (step-up); a supervisor
corrects a death recorded from Juki-net (step-up). Roles without the permission are refused and audited;
every form needs its CSRF token. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.audit.models import AuditRecord
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import TARGETS
from jutaku.registry.models import Person
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]


@pytest.fixture
def person(tmp_path: Path) -> Person:
    build_world(WorldSpec(persons=30, seed=5, non_disclosure_rate=0.0, truth=False), tmp_path / "world")
    import_targets(tmp_path / "world" / "targets.csv", actor=SYSTEM, progress=False)
    found = Person.objects.filter(status="1").order_by("id").first()
    assert found is not None
    return found


def url(person: Person, action: str = "") -> str:
    return f"/persons/{person.pk}/{action}"


def flag(person: Person) -> bool:
    return bool(Person.objects.get(pk=person.pk).non_disclosure)


def post(browser: Browser, person: Person, action: str, **data: str) -> object:
    return browser.post(url(person, action), data, form=url(person))


def html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined, no-any-return]


def test_a_registrar_sets_non_disclosure_at_once_with_a_reason(person: Person, signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    page = html(registrar.get(url(person)))
    assert 'data-testid="nd-set"' in page and 'data-testid="nd-clear"' not in page
    response = post(registrar, person, "non-disclosure/set/", reason="窓口でDV被害の申出")
    assert response.status_code == 302 and response["Location"] == url(person)  # type: ignore[index]
    assert flag(person)
    shown = html(registrar.get(url(person)))
    assert "不開示を設定しました" in shown and 'class="badge bad">不開示' in shown and 'data-testid="nd-set"' not in shown
    record = AuditRecord.objects.get(event="non_disclosure:set")
    assert record.username == registrar.username and record.object_ids == person.person_id
    assert json.loads(record.detail) == {"reason": "窓口でDV被害の申出", "source": "manual"}


def test_a_short_reason_is_refused_and_changes_nothing(person: Person, signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    post(registrar, person, "non-disclosure/set/", reason="x")
    assert not flag(person) and "理由を4文字以上" in html(registrar.get(url(person)))
    assert not AuditRecord.objects.filter(event="non_disclosure:set").exists()


def test_roles_without_the_permission_are_refused_and_audited(person: Person, signed_in: SignedIn) -> None:
    inquirer = signed_in("inquirer")
    assert 'data-testid="nd-set"' not in html(inquirer.get(url(person)))
    assert post(inquirer, person, "non-disclosure/set/", reason="理由のテスト").status_code == 403  # type: ignore[attr-defined]
    registrar = signed_in("registrar")
    post(registrar, person, "non-disclosure/set/", reason="窓口での申出")
    assert post(registrar, person, "non-disclosure/clear/", reason="解除の申出").status_code == 403  # type: ignore[attr-defined]
    admin = signed_in("security_admin")
    response = admin.post(url(person, "non-disclosure/set/"), {"reason": "理由のテスト"})
    assert response.status_code == 403 and flag(person)
    assert not Approval.objects.exists()
    denied = [json.loads(r.detail)["permission"] for r in AuditRecord.objects.filter(event="access:denied")]
    assert denied == ["non_disclosure:set", "non_disclosure:clear", "non_disclosure:set"]


def test_every_form_needs_its_csrf_token(person: Person, signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    response = registrar.client.post(url(person, "non-disclosure/set/"), {"reason": "窓口での申出"})
    assert response.status_code == 403 and not flag(person)
    assert registrar.get(url(person, "non-disclosure/set/")).status_code == 405


def test_clearing_is_requested_by_a_supervisor_and_approved_by_another_after_step_up(
        person: Person, signed_in: SignedIn) -> None:
    first, second, admin = signed_in("supervisor"), signed_in("supervisor"), signed_in("security_admin")
    post(first, person, "non-disclosure/set/", reason="電話での申出")
    assert 'data-testid="nd-clear"' in html(first.get(url(person)))
    post(first, person, "non-disclosure/clear/", reason="本人から解除の申出")
    approval = Approval.objects.get(kind="non-disclosure-clear")
    assert approval.payload == {"person": person.pk, "persons": 1} and flag(person)
    page = html(first.get(url(person)))
    assert f"承認依頼 #{approval.pk}" in page and 'data-testid="nd-clear"' not in page
    # The queue names no 個人ID; a supervisor gets a link to the person, the security admin none and no button.
    queue = html(second.get("/approvals/"))
    assert "不開示設定の解除" in queue and "対象: 1 人" in queue and url(person) in queue
    admin_queue = html(admin.get("/approvals/"))
    assert "不開示設定の解除" in admin_queue and url(person) not in admin_queue
    assert person.person_id not in admin_queue and f"/approvals/{approval.pk}/approve/" not in admin_queue
    # The requester may not decide; the other supervisor must step up first.
    first.step_up()
    first.post(f"/approvals/{approval.pk}/approve/", form="/approvals/")
    assert flag(person) and "自分の依頼は承認・却下できません" in html(first.get("/approvals/"))
    response = second.post(f"/approvals/{approval.pk}/approve/", form="/approvals/")
    assert response.status_code == 302 and response["Location"].startswith("/step-up/") and flag(person)
    second.step_up()
    second.post(f"/approvals/{approval.pk}/approve/", form="/approvals/")
    assert not flag(person)
    assert Approval.objects.get(pk=approval.pk).state == ApprovalState.EXECUTED
    cleared = AuditRecord.objects.get(event="non_disclosure:clear")
    detail = json.loads(cleared.detail)
    assert (cleared.username, detail["requested_by"], detail["approved_by"]) == (
        second.username, first.username, second.username)
    assert html(second.get(url(person))).count("不開示の設定はありません") == 1


def test_a_supervisor_corrects_a_juki_net_death_after_step_up(person: Person, signed_in: SignedIn) -> None:
    Person.objects.filter(pk=person.pk).update(status="4", status_source="juki")
    registrar, supervisor = signed_in("registrar"), signed_in("supervisor")
    assert 'data-testid="status-correct"' not in html(registrar.get(url(person)))
    assert 'data-testid="status-correct"' in html(supervisor.get(url(person)))
    assert post(registrar, person, "status/correct/", status="1", reason="取り違え").status_code == 403  # type: ignore[attr-defined]
    response = post(supervisor, person, "status/correct/", status="1", reason="照会番号の取り違え")
    assert response["Location"].startswith("/step-up/")  # type: ignore[index]
    supervisor.step_up()
    post(supervisor, person, "status/correct/", status="1", status_date="20260401", reason="照会番号の取り違え")
    corrected = Person.objects.get(pk=person.pk)
    assert (corrected.status, corrected.status_source, str(corrected.status_date)) == ("1", "correction", "2026-04-01")
    page = html(supervisor.get(url(person)))
    assert "「死亡」から「有効」に訂正しました" in page and "記録元: 責任者の訂正" in page
    assert 'data-testid="status-correct"' not in page
    assert AuditRecord.objects.filter(event="person:status_correct", object_ids=person.person_id).count() == 1


def test_a_targets_upload_keeps_a_juki_net_death_and_offers_the_notice_list(
        person: Person, signed_in: SignedIn, tmp_path: Path) -> None:
    from tests.integration.web.test_files import fetch, links, rows_of, run_task, upload

    Person.objects.filter(pk=person.pk).update(status="4", status_source="juki")
    extract = tmp_path / "targets-2.csv"  # the next extract: still lists the person as current
    write_csv(extract, TARGETS, rows_of(tmp_path / "world" / "targets.csv"))
    registrar = signed_in("registrar")
    task = run_task(upload(registrar, "targets", extract.read_bytes(), "targets-2.csv"))
    assert task.state == "done" and task.result["summary"]["S01"] == 1
    offered = links(registrar, task)
    assert "差戻リスト" not in offered
    notices = rows_of(fetch(registrar, offered["届出勧奨リスト"]))
    assert [(n["個人ID"], n["相違内容"][:3]) for n in notices] == [(person.person_id, "S01")]
    assert Person.objects.get(pk=person.pk).status == "4"
