"""Tasks started from the browser and their files (issue 7 item 3; FILE-09; AUTHZ-02): the worker runs a task
as its user with the permissions that user has when it runs; a task page and its files belong to their
owner; files go after one download or at expiry; labels are the kind's own. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from jutaku.accounts.models import RoleGrant
from jutaku.accounts.permissions import Permission
from jutaku.audit.models import AuditRecord
from jutaku.jobs import queue
from jutaku.jobs.models import Download, Task
from jutaku.jobs.worker import TaskContext, TaskOutcome, run_pending
from jutaku.web.tasks import KINDS, Kind
from tests.integration.web.conftest import CSRF, SignedIn

pytestmark = pytest.mark.django_db


def _echo(ctx: TaskContext) -> TaskOutcome:
    out = ctx.out / "echo.csv"
    out.write_text("行番号,結果コード\r\n1,Z01\r\n", encoding="utf-8")
    ctx.offer(out, "試験リスト", Permission.REJECTIONS_VIEW)
    return TaskOutcome({"Z01": 1, "OK": 2}, "終わりました。", labels={"Z01": "試験の独自コード"})


@pytest.fixture
def echo_kind() -> Kind:
    kind = Kind("test-echo", "試験の処理", Permission.REGISTRY_IMPORT, _echo)
    KINDS[kind.name] = kind
    yield kind
    KINDS.pop(kind.name, None)


def _run() -> None:
    run_pending({name: k for name, k in KINDS.items()})


def test_a_task_runs_as_its_user_and_its_page_shows_the_kinds_own_labels(signed_in: SignedIn, echo_kind: Kind) -> None:
    clerk = signed_in("registrar")
    task = queue.submit(echo_kind.name, actor=_actor(clerk))
    progress = clerk.get(f"/tasks/{task.pk}/progress/").json()
    assert progress["state"] == "queued" and not progress["finished"]
    _run()
    page = clerk.get(f"/tasks/{task.pk}/").content.decode()
    assert "試験の独自コード" in page and "終わりました。" in page
    assert clerk.get(f"/tasks/{task.pk}/progress/").json()["finished"]
    assert AuditRecord.objects.filter(event="task:submit", username=clerk.username).exists()


def test_another_user_gets_the_same_404_as_for_a_missing_task(signed_in: SignedIn, echo_kind: Kind) -> None:
    owner, other = signed_in("registrar"), signed_in("registrar")
    task = queue.submit(echo_kind.name, actor=_actor(owner))
    _run()
    mine, theirs, missing = (owner.get(f"/tasks/{task.pk}/"), other.get(f"/tasks/{task.pk}/"),
                             other.get("/tasks/99999999/"))
    assert mine.status_code == 200 and theirs.status_code == missing.status_code == 404
    assert CSRF.sub("", theirs.content.decode()) == CSRF.sub("", missing.content.decode())
    assert other.get(f"/tasks/{task.pk}/progress/").status_code == 404


def test_a_file_downloads_once_then_is_gone_and_expires_unread(signed_in: SignedIn, echo_kind: Kind) -> None:
    owner, other = signed_in("registrar"), signed_in("registrar")
    for _ in range(2):
        queue.submit(echo_kind.name, actor=_actor(owner))
    _run()
    first, second = Download.objects.filter(owner=owner.username).order_by("id")
    assert other.get(f"/downloads/{first.token}/").status_code == 404  # not theirs
    response = owner.get(f"/downloads/{first.token}/")
    assert response.status_code == 200 and b"Z01" in b"".join(response.streaming_content)
    assert response["Content-Disposition"].startswith("attachment")
    assert not Path(first.path).exists()
    assert owner.get(f"/downloads/{first.token}/").status_code == 404  # once
    assert AuditRecord.objects.filter(event="file:download", username=owner.username).count() == 1
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert queue.expire() == 1
    assert not Path(second.path).exists() and owner.get(f"/downloads/{second.token}/").status_code == 404


def test_the_worker_refuses_a_task_whose_user_lost_the_role(signed_in: SignedIn, echo_kind: Kind) -> None:
    clerk = signed_in("registrar")
    task = queue.submit(echo_kind.name, actor=_actor(clerk))
    RoleGrant.objects.filter(user=clerk.made.user).delete()
    _run()
    task.refresh_from_db()
    assert task.state == "failed" and "権限" in task.error
    assert not Download.objects.filter(task=task).exists()


def test_a_crashing_task_fails_with_an_incident_number_and_no_detail(signed_in: SignedIn) -> None:
    def boom(ctx: TaskContext) -> TaskOutcome:
        raise RuntimeError("個人番号 123456789018 を含む内部の例外")

    KINDS["test-boom"] = Kind("test-boom", "落ちる処理", Permission.REGISTRY_IMPORT, boom)
    try:
        clerk = signed_in("registrar")
        task = queue.submit("test-boom", actor=_actor(clerk))
        _run()
    finally:
        KINDS.pop("test-boom")
    task.refresh_from_db()
    assert task.state == "failed" and "受付番号" in task.error and "123456789018" not in task.error
    assert "123456789018" not in clerk.get(f"/tasks/{task.pk}/").content.decode()


def test_tasks_a_dead_worker_left_running_are_queued_again(signed_in: SignedIn, echo_kind: Kind) -> None:
    clerk = signed_in("registrar")
    task = queue.submit(echo_kind.name, actor=_actor(clerk))
    assert queue.claim() is not None  # the worker took it, then died
    assert queue.requeue_interrupted() == 1
    _run()
    assert Task.objects.get(pk=task.pk).state == "done"


def test_uploads_get_generated_names_and_are_deleted_after_the_task(signed_in: SignedIn, echo_kind: Kind) -> None:
    clerk = signed_in("registrar")
    stored = queue.save_upload([b"a,b\r\n"], ".csv")
    assert "/" not in stored and stored.endswith(".csv") and len(stored) == 36
    task = queue.submit(echo_kind.name, actor=_actor(clerk), upload=stored, upload_name="../../etc/passwd\r\n.csv")
    assert task.upload_name == "passwd.csv"
    path = queue.upload_path(task)
    assert path is not None and path.exists() and oct(path.stat().st_mode)[-3:] == "600"
    _run()
    assert not path.exists()
    with pytest.raises(ValueError):
        queue.save_upload([b"x"], ".exe")


def _actor(browser):  # type: ignore[no-untyped-def]
    from jutaku.accounts.sessions import actor_for

    return actor_for(browser.made.user, "127.0.0.1")
