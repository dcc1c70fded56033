"""Every web form that takes text refuses a My Number the way its command does (issue 13 items 1 and 3;
ADR 0020): a clear Japanese message naming the field, no server error, the value neither kept nor shown
again (not even in the refilled form). Afterwards no database column holds any of the numbers typed.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from jutaku.accounts.actor import SYSTEM
from jutaku.registry.models import Person
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world
from jutaku.subjects.models import SubjectRequest
from tests.functional.hostile_corpus import Planted
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]


def database_text() -> bytes:
    """Every row of every table, as text (the in-process counterpart of a logical dump)."""
    rows: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows).encode("utf-8")


def page(response: Any, browser: Browser) -> str:
    """The answer to a POST as the user sees it (following a redirect to the page with the message)."""
    assert response.status_code in (200, 302, 400), (response.status_code, response.content.decode()[:300])
    if response.status_code == 302:
        return str(browser.get(response["Location"]).content.decode())
    return str(response.content.decode())


def test_forms_refuse_a_number_in_every_text_field(tmp_path: Path, signed_in: SignedIn) -> None:
    planted = Planted(random.Random(1304))
    build_world(WorldSpec(persons=40, seed=9, truth=False), tmp_path / "world")
    import_targets(tmp_path / "world" / "targets.csv", actor=SYSTEM, progress=False)
    person = Person.objects.filter(status="1").order_by("id").first()
    assert person is not None
    at = f"/persons/{person.pk}/"
    clerk, chief, admin = signed_in("registrar"), signed_in("supervisor"), signed_in("security_admin")
    inquirer = signed_in("inquirer")
    chief.step_up()
    admin.step_up()
    open_request = SubjectRequest.objects.create(person=person, kind="correction", received_on="2026-04-01",
                                                 received_by=clerk.username)
    csv_file = io.BytesIO(f"個人ID,削除理由\r\n{person.person_id},9\r\n".encode())
    csv_file.name = "deletion.csv"

    def n(where: str) -> str:
        return planted.number(where)

    answers: list[tuple[str, str]] = []
    for browser, url, data, form, field in [
        (clerk, f"{at}non-disclosure/set/", {"reason": f"申出 {n('nd set')}"}, at, "理由"),
        (chief, f"{at}non-disclosure/clear/", {"reason": f"解除 {n('nd clear')}"}, at, "理由"),
        (chief, f"{at}status/correct/", {"status": "1", "reason": f"訂正 {n('status')}"}, at, "理由"),
        (chief, f"{at}unmask/", {"reason": f"確認 {n('unmask')}"}, at, "表示の理由"),
        (clerk, "/subjects/record/", {"person_id": person.person_id, "kind": "disclosure",
                                      "received_on": "2026-04-01", "note": n("subject note")}, "/subjects/", "メモ"),
        (clerk, f"/subjects/{open_request.pk}/close/", {"outcome": "handled", "note": n("close note")},
         "/subjects/", "メモ"),
        (clerk, "/deletion/request/", {"reason": n("deletion reason"), "file": csv_file}, "/deletion/", "依頼理由"),
        (chief, "/allowlist/load/", {"note": n("allowlist note")}, "/allowlist/", "説明"),
        (inquirer, "/files/create/export/", {"procedure": "JT99000000530001", "year": "2026",
                                             "reason": n("export reason")}, "/files/create/", "理由"),
        (admin, "/users/new/", {"username": "tanaka.h", "full_name": f"田中 {n('full name')}", "staff_id": "B1",
                                "organisation": "bureau", "roles": ["registrar"], "start_date": "2026-04-01", "end_date": "2030-03-31",
                                "password": "Jutaku-Str0ng-Pass!", "password2": "Jutaku-Str0ng-Pass!"},
         "/users/new/", "氏名"),
        (admin, f"/users/{clerk.made.user.pk}/disable/", {"reason": n("disable reason")},
         f"/users/{clerk.made.user.pk}/", "理由"),
        (admin, "/users/terminals/add/", {"name": n("terminal name"), "address": "10.9.9.9"},
         "/users/terminals/", "端末名"),
    ]:
        shown = page(browser.post(url, data, form=form), browser)
        answers.append((url, shown))
        assert f"{field}に個人番号" in shown or "個人番号と同じ形" in shown, (url, shown[-2000:])
    for field in ("name", "kana", "birth_date"):
        searched = clerk.post("/persons/", {field: n(f"person search {field}")}, form="/persons/")
        answers.append(("/persons/", searched.content.decode()))
    audit = signed_in("auditor").client.get("/audit/", {"object": n("audit object")})
    answers.append(("/audit/", audit.content.decode()))

    assert [(url, planted.found_in(text.encode())) for url, text in answers if planted.found_in(text.encode())] == []
    assert planted.found_in(database_text()) == []
    assert not SubjectRequest.objects.exclude(pk=open_request.pk).exists()
    assert not Person.objects.filter(pk=person.pk, non_disclosure=True).exists()


def test_a_late_refusal_by_the_audit_guard_is_a_refusal_page_not_a_server_error(signed_in: SignedIn) -> None:
    """Should a service miss its input check, the audit writer's guard refuses the record and rolls the change
    back; the user meets a 400 page saying why, never the 500 page (ADR 0020)."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.db import transaction
    from django.test import RequestFactory

    from jutaku.accounts.actor import Actor
    from jutaku.accounts.permissions import Permission
    from jutaku.audit.events import AuditEvent
    from jutaku.audit.models import AuditRecord
    from jutaku.audit.service import record
    from jutaku.domain.free_text import REFUSED_LATE
    from jutaku.web.access import requires

    number = Planted(random.Random(1305)).number("late", plain=True)

    @requires(Permission.PERSONS_VIEW, methods=("POST",))
    def careless(request: Any) -> Any:  # a view whose service forgot to check its input
        with transaction.atomic():
            record(AuditEvent.PERSON_IMPORT, actor=request.actor, objects=["P1"], detail={"note": number})
        raise AssertionError("unreachable")

    request = RequestFactory().post("/careless/")
    request.actor = Actor(signed_in("registrar").username, "127.0.0.1", frozenset({Permission.PERSONS_VIEW}))
    request.session = {}
    request._messages = FallbackStorage(request)
    response = careless(request)
    body = response.content.decode()
    assert response.status_code == 400 and REFUSED_LATE in body and number not in body
    assert not AuditRecord.objects.filter(event="person:import").exists()
