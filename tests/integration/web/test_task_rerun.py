"""A task run again after its job completed offers the list its first run did not write (issue 13 item 7),
and the crash message of the first run says the job had completed, not that everything was rolled back.
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jutaku.jobs.models import Job
from jutaku.registry import rejections
from jutaku.sim.world import WorldSpec, build_world
from tests.integration.web.conftest import SignedIn
from tests.integration.web.test_files import fetch, links, rows_of, run_task, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]


def test_a_rerun_of_a_completed_import_offers_the_rejection_list_once(signed_in: SignedIn, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    build_world(WorldSpec(persons=200, seed=31), tmp_path / "world")
    registrar = signed_in("registrar")
    assert run_task(upload(registrar, "targets", (tmp_path / "world" / "targets.csv").read_bytes(), "t.csv")).state \
        == "done"
    kit = (tmp_path / "world" / "kit.csv").read_bytes()
    real = rejections.write_rejections

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the worker died after the job completed")

    monkeypatch.setattr(rejections, "write_rejections", crash)
    first = run_task(upload(registrar, "kit", kit, "kit.csv"))
    job = Job.objects.get(pk=first.job_ids[-1])
    assert first.state == "failed" and job.state == "completed"
    assert f"ジョブ #{job.pk}（register-kit）は完了しています" in first.error and "取り消されました" not in first.error

    monkeypatch.setattr(rejections, "write_rejections", real)
    again = run_task(upload(registrar, "kit", kit, "kit.csv"))
    assert again.state == "done" and "取込済み" in again.result["message"] and "差戻リスト" in again.result["message"]
    offered = rows_of(fetch(registrar, links(registrar, again)["差戻リスト"]))
    assert len(offered) == sum(n for code, n in job.counts.items() if code.startswith("E")) > 0

    third = run_task(upload(registrar, "kit", kit, "kit.csv"))
    assert third.state == "done" and "差戻リスト" not in links(registrar, third)  # written once
