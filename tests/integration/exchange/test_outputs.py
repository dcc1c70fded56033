"""Outputs do not outlive their purpose (issue 12 item 4): every file the system writes is tracked with an
expiry, purged by the housekeeping tasks at the start of every command and every worker-loop turn (here
driven with a travelling clock), audited with a count, and only if it is still the file written.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from jutaku.accounts.actor import Actor
from jutaku.accounts.permissions import Permission
from jutaku.audit.models import AuditRecord
from jutaku.exchange import outputs
from jutaku.exchange.models import OutputFile
from jutaku.exchange.outbound import write_export
from jutaku.formats.layouts import REJECTIONS
from jutaku.jobs import housekeeping
from jutaku.jobs.worker import serve

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
CLERK = Actor("clerk.t", "10.0.0.5", frozenset(Permission))
OTHER = Actor("other.t", "10.0.0.6", frozenset(Permission))
ROW = {"行番号": "2", "受付番号": "R1", "個人ID": "1000000001", "結果コード": "E02", "理由": "個人IDが対象者に存在しません"}


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def write(path: Path, actor: Actor = CLERK) -> Path:
    target, _ = write_export(path, REJECTIONS, [ROW], actor=actor)
    return target


def purge_records() -> list[dict[str, int]]:
    return [json.loads(r.detail) for r in AuditRecord.objects.filter(event="output:purge").order_by("seq")]


def test_an_output_and_its_manifest_are_kept_for_the_retention_then_purged_and_counted(
        tmp_path: Path, clock: time_machine.Coordinates) -> None:
    path = write(tmp_path / "rejections-1.csv")
    manifest = tmp_path / "rejections-1.csv.manifest.json"
    rows = list(OutputFile.objects.order_by("id"))
    assert [Path(r.path).name for r in rows] == ["rejections-1.csv", "rejections-1.csv.manifest.json"]
    assert all(r.expires_at == T0 + timedelta(days=3) and r.media_entry is not None for r in rows)

    clock.move_to(T0 + timedelta(days=3) - timedelta(seconds=1))
    assert housekeeping.run_due().removed["outputs"] == 0 and path.exists() and purge_records() == []

    clock.move_to(T0 + timedelta(days=3))
    report = housekeeping.run_due()
    assert report.removed["outputs"] == 2 and not report.failed
    assert not path.exists() and not manifest.exists()
    assert set(OutputFile.objects.values_list("purge_outcome", flat=True)) == {"expired"}
    assert purge_records() == [{"files": 2, "missing": 0, "changed": 0}]
    assert housekeeping.run_due().removed["outputs"] == 0 and len(purge_records()) == 1  # nothing twice


def test_the_purge_deletes_only_the_file_it_wrote(tmp_path: Path, clock: time_machine.Coordinates) -> None:
    moved = write(tmp_path / "a.csv")
    replaced = write(tmp_path / "b.csv")
    moved.rename(tmp_path / "kept-elsewhere.csv")  # taken away by the operator
    replaced.unlink()
    replaced.write_text("someone else's file", encoding="utf-8")  # another file now has the name
    clock.move_to(T0 + timedelta(days=4))
    result = outputs.purge_expired()
    assert (result.removed, result.missing, result.changed) == (2, 1, 1)  # the two manifests, and the rest
    assert (tmp_path / "kept-elsewhere.csv").exists() and replaced.read_text(encoding="utf-8") == "someone else's file"
    outcomes = dict(OutputFile.objects.values_list("name", "purge_outcome"))
    assert outcomes == {"a.csv": "missing", "b.csv": "changed", "a.csv.manifest.json": "expired",
                        "b.csv.manifest.json": "expired"}


def test_writing_again_to_the_same_path_replaces_the_older_output(tmp_path: Path,
                                                                   clock: time_machine.Coordinates) -> None:
    write(tmp_path / "stats.csv")
    clock.shift(timedelta(days=2))
    path = write(tmp_path / "stats.csv")
    live = OutputFile.objects.filter(purged_at__isnull=True, name="stats.csv")
    assert live.count() == 1 and live.get().expires_at == T0 + timedelta(days=5)
    assert OutputFile.objects.get(name="stats.csv", purged_at__isnull=False).purge_outcome == "replaced"
    clock.move_to(T0 + timedelta(days=4))
    outputs.purge_expired()
    assert path.exists()  # the newer file keeps its own retention


def test_only_its_writer_may_purge_an_output_before_its_time(tmp_path: Path, clock: time_machine.Coordinates) -> None:
    path = write(tmp_path / "notices.csv")
    output = OutputFile.objects.get(name="notices.csv")
    with pytest.raises(outputs.OutputRefused, match="作成した本人"):
        outputs.purge_output(output.pk, actor=OTHER)
    assert path.exists()
    assert outputs.purge_output(output.pk, actor=CLERK) == "forced" and not path.exists()
    assert AuditRecord.objects.get(event="output:purge").username == CLERK.username
    with pytest.raises(outputs.OutputRefused):
        outputs.purge_output(output.pk, actor=CLERK)  # gone already


def test_a_failing_purge_task_does_not_stop_the_others(tmp_path: Path, clock: time_machine.Coordinates) -> None:
    def broken(now: datetime) -> int:
        raise RuntimeError("disk unavailable")

    path = write(tmp_path / "x.csv")
    housekeeping.register("test-broken", broken)
    try:
        clock.move_to(T0 + timedelta(days=3))
        report = housekeeping.run_due()
    finally:
        housekeeping._TASKS.pop("test-broken", None)
    assert "test-broken" in report.failed and report.removed["outputs"] == 2 and not path.exists()


@pytest.mark.django_db(transaction=True)  # the loop closes old connections, as a separate process would
def test_the_worker_loop_purges_expired_outputs_at_every_turn(tmp_path: Path,
                                                              clock: time_machine.Coordinates) -> None:
    path = write(tmp_path / "report.csv")
    clock.move_to(T0 + timedelta(days=3, minutes=1))
    turns = iter([False, True])  # one turn of the loop, then stop
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        serve({}, interval=0, stop=lambda: next(turns))
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert not path.exists()
    assert OutputFile.objects.filter(purged_at__isnull=True).count() == 0
    assert AuditRecord.objects.get(event="output:purge").username == "system"


def test_a_downloaded_task_file_closes_its_output(tmp_path: Path, clock: time_machine.Coordinates) -> None:
    from jutaku import config
    from jutaku.jobs import queue

    folder = config.get().downloads_dir / "task-test"
    folder.mkdir(parents=True, exist_ok=True)
    path = write(folder / "rejections-9.csv")
    download = queue.offer(path, owner=CLERK.username, permission=Permission.REJECTIONS_VIEW.value, label="差戻リスト")
    queue.take(download, actor=CLERK).close()
    assert OutputFile.objects.get(name="rejections-9.csv").purge_outcome == "downloaded"
