"""統計 and 許可リスト screens (issue 7 items 3.3–3.4): suppressed tables exactly as the service returns
them, SVG charts served as images, the CSV as a task, the allow-list with its legal basis and a load
restricted to supervisors. Small synthetic worlds; SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import html
import io
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.allowlist.models import AllowListVersion
from jutaku.audit.models import AuditRecord
from jutaku.jobs.models import Task
from jutaku.jobs.worker import run_pending
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world
from jutaku.stats.service import all_tables
from jutaku.web.tasks import all_kinds
from tests.integration.web.conftest import Browser, SignedIn

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_world(tmp_path: Path, home_keys: Path, allowlist: int) -> None:
    """150 persons imported and registered: the small housing categories fall under k = 10."""
    world = tmp_path / "world"
    build_world(WorldSpec(persons=150, seed=3), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)


def cells(page: str) -> list[list[str]]:
    """The value cells of the first statistics table on the page."""
    table = page.split('data-testid="stats-table"', 1)[1].split("</table>", 1)[0]
    return [[html.unescape(v) for v in re.findall(r'<td class="num">([^<]*)</td>', row)]
            for row in table.split("<tr>")[2:]]


def run_task(browser: Browser, response: Any) -> tuple[Task, str]:
    assert response.status_code == 302 and response["Location"].startswith("/tasks/")
    assert run_pending(all_kinds()) == 1
    task = Task.objects.get(pk=int(response["Location"].split("/")[2]))
    return task, browser.get(response["Location"]).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("small_world")
def test_supervisor_and_auditor_see_the_tables_suppressed_as_the_service_does(signed_in: SignedIn) -> None:
    expected = all_tables(10)[0]
    want = [[expected.shown(i, j, 10) for j in range(len(expected.cols) + 1)] for i in range(len(expected.rows) + 1)]
    assert any(v == "<10" for row in want for v in row)  # the world is small enough to need suppression
    for role in ("supervisor", "auditor"):
        browser = signed_in(role)
        page = browser.get("/stats/").content.decode()
        assert cells(page) == want, role
        assert "&lt;10" in page and 'src="/stats/charts/registration.svg?k=10"' in page
        assert AuditRecord.objects.filter(event="stats:view", username=browser.username, detail='{"k":10}').exists()
    page = signed_in("supervisor").get("/stats/?k=3").content.decode()
    assert "&lt;10" not in page and cells(page) == [
        [all_tables(3)[0].shown(i, j, 3) for j in range(len(expected.cols) + 1)] for i in range(len(expected.rows) + 1)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("small_world")
def test_the_chart_is_svg_served_with_the_security_headers(signed_in: SignedIn) -> None:
    supervisor = signed_in("supervisor")
    response = supervisor.get("/stats/charts/registration.svg?k=10")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert "script-src 'self'" in response["Content-Security-Policy"] and response["X-Content-Type-Options"] == "nosniff"
    svg = response.content.decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<script" not in svg
    assert "個人番号一括登録の結果" in svg and not re.search(r">\s*\d{10,}\s*<", svg)
    assert supervisor.get("/stats/charts/inquiry.svg").status_code == 200
    assert supervisor.get("/stats/charts/persons.svg").status_code == 404
    assert AuditRecord.objects.filter(event="stats:view", outcome="chart", username=supervisor.username).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("small_world")
def test_the_csv_is_made_as_a_task_with_the_suppressed_values(signed_in: SignedIn) -> None:
    auditor = signed_in("auditor")
    task, page = run_task(auditor, auditor.post("/stats/export/", {"k": "10"}, form="/stats/"))
    assert task.state == "done", task.error
    link = re.search(r'href="(/downloads/[^"]+/)"', page)
    assert link
    text = b"".join(auditor.get(link.group(1)).streaming_content).decode("utf-8-sig")
    values = [r["値"] for r in csv.DictReader(io.StringIO(text))]
    assert "<10" in values and all(v.isdigit() or v in ("<10", "x") for v in values)
    assert not re.search(r"\d{10,}", text)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("small_world")
def test_the_pdf_holds_the_suppressed_tables_and_both_charts_with_the_japanese_font_embedded(
        signed_in: SignedIn) -> None:
    """ADR 0022: the printed statistics, from the same suppressed tables, the charts as images."""
    from pypdf import PdfReader

    from tests.reports_support import assert_japanese_font_embedded, numbers_in, pdf_text

    auditor = signed_in("auditor")
    task, page = run_task(auditor, auditor.post("/stats/export/", {"k": "10", "format": "pdf"}, form="/stats/"))
    assert task.state == "done", task.error
    link = re.search(r'href="(/downloads/[^"]+/)" data-testid="download">([^<]+)<', page)
    assert link and ".pdf" in link.group(2) and "PDF" in link.group(2)
    data = b"".join(auditor.get(link.group(1)).streaming_content)
    assert data.startswith(b"%PDF")
    assert_japanese_font_embedded(data)
    text = pdf_text(data)
    for table in all_tables(10):
        assert table.title in text
    first = all_tables(10)[0]
    assert "<10" in text and " ".join(first.shown(len(first.rows), j, 10) for j in range(len(first.cols) + 1)) in text
    assert "個人番号一括登録の進捗" in text and "情報照会の進捗" in text
    assert sum(len(p.images) for p in PdfReader(io.BytesIO(data)).pages) == 2
    assert not numbers_in(text) and not re.search(r"\d{10,}", text)


def test_other_roles_are_refused_the_statistics(signed_in: SignedIn) -> None:
    for role in ("registrar", "security_admin"):
        browser = signed_in(role)
        assert browser.get("/stats/").status_code == 403
        assert browser.get("/stats/charts/registration.svg").status_code == 403
        assert browser.post("/stats/export/").status_code == 403
    assert not AuditRecord.objects.filter(event="stats:view").exists()


def test_the_export_answers_post_only_with_a_csrf_token(signed_in: SignedIn) -> None:
    supervisor = signed_in("supervisor")
    assert supervisor.get("/stats/export/").status_code == 405
    assert supervisor.client.post("/stats/export/", {"k": "10"}).status_code == 403
    assert supervisor.get("/allowlist/load/").status_code == 405
    assert not Task.objects.exists()


def test_an_odd_k_falls_back_to_the_default(signed_in: SignedIn) -> None:
    page = signed_in("auditor").get("/stats/?k=1").content.decode()
    assert 'value="10"' in page and "&lt;10" in page


@pytest.mark.usefixtures("allowlist")
def test_the_allowlist_shows_each_rule_with_its_legal_basis_and_status(signed_in: SignedIn) -> None:
    version = AllowListVersion.objects.get(active=True)
    page = signed_in("registrar").get("/allowlist/").content.decode()
    assert version.sha256 in page and version.loaded_by in page
    assert "番号法19条8号・主務省令2条表53（別表27）" in page and "地方税関係情報" in page
    assert "推定" in page and "確認済" in page
    assert 'action="/allowlist/load/"' not in page  # a registrar may read, not load
    narrowed = signed_in("auditor").get("/allowlist/?procedure=NOSUCH").content.decode()
    assert "該当する規則はありません" in narrowed


@pytest.mark.usefixtures("allowlist")
def test_a_supervisor_loads_a_new_version_and_a_registrar_may_not(signed_in: SignedIn, tmp_path: Path) -> None:
    packaged = resources.files("jutaku.data").joinpath("allowlist.csv").read_bytes()
    reviewed = tmp_path / "allowlist-2027.csv"
    reviewed.write_bytes(b"\n".join(packaged.splitlines()[:-1]) + b"\n")  # one rule withdrawn
    registrar = signed_in("registrar")
    with reviewed.open("rb") as fh:
        assert registrar.post("/allowlist/load/", {"file": fh, "note": "x"}, form="/allowlist/").status_code == 403
    supervisor = signed_in("supervisor")
    with reviewed.open("rb") as fh:
        task, page = run_task(supervisor, supervisor.post("/allowlist/load/", {"file": fh, "note": "2027年改正"},
                                                          form="/allowlist/"))
    assert task.state == "done" and "を有効にしました" in page, task.error
    active = AllowListVersion.objects.get(active=True)
    assert active.loaded_by == supervisor.username and active.file_name == "allowlist-2027.csv"
    assert active.note == "2027年改正" and active.rules == len(packaged.splitlines()) - 2
    assert AuditRecord.objects.filter(event="allowlist:load", username=supervisor.username).exists()
    assert active.sha256 in supervisor.get("/allowlist/").content.decode()


@pytest.mark.usefixtures("allowlist")
def test_a_wrong_file_is_refused_on_the_form_and_a_bad_csv_by_the_task(signed_in: SignedIn, tmp_path: Path) -> None:
    supervisor = signed_in("supervisor")
    text = tmp_path / "rules.txt"
    text.write_text("not a csv", encoding="utf-8")
    with text.open("rb") as fh:
        page = supervisor.post("/allowlist/load/", {"file": fh}, form="/allowlist/")
    assert page.status_code == 200 and "取り込めません" in page.content.decode() and not Task.objects.exists()
    broken = tmp_path / "broken.csv"
    broken.write_text("housing_category,procedure_code\n公営住宅,JT1\n", encoding="utf-8")
    with broken.open("rb") as fh:
        task, _ = run_task(supervisor, supervisor.post("/allowlist/load/", {"file": fh}, form="/allowlist/"))
    assert task.state == "failed" and task.error
    assert AllowListVersion.objects.filter(active=True).count() == 1
    assert AllowListVersion.objects.get(active=True).loaded_by == "system"
