"""A job's status as shown, and the command that continues it (jutaku.domain.jobs; issue 14 item 12)."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain import jobs
from jutaku.domain.jobs import Status

STATES = ["queued", "running", "completed", "failed", "refused"]


@given(state=st.sampled_from([*STATES, "unknown"]), code=st.sampled_from(["", "J_HANDLER", "J_CRASHED", "J_BUSY",
                                                                            "J_INTERRUPTED"]), alive=st.booleans())
def test_running_is_shown_only_while_its_owner_lives_and_a_stop_is_never_shown_as_a_failure_or_success(
        state: str, code: str, alive: bool) -> None:
    shown = jobs.status(state, code, owner_alive=alive)
    assert (shown is Status.RUNNING) == (state == "running" and alive)
    assert (shown is Status.INTERRUPTED) == ((state == "running" and not alive)
                                             or (state == "failed" and code in jobs.STOPPED_CODES))
    if state in ("queued", "completed", "refused"):
        assert shown == Status(state)
    assert shown.value in {s.value for s in Status} and jobs.LABELS[shown]


def test_a_state_this_version_does_not_know_is_not_shown_as_fine() -> None:
    assert jobs.status("paused", owner_alive=True) is Status.FAILED


@pytest.mark.parametrize(("kind", "name", "command"), [
    ("import-targets", "targets.csv", "jutaku import targets targets.csv"),
    ("import-procedures", "p.csv", "jutaku import procedures p.csv"),
    ("register-kit", "kit 2026.csv", "jutaku register kit 'kit 2026.csv'"),
    ("register-portal", "portal.zip", "jutaku register portal portal.zip"),
    ("linkage-import", "ans.csv.enc", "jutaku linkage import ans.csv.enc"),
    ("inquiry-import", "a'b.csv", "jutaku inquiry import 'a'\"'\"'b.csv'"),
    ("juki-import", "(name withheld)", "jutaku juki import <ファイル>"),
    ("bulk-deletion", "deletion-21", "jutaku delete run 21"),
    ("inquiry-create", "JT99000000530001-2026",
     "jutaku inquiry create --procedure JT99000000530001 --year 2026 --out <ファイル>"),
    ("juki-request", "juki-2026", "jutaku juki request --year 2026 --out <ファイル>"),
    ("linkage-request", "register", "jutaku linkage request --out <ファイル>"),
    ("bulk-deletion", "deletion-x", None),
    ("test.kill", "kill-test.csv", None),
])
def test_the_command_that_continues_each_kind(kind: str, name: str, command: str | None) -> None:
    assert jobs.command_for(kind, name) == command
    if command is not None and "<ファイル>" not in command:
        assert shlex.split(command)[-1] in (name, "21")  # the file name survives the shell


def test_the_hint_says_resume_redo_or_restart_the_worker() -> None:
    assert jobs.resume_hint("register-kit", "kit.csv", dry_run=False) == "続きから処理するには: jutaku register kit kit.csv"
    assert jobs.resume_hint("juki-request", "juki-2026", dry_run=False).startswith("やり直すには（ファイルは作り直します）")
    assert "jutaku worker" in jobs.resume_hint("register-kit", "kit.csv", dry_run=False, started_in_browser=True)
    assert "試行" in jobs.resume_hint("register-kit", "kit.csv", dry_run=True)
    assert jobs.resume_hint("test.kill", "x.csv", dry_run=False).startswith("同じ入力で同じ操作")
