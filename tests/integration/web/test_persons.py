"""対象者検索・対象者詳細 (issue 7 item 3): search-first and capped, number lookup by POST only and audited
without the number, masked number on the detail page, 不開示 only for the roles that need it, unmask only
for a supervisor after step-up with a reason. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jaconv
import pytest

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.approvals import approve
from jutaku.accounts.permissions import ROLE_PERMISSIONS, Permission, Role
from jutaku.allowlist.names import current
from jutaku.audit.models import AuditRecord
from jutaku.crypto.envelope import FieldCipher
from jutaku.domain import leakscan, my_number
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import TARGETS
from jutaku.juki.models import JukiResult
from jutaku.linkage.models import InquiryRequest, InquiryResult
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.registry.procedures import import_procedures
from jutaku.registry.queries import may_see_non_disclosure
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.retention.deletion import propose, request_deletion, run_deletion
from jutaku.sim.faults import FaultRates
from jutaku.sim.world import WorldSpec, build_world
from tests.integration.registry.test_person_queries import cycled  # noqa: F401 - fixture
from tests.integration.web.conftest import SignedIn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]


@dataclass
class World:
    path: Path
    targets: dict[str, dict[str, str]]  # 個人ID -> row of targets.csv
    numbers: dict[str, str]  # 個人ID -> registered My Number

    def person(self, person_id: str) -> Person:
        return Person.objects.get(person_id=person_id)

    def numbered(self) -> str:
        return sorted(self.numbers)[0]

    def url(self, person_id: str) -> str:
        return f"/persons/{self.person(person_id).pk}/"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def world(tmp_path: Path) -> World:
    out = tmp_path / "world"
    build_world(WorldSpec(persons=150, seed=23, rates=FaultRates.uniform(0.0, benign=0.0), kit_share=1.0,
                          portal_share=0.0, non_disclosure_rate=0.3, truth=False), out)
    import_targets(out / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(out / "procedures.csv", actor=SYSTEM, progress=False)
    result = register_numbers(out / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    assert set(result.job.counts) == {"OK"}
    return World(out, {r["個人ID"]: r for r in rows_of(out / "targets.csv")},
                 {r["個人ID"]: my_number.normalise(r["個人番号"]) for r in rows_of(out / "kit.csv")})


def page(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined, no-any-return]


def valid_numbers_in(html: str) -> list[str]:
    """Valid My Numbers written in the page (the project's leak scanner: digests are not numbers)."""
    return [f.digits for f in leakscan.scan_text(html)]


def number_of(pk: int) -> str:
    rec = MyNumberRecord.objects.select_related("person").get(person_id=pk)
    return FieldCipher().decrypt(rec.person.person_id, "registry_mynumberrecord", "my_number",
                                 bytes(rec.ciphertext)).decode()


def search(browser: Any, **fields: str) -> Any:
    """The search form as a browser submits it (POST, with the page's CSRF token)."""
    return browser.post("/persons/", fields, form="/persons/")


def audit_text() -> str:
    return "\n".join(f"{r.object_ids} {r.detail} {r.outcome}" for r in AuditRecord.objects.all())


# ------------------------------------------------------------------------------------------------ search


def test_search_by_person_id_shows_the_person_and_audits_the_kind_of_criteria(world: World,
                                                                              signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    pid = world.numbered()
    html = page(browser.get(f"/persons/?person_id={pid}"))
    assert world.targets[pid]["氏名"] in html and f'href="{world.url(pid)}"' in html
    assert "登録済" in html and world.numbers[pid] not in html and not valid_numbers_in(html)
    rec = AuditRecord.objects.filter(event="person:search", username=browser.username).get()
    assert json.loads(rec.detail) == {"fields": "person_id", "count": 1, "more": False}
    assert rec.object_ids == pid


def test_kana_prefix_in_full_width_half_width_or_hiragana_finds_the_same_persons(world: World,
                                                                                  signed_in: SignedIn) -> None:
    browser = signed_in("inquirer")
    pid = world.numbered()
    kana = world.targets[pid]["氏名カナ"].replace("\u3000", " ").split(" ")[0][:3]
    found = []
    for typed in (kana, jaconv.z2h(kana, kana=True, digit=False, ascii=False), jaconv.kata2hira(kana)):
        html = page(search(browser, kana=typed))
        assert world.targets[pid]["氏名"] in html
        found.append(sorted(set(re.findall(r'href="/persons/(\d+)/"', html))))
    assert found[0] == found[1] == found[2]
    details = [json.loads(r.detail) for r in AuditRecord.objects.filter(event="person:search")]
    assert len(details) == 3 and all(d["fields"] == "kana" for d in details)
    assert kana not in audit_text() and jaconv.kata2hira(kana) not in audit_text()  # the values are not audited


def test_household_search_lists_every_member(world: World, signed_in: SignedIn) -> None:
    household = world.targets[world.numbered()]["世帯番号"]
    members = {pid for pid, row in world.targets.items() if row["世帯番号"] == household}
    html = page(signed_in("registrar").get("/persons/?" + urlencode({"household_no": household})))
    shown = {m for m in re.findall(r">(\d{10})</a>", html)}
    assert shown == members


def test_no_match_says_so(world: World, signed_in: SignedIn) -> None:
    html = page(signed_in("registrar").get("/persons/?" + urlencode({"person_id": "0000000001"})))
    assert 'data-testid="no-results"' in html and 'data-testid="person-results"' not in html


def test_the_result_list_is_capped_with_a_note(world: World, signed_in: SignedIn) -> None:
    many = list(Person.objects.order_by("id").values_list("pk", flat=True)[:60])
    Person.objects.filter(pk__in=many).update(name_kana="ヤマダ ハナコ", kana_key="ヤマタハナコ")
    browser = signed_in("registrar")
    html = page(search(browser, kana="やまだ"))
    assert 'data-testid="more-note"' in html
    assert len(re.findall(r'href="/persons/\d+/"', html)) == 50
    assert json.loads(AuditRecord.objects.get(event="person:search").detail) == {
        "fields": "kana", "count": 50, "more": True}


def test_invalid_criteria_are_refused_and_a_number_typed_in_the_form_is_not_echoed(world: World,
                                                                                   signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    number = world.numbers[world.numbered()]
    assert "10桁の数字" in page(browser.get("/persons/?" + urlencode({"person_id": "12345"})))
    html = page(search(browser, kana=number))
    assert "個人番号で検索" in html and 'data-testid="search-error"' in html and number not in html
    assert not AuditRecord.objects.filter(event="person:search").exists()


def test_a_get_with_a_number_parameter_does_not_search_by_number(world: World, signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    pid = world.numbered()
    html = page(browser.get("/persons/?" + urlencode({"number": world.numbers[pid], "my_number": world.numbers[pid]})))
    assert world.targets[pid]["氏名"] not in html and 'data-testid="person-results"' not in html
    assert world.numbers[pid] not in html
    assert not AuditRecord.objects.filter(event__in=["number:search", "person:search"]).exists()


# --------------------------------------------------------------------------------------- number lookup


def test_lookup_by_number_finds_the_person_and_the_audit_never_holds_the_number(world: World,
                                                                                 signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    pid = world.numbered()
    number = world.numbers[pid]
    typed = jaconv.h2z(f"{number[:4]}-{number[4:8]}-{number[8:]}", digit=True)  # full-width, hyphenated
    response = browser.post("/persons/lookup/", {"my_number": typed}, form="/persons/")
    html = page(response)
    assert response.status_code == 200 and world.targets[pid]["氏名"] in html and f'href="{world.url(pid)}"' in html
    assert number not in html and typed not in html and not valid_numbers_in(html)
    rec = AuditRecord.objects.get(event="number:search")
    assert rec.outcome == "found" and rec.object_ids == pid and rec.username == browser.username
    for r in AuditRecord.objects.all():
        assert number not in r.detail and number not in r.object_ids and not valid_numbers_in(r.detail + r.object_ids)


def test_lookup_with_a_wrong_check_digit_is_an_error_and_an_unknown_number_is_not_found(world: World,
                                                                                        signed_in: SignedIn) -> None:
    browser = signed_in("inquirer")
    number = world.numbers[world.numbered()]
    wrong = number[:11] + str((int(number[11]) + 1) % 10)
    html = page(browser.post("/persons/lookup/", {"my_number": wrong}, form="/persons/"))
    assert 'data-testid="number-error"' in html and "チェックデジット" in html and wrong not in html
    unknown = next(n for n in (my_number.synthetic() for _ in range(100)) if n not in world.numbers.values())
    html = page(browser.post("/persons/lookup/", {"my_number": unknown}, form="/persons/"))
    assert 'data-testid="number-not-found"' in html and "見つかりません" in html and unknown not in html
    outcomes = sorted(AuditRecord.objects.filter(event="number:search").values_list("outcome", flat=True))
    assert outcomes == ["invalid", "not_found"]
    assert wrong not in audit_text() and unknown not in audit_text()


def test_the_lookup_answers_post_only_and_needs_the_csrf_token(world: World, signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    number = world.numbers[world.numbered()]
    assert browser.get("/persons/lookup/?" + urlencode({"my_number": number})).status_code == 405
    assert browser.client.post("/persons/lookup/", {"my_number": number}).status_code == 403
    assert not AuditRecord.objects.filter(event="number:search").exists()


# ------------------------------------------------------------------------------------------------ detail


@pytest.mark.parametrize("role", ["registrar", "inquirer"])
def test_the_detail_page_shows_the_register_and_only_the_masked_number(world: World, signed_in: SignedIn,
                                                                       role: str) -> None:
    browser = signed_in(role)
    pid = world.numbered()
    number = world.numbers[pid]
    response = browser.get(world.url(pid))
    html = page(response)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    row = world.targets[pid]
    for value in (pid, row["氏名"], row["氏名カナ"], row["世帯番号"], row["住宅コード"]):
        assert value in html
    assert f'data-testid="masked-number">{my_number.mask(number)}<' in html
    assert "届出キット" in html and "未取得" in html  # the number's source; no integrated number yet
    document = html.split('data-testid="id-document">', 1)[1].split("<", 1)[0]  # by name, never its code
    assert document in ("個人番号カード", "通知カード＋身元確認書類", "番号記載の住民票の写し＋身元確認書類"), document
    assert number not in html and not valid_numbers_in(html)
    assert "個人番号を表示する" not in html  # no unmask form without the permission
    rec = AuditRecord.objects.get(event="person:view")
    assert rec.object_ids == pid and rec.username == browser.username


def test_non_disclosure_is_shown_to_the_roles_that_set_or_carry_it(world: World, signed_in: SignedIn) -> None:
    flagged = Person.objects.filter(non_disclosure=True).order_by("id").first()
    assert flagged is not None
    url = f"/persons/{flagged.pk}/"
    # Since issue 12 a registrar sets the flag (a wish received at the counter) and so sees it.
    for role in ("registrar", "inquirer", "supervisor"):
        html = page(signed_in(role).get(url))
        assert 'data-testid="non-disclosure"' in html and "不開示希望" in html
    assert not any(Permission.PERSONS_VIEW in ROLE_PERMISSIONS[role] and not may_see_non_disclosure(
        Actor("x", "127.0.0.1", frozenset(ROLE_PERMISSIONS[role]))) for role in Role)


def test_inquiries_and_juki_net_results_are_listed_without_their_answers(cycled: Path,  # noqa: F811
                                                                        signed_in: SignedIn) -> None:
    flagged = InquiryRequest.objects.filter(non_disclosure="2", result__isnull=False).select_related("result").first()
    assert flagged is not None
    url = f"/persons/{flagged.person_id}/"
    html = page(signed_in("inquirer").get(url))
    assert flagged.request_no in html and "2 不開示" in html
    # Information and procedures by name, never by code (issue 14 item 4).
    assert flagged.info_code not in html and flagged.procedure_code not in html
    info = html.split('data-testid="inquiries"', 1)[1].split("</table>", 1)[0]
    names = current()
    assert f'<td data-testid="info-name">{names.info(flagged.info_code)}</td>' in info
    assert f"<td>{names.procedure(flagged.procedure_code)}</td>" in info and names.info(flagged.info_code) != ""
    assert not names.info(flagged.info_code).isascii() and not names.procedure(flagged.procedure_code).isascii()
    result: InquiryResult = flagged.result  # type: ignore[attr-defined]
    assert {"00": "該当あり", "01": "該当なし", "02": "未設定", "09": "エラー"}[result.result_code] in html
    # Portal 受付番号 are 12 digits too (one in eleven passes the check digit): only those may appear.
    receipts = set(MyNumberRecord.objects.values_list("receipt_no", flat=True))
    assert set(valid_numbers_in(html)) <= receipts and number_of(flagged.person_id) not in html
    registrar = page(signed_in("registrar").get(url))
    # Since issue 12 the registrar sets 不開示 (a wish received at the counter) and so sees it.
    assert flagged.request_no in registrar and "2 不開示" in registrar
    noted = JukiResult.objects.exclude(discrepancy="").select_related("query").first()
    assert noted is not None
    html = page(signed_in("registrar").get(f"/persons/{noted.person_id}/"))
    assert noted.query.query_no in html and noted.discrepancy in html and 'data-testid="follow-up"' in html


def test_a_made_up_person_is_not_found(world: World, signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    missing = (Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    response = browser.get(f"/persons/{missing}/")
    assert response.status_code == 404 and "見つかりません" in page(response)
    assert not AuditRecord.objects.filter(event="person:view").exists()


@pytest.mark.parametrize("role", ["security_admin", "auditor", "operations"])
def test_roles_without_personal_data_get_no_search_and_no_detail(world: World, signed_in: SignedIn,
                                                                 role: str) -> None:
    browser = signed_in(role)
    pid = world.numbered()
    for response in (browser.get("/persons/?" + urlencode({"person_id": pid})), browser.get(world.url(pid)),
                     browser.post("/persons/lookup/", {"my_number": world.numbers[pid]})):
        assert response.status_code == 403 and world.targets[pid]["氏名"] not in page(response)
    assert AuditRecord.objects.filter(event="access:denied", username=browser.username).count() == 3
    assert not AuditRecord.objects.filter(event__in=["person:search", "person:view", "number:search"]).exists()


def test_a_name_with_markup_is_rendered_escaped(world: World, signed_in: SignedIn) -> None:
    pid = world.numbered()
    Person.objects.filter(person_id=pid).update(name='<script>alert("x")</script>')
    browser = signed_in("registrar")
    for url in (f"/persons/?person_id={pid}", world.url(pid)):
        html = page(browser.get(url))
        assert '<script>alert("x")' not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html


# ------------------------------------------------------------------------------------------------ unmask


def test_a_registrar_cannot_unmask_and_the_attempt_is_audited(world: World, signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    pid = world.numbered()
    response = browser.post(f"{world.url(pid)}unmask/", {"reason": "本人確認のため"}, form=world.url(pid))
    assert response.status_code == 403 and world.numbers[pid] not in page(response)
    denied = AuditRecord.objects.get(event="access:denied", username=browser.username)
    assert json.loads(denied.detail)["permission"] == Permission.NUMBERS_UNMASK.value
    assert not AuditRecord.objects.filter(event="number:unmask").exists()


def test_unmask_needs_a_fresh_step_up(world: World, signed_in: SignedIn) -> None:
    browser = signed_in("supervisor")
    pid = world.numbered()
    response = browser.post(f"{world.url(pid)}unmask/", {"reason": "本人確認のため"}, form=world.url(pid))
    assert response.status_code == 302 and response["Location"].startswith("/step-up/")
    assert world.numbers[pid] not in response["Location"]
    assert not AuditRecord.objects.filter(event="number:unmask").exists()
    assert browser.get(f"{world.url(pid)}unmask/").status_code == 405


def test_a_supervisor_after_step_up_sees_the_number_once_with_the_reason_audited(world: World,
                                                                                  signed_in: SignedIn) -> None:
    browser = signed_in("supervisor")
    pid = world.numbered()
    number = world.numbers[pid]
    detail = page(browser.get(world.url(pid)))
    assert "個人番号を表示する" in detail and number not in detail
    browser.step_up()
    response = browser.post(f"{world.url(pid)}unmask/", {"reason": "本人からの問合せ対応"}, form=world.url(pid))
    html = page(response)
    assert response.status_code == 200 and f'data-testid="unmasked-number">{number}<' in html
    assert response["Cache-Control"] == "no-store"
    rec = AuditRecord.objects.get(event="number:unmask")
    assert rec.outcome == "shown" and rec.object_ids == pid and json.loads(rec.detail) == {"reason": "本人からの問合せ対応"}
    assert number not in audit_text()
    assert browser.client.post(f"{world.url(pid)}unmask/", {"reason": "本人からの問合せ対応"}).status_code == 403  # CSRF


def test_unmask_needs_a_reason_and_a_real_person(world: World, signed_in: SignedIn) -> None:
    browser = signed_in("supervisor")
    pid = world.numbered()
    browser.step_up()
    response = browser.post(f"{world.url(pid)}unmask/", {"reason": "  ab "}, form=world.url(pid))
    assert response.status_code == 400 and 'data-testid="unmask-error"' in page(response)
    assert world.numbers[pid] not in page(response)
    assert AuditRecord.objects.get(event="number:unmask").outcome == "refused"
    missing = (Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    assert browser.post(f"/persons/{missing}/unmask/", {"reason": "本人確認のため"}, form="/persons/").status_code == 404


def test_a_deleted_number_shows_as_deleted(world: World, signed_in: SignedIn, tmp_path: Path) -> None:
    pid = world.numbered()
    write_csv(tmp_path / "moves.csv", TARGETS, [{**world.targets[pid], "状態": "2", "状態日付": "20261001"}])
    import_targets(tmp_path / "moves.csv", actor=SYSTEM, progress=False)
    path, info = propose(tmp_path / "proposal.csv", actor=SYSTEM, today=date(2026, 11, 28))
    assert info.rows == 1
    approval = request_deletion(path, actor=Actor("reg.ito", "127.0.0.1", frozenset(Permission)), reason="退去者")
    approve(approval.pk, actor=Actor("sv.sato", "127.0.0.1", frozenset(Permission)))
    run_deletion(approval.pk, actor=SYSTEM, report=tmp_path / "report.csv")

    browser = signed_in("supervisor")
    html = page(browser.get(world.url(pid)))
    assert 'data-testid="masked-number">削除済み<' in html and "退去" in html and "DL" in html  # 削除記録
    assert "個人番号を表示する" not in html
    # The register entry is a shell (issue 12): the page says so and shows none of the erased data.
    assert 'data-testid="erased"' in html and "バックアップなし" in html
    person = world.targets[pid]
    assert person["氏名"] not in html and person["住所"] not in html and person["氏名カナ"] not in html
    found = page(browser.get("/persons/?" + urlencode({"person_id": pid})))
    assert pid in found and 'data-testid="erased">削除済み<' in found and person["氏名"] not in found
    browser.step_up()
    html = page(browser.post(f"{world.url(pid)}unmask/", {"reason": "削除の確認のため"}, form=world.url(pid)))
    assert 'data-testid="unmasked-number">削除済み<' in html and world.numbers[pid] not in html
    assert AuditRecord.objects.get(event="number:unmask").outcome == "deleted"
