"""`jutaku sim world` parses its options, declares its permission and writes the world."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from jutaku.accounts.permissions import Permission
from jutaku.sim.commands import world

#: The command's parameters and body without the session/permission wrapper (tested by the architecture
#: tests), so these unit tests need no account machinery.
sim = click.Group("sim", commands=[click.Command("world", params=world.params,
                                                 callback=world.callback.__wrapped__)])  # type: ignore[union-attr]


def test_world_command_declares_sim_run() -> None:
    assert world.callback.__jutaku_permission__ is Permission.SIM_RUN  # type: ignore[union-attr]


def test_world_command_writes_a_world(tmp_path: Path) -> None:
    out = tmp_path / "w"
    result = CliRunner().invoke(
        sim, ["world", "--persons", "500", "--seed", "4", "--out", str(out), "--fault-rate", "0.02",
              "--not-current-rate", "0.03"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "world.json").read_text(encoding="utf-8"))
    assert summary["persons"] == 500 and summary["rates"]["malformed"] == 0.02
    assert summary["rates"]["not_current"] == 0.03 and summary["rates"]["benign"] == 0.04
    assert "expected outcomes" in result.output


def test_impossible_rates_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        sim, ["world", "--persons", "10", "--out", str(tmp_path), "--malformed-rate", "0.9", "--benign-rate", "0.9"]
    )
    assert result.exit_code == 2 and "拒否" in result.output
