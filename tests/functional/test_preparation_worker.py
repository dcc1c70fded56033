"""The registration's preparation process dies with its parent and holds one batch at most (issue 13 item 8).

The worker holds plaintext numbers while it prepares them. Killed with SIGKILL, the main process can run
no clean-up: the worker must notice by itself (parent-death signal, a watchdog on the parent, the broken
pipe) and must not keep the caller's stdout open, or whoever waits for the command's output waits for an
orphan. Linux, real processes: the parent is a child ``jutaku register kit`` killed by this test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import JUTAKU, ROOT, child_query, run_jutaku

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(WorldSpec(persons=30_000, seed=808, kit_share=1.0, portal_share=0.0, truth=False), out)
    return out


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return found


def is_worker(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return b"spawn_main" in (Path("/proc") / str(pid) / "cmdline").read_bytes()
    return False


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie holds no memory and no files; only its exit status waits for a reaper


def cpu_ticks(pid: int) -> int:
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def idle(pid: int) -> bool:
    """The process used no CPU for a second (it is blocked)."""
    before = cpu_ticks(pid)
    time.sleep(1.0)
    return cpu_ticks(pid) == before


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def start(env: dict[str, str], kit: Path, chunk: int = 2000) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*JUTAKU, "register", "kit", str(kit), "--no-progress", "--chunk-size", str(chunk)],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def registering(child_home: dict[str, str], world: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A `jutaku register kit` in progress and its preparation worker's pid."""
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    proc = start(child_home, world / "kit.csv")
    try:
        worker = wait_for(lambda: next((c for c in children(proc.pid) if is_worker(c)), None), 60, "the worker")
        yield proc, worker
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def cursor(env: dict[str, str]) -> int:
    rows = child_query(env, "SELECT cursor FROM jobs_job WHERE kind = 'register-kit'")
    return int(rows[0][0]) if rows else 0


def assert_gone_with_its_parent(proc: subprocess.Popen[bytes], worker: int) -> None:
    proc.send_signal(signal.SIGKILL)
    wait_for(lambda: not alive(worker), 5, "the worker to die with its parent")
    proc.communicate(timeout=10)  # end of output: nothing else holds the caller's stdout and stderr


def test_the_worker_dies_when_its_parent_is_killed_as_it_starts(registering: tuple[subprocess.Popen[bytes], int]) -> None:
    assert_gone_with_its_parent(*registering)


def test_the_worker_dies_when_its_parent_is_killed_mid_run(registering: tuple[subprocess.Popen[bytes], int],
                                                           child_home: dict[str, str]) -> None:
    proc, worker = registering
    wait_for(lambda: cursor(child_home) >= 4000, 120, "two committed chunks")
    assert alive(worker)
    assert_gone_with_its_parent(proc, worker)


def test_the_worker_dies_when_its_parent_is_killed_while_it_waits_to_hand_over(
        registering: tuple[subprocess.Popen[bytes], int]) -> None:
    """The parent stops reading (stopped, then killed): the worker is blocked writing its batch into the pipe."""
    proc, worker = registering
    os.kill(proc.pid, signal.SIGSTOP)
    time.sleep(3)  # the worker fills the pipe and blocks on it
    assert alive(worker)
    assert_gone_with_its_parent(proc, worker)


def test_the_worker_dies_when_its_parent_is_killed_after_it_prepared_the_whole_file(
        child_home: dict[str, str], world: Path, tmp_path: Path) -> None:
    """The case that left orphans (about 1 kill in 8): the worker had prepared every row and was leaving,
    its last batches still buffered for a parent that was gone; it waited forever to write them."""
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    with (world / "kit.csv").open(encoding="utf-8") as fh:
        (tmp_path / "kit.csv").write_text("".join(fh.readline() for _ in range(12_001)), encoding="utf-8")
    proc = start(child_home, tmp_path / "kit.csv", chunk=5000)  # three batches of 5,000 rows
    try:
        worker = wait_for(lambda: next((c for c in children(proc.pid) if is_worker(c)), None), 60, "the worker")
        os.kill(proc.pid, signal.SIGSTOP)  # the parent takes nothing more from the worker
        wait_for(lambda: idle(worker), 60, "the worker to block")  # leaving, or handing over its first batch
        assert alive(worker)
        assert_gone_with_its_parent(proc, worker)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
