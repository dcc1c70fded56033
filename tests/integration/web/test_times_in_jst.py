"""Screens and the file names the system writes show times in JST (ADR 0027), at the moment a UTC date and
a JST date differ (15:00 UTC is midnight in Tokyo), whatever time zone Django has active. SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone

from jutaku.incidents import log_incident
from jutaku.jobs.models import Task, TaskState
from jutaku.jobs.worker import run_pending
from jutaku.retention.catalogue import BACKUP_NAME, backup_name, stamp_time
from jutaku.web.tasks import all_kinds
from tests.integration.web.conftest import SignedIn

pytestmark = pytest.mark.django_db

#: Stored (UTC) 2026-12-04 15:00:00 is 2026-12-05 00:00:00 in Tokyo.
BOUNDARY = datetime(2026, 12, 4, 15, 0, 0, tzinfo=UTC)
#: A boundary ahead of any run of this suite, for what must happen "now" (the audit trail only grows).
LATER_BOUNDARY = datetime(2035, 6, 30, 15, 0, 0, tzinfo=UTC)


def test_the_jst_filter_is_on_every_template_and_needs_a_time() -> None:
    page = Template('{{ t|jst }}|{{ t|jst:"seconds" }}|{{ t|jst:"date" }}|{{ d|jst:"date" }}|{{ n|jst|default:"—" }}')
    with timezone.override(UTC):
        shown = page.render(Context({"t": BOUNDARY + timedelta(seconds=7), "d": date(2027, 3, 31), "n": None}))
    assert shown == "2026-12-05 00:00|2026-12-05 00:00:07|2026-12-05|2027-03-31|—"
    with pytest.raises(TemplateSyntaxError):
        Template('{{ t|jst:"minutes" }}').render(Context({"t": BOUNDARY}))
    for wrong in ("2026-12-04 15:00", date(2026, 12, 5)):
        with pytest.raises(TypeError):
            Template("{{ t|jst }}").render(Context({"t": wrong}))
    with pytest.raises(ValueError, match="aware"):
        Template("{{ t|jst }}").render(Context({"t": datetime(2026, 12, 4, 15, 0)}))  # noqa: DTZ001 - the point


def test_screens_show_stored_times_in_jst_whatever_zone_django_has_active(signed_in: SignedIn) -> None:
    browser = signed_in("registrar")
    task = Task.objects.create(kind="register-kit", username=browser.username, terminal="127.0.0.1",
                               state=TaskState.DONE)
    Task.objects.filter(pk=task.pk).update(created_at=BOUNDARY, finished_at=BOUNDARY + timedelta(seconds=7))
    with timezone.override(UTC):  # e.g. a per-user zone some day: the screens must still say JST
        listing = browser.get("/tasks/").content.decode()
        detail = browser.get(f"/tasks/{task.pk}/").content.decode()
    row = listing.split(f"#{task.pk}</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>2026-12-05 00:00</td><td>2026-12-05 00:00</td>" in row
    assert "2026-12-04" not in listing and "15:00" not in row
    assert "<dt>受付</dt><dd>2026-12-05 00:00:00</dd>" in detail and "<dt>終了</dt><dd>2026-12-05 00:00:07</dd>" in detail
    assert "日時はすべて日本時間（JST）です。" in listing and "日時はすべて日本時間（JST）です。" in detail


def test_a_file_made_from_the_browser_is_named_with_its_jst_time(signed_in: SignedIn) -> None:
    with time_machine.travel(LATER_BOUNDARY, tick=True), timezone.override(UTC):
        auditor = signed_in("auditor")
        started = auditor.post("/audit/export/", {}, form="/audit/")
        assert started.status_code == 302
        assert run_pending(all_kinds()) >= 1
        page = auditor.get(started["Location"]).content.decode()
    [name] = re.findall(r"（(audit-report-[0-9-]+\.csv)）", page)
    assert name.startswith("audit-report-20350701-0000"), name  # 2035-07-01 00:00 in Tokyo, not 2035-06-30 15:00


def test_a_backup_is_named_with_its_jst_time_and_older_utc_names_are_still_read() -> None:
    name = backup_name(BOUNDARY, "sqlite3")
    assert name == "jutaku-20261205-000000.sqlite3"
    match = BACKUP_NAME.match(name)
    assert match and stamp_time(match.group(1)) == BOUNDARY
    older = BACKUP_NAME.match("jutaku-20261204T150000Z.pgdump")
    assert older and stamp_time(older.group(1)) == BOUNDARY
    assert not BACKUP_NAME.match("jutaku-20261205-000000Z.sqlite3")


def test_an_incident_is_numbered_with_its_jst_time() -> None:
    with time_machine.travel(BOUNDARY, tick=False):
        incident = log_incident(RuntimeError("boom"))
    assert re.fullmatch(r"20261205-000000-[0-9a-f]{8}", incident), incident
