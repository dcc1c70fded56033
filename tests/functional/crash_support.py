"""Test support: run the real ``jutaku`` command, but SIGKILL it (or make it fail) at a chosen point.

Run in a child process with a child home's environment (``tests.conftest.child_home``)::

    python tests/functional/crash_support.py kill-after=jutaku.retention.deletion:run_job -- delete run 3

``kill-after=MODULE:ATTR`` replaces the function ``ATTR`` of ``MODULE`` by one that calls it and then
kills the whole process with SIGKILL (nothing after it runs: no ``finally``, no rollback, no exit
handler — as a power cut or the OOM killer would). ``kill-after=MODULE:ATTR:N`` does so after the N-th
call. ``fail-on=MODULE:ATTR:N`` raises ``RuntimeError`` on the N-th call instead (an unexpected internal
error, handled by the command's own error path). The command is then run exactly as ``jutaku`` runs it
(:func:`jutaku.cli.main`). Callers look the function up in the module when they call it, so patching the
module attribute reaches them (``from x import f`` at call time, or ``module.f(...)``).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any


def _patch(spec: str) -> None:
    action, _, target = spec.partition("=")
    module_name, attr, *count = target.split(":")
    nth = int(count[0]) if count else 1
    module = importlib.import_module(module_name)
    real: Callable[..., Any] = getattr(module, attr)
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if action == "fail-on" and calls["n"] == nth:
            raise RuntimeError("simulated internal error (test)")
        result = real(*args, **kwargs)
        if action == "kill-after" and calls["n"] == nth:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    if action not in {"kill-after", "fail-on"}:
        raise SystemExit(f"unknown action {action!r}")
    setattr(module, attr, wrapper)


def main(argv: list[str]) -> None:
    split = argv.index("--")
    specs, command = argv[:split], argv[split + 1:]
    from jutaku.bootstrap import setup_django

    setup_django()
    for spec in specs:
        _patch(spec)
    sys.argv = ["jutaku", *command]
    from jutaku.cli import main as jutaku

    jutaku()


if __name__ == "__main__":
    main(sys.argv[1:])
