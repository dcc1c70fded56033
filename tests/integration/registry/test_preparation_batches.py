"""The preparation worker holds one batch of rows at most (issue 13 item 8): it reads the next rows of the
kit file only after the main process has taken the batch before them.

``prepare_and_send`` is the worker's loop; here its ``send`` is a fake that checks, at every hand-over and
every row read, how many rows the worker holds (read from the file and not yet handed over).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jutaku.formats import csvio
from jutaku.registry.pipeline import WorkerSpec, from_wire, prepare_and_send
from jutaku.sim.world import WorldSpec, build_world

BATCH = 40


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(WorldSpec(persons=600, seed=88, kit_share=1.0, portal_share=0.0, truth=False), out)
    return out / "kit.csv"


def test_the_worker_reads_no_row_of_the_next_batch_before_handing_over_the_last(
        kit: Path, home_keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = {"read": 0, "sent": 0, "most": 0}
    real = csvio.read_csv

    @contextlib.contextmanager
    def counting(*args: Any, **kwargs: Any) -> Iterator[Iterator[csvio.Row]]:
        def rows() -> Iterator[csvio.Row]:
            with real(*args, **kwargs) as reader:
                for row in reader:
                    state["read"] += 1
                    state["most"] = max(state["most"], state["read"] - state["sent"])
                    yield row
        yield rows()

    monkeypatch.setattr(csvio, "read_csv", counting)
    batches: list[int] = []

    def send(message: tuple[str, Any]) -> None:
        kind, payload = message
        if kind == "rows":
            assert state["read"] - state["sent"] == len(payload) <= BATCH  # exactly the batch handed over
            assert all(from_wire(w).note.line_no for w in payload)
            state["sent"] += len(payload)
            batches.append(len(payload))
        else:
            assert kind == "end"

    prepare_and_send(WorkerSpec(kit, None, home_keys, False, BATCH), send)
    total = len(kit.read_text(encoding="utf-8").splitlines()) - 1
    assert state["sent"] == state["read"] == total and len(batches) == -(-total // BATCH)
    assert state["most"] == BATCH  # never more than one batch held
