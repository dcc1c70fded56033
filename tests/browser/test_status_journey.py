"""Journey (issue 14 item 12): status is never stale. A task's badge says what its progress box says — 待機中,
then 実行中 with the job's count, then 中断 when the process running the job dies (its lock is free), with
how to resume it — and the ジョブ台帳 and 自分の処理 show it as 中断 too; when the worker starts again
the task resumes and both say 完了.

The worker is held back while the test plays it: it claims the task and runs its job's row forward while
holding the job kind's lock (as a live worker does), then lets the lock go without finishing (as a killed
worker does). The task then really runs when the worker starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser import data
from tests.browser.conftest import Console, Live, shot, sign_in, task_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def agree(page: Any, label: str, text: str | None = None) -> None:
    """The badge and the progress box say ``label`` (and the progress ``text``), after the page's poll."""
    expect(page.get_by_test_id("task-state")).to_have_text(label, timeout=15_000)
    expect(page.locator(".progress-state")).to_have_text(label)
    if text is not None:
        expect(page.locator(".progress-text")).to_have_text(text)


def test_the_badge_follows_the_progress_and_a_dead_worker_is_shown_interrupted_with_how_to_resume(
        page: Any, tab: Any, live: Live, people: Any, console: Console, tmp_path: Path) -> None:
    from jutaku import config
    from jutaku.jobs import queue
    from jutaku.jobs.locks import file_lock
    from jutaku.jobs.models import Job, JobState

    world = data.world(tmp_path / "world", persons=40, seed=23)
    registrar = people("registrar")
    sign_in(page, live, registrar)
    with live.paused():
        page.goto(live.at("/files/import/"))
        form = page.get_by_test_id("import-targets")
        form.get_by_label("ファイル").set_input_files(str(world / "targets.csv"))
        form.get_by_role("button", name="取込開始").click()
        page.wait_for_url("**/tasks/*/")
        agree(page, "待機中", "実行を待っています")

        task = queue.claim()  # the worker takes the task and starts its job
        assert task is not None
        now = timezone.now()
        job = Job.objects.create(kind="import-targets", input_sha256="e" * 64, input_name="targets.csv",
                                 state=JobState.RUNNING, total=100, cursor=40, actor_username=registrar.username,
                                 actor_terminal="127.0.0.1", created_at=now, started_at=now, heartbeat_at=now)
        queue.add_job(task.pk, job.pk)
        with file_lock("import-targets", config.get().locks_dir):  # held by the live process running the job
            agree(page, "実行中", "40 / 100 件（40%）")
            expect(page.get_by_test_id("task-state")).to_have_class("badge warn")
            Job.objects.filter(pk=job.pk).update(cursor=70)
            agree(page, "実行中", "70 / 100 件（70%）")
            shot(page, "60-task-running")
        # The process dies without a word: the row still says running, its lock is free.
        agree(page, "中断", "70 / 100 件（70%）")
        expect(page.get_by_test_id("task-state")).to_have_class("badge bad")
        expect(page.get_by_test_id("task-hint")).to_contain_text("jutaku worker を起動すると続きから処理します")
        shot(page, "61-task-interrupted")

        ledger = tab()
        sign_in(ledger, live, people("operations"))
        ledger.goto(live.at("/audit/jobs/"))
        row = ledger.get_by_test_id("job-ledger").locator("tbody tr").filter(has_text="対象者抽出の取込")
        expect(row.get_by_test_id("job-state")).to_have_text("中断")
        expect(row.get_by_test_id("job-resume")).to_contain_text("jutaku worker を起動すると続きから処理します")
        shot(ledger, "62-job-ledger-interrupted")
        task_page = page.url
        page.goto(live.at("/tasks/"))  # 自分の処理 says the same
        expect(page.locator("tbody tr").filter(has_text=f"#{task.pk}")).to_contain_text("中断")
        page.goto(task_page)

    task_finished(page)  # the worker starts again: the task is queued again, runs, and the page reloads
    expect(page.get_by_test_id("task-state")).to_have_class("badge ok")
    expect(page.get_by_label("進捗")).to_have_count(0)
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED  # the next run of its kind recorded the crash
    page.locator("details.more summary").click()
    expect(page.locator("details.more tbody tr").filter(has_text=f"#{job.pk}")).to_contain_text("中断")
    expect(page.locator("details.more tbody tr").filter(has_text="完了")).to_have_count(1)
    console.assert_clean()
