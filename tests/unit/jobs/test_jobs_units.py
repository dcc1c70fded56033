"""Pure parts of the job runner: kinds, lock keys, the OS lock, chunking, counts, progress, CLI helpers."""

from __future__ import annotations

import io
import os
from collections import Counter
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rich.console import Console

from jutaku.jobs import locks
from jutaku.jobs.commands import dry_run_option, refusals_exit
from jutaku.jobs.errors import JobBusy, JobError, JobOptionsConflict
from jutaku.jobs.progress import job_progress
from jutaku.jobs.runner import _checked_counts, _chunks


@pytest.mark.parametrize("kind", ["registry.import", "numbers_register", "a", "exchange.result-v2"])
def test_kinds_are_short_lower_case_identifiers(kind):
    assert locks.check_kind(kind) == kind


@pytest.mark.parametrize("kind", ["", "Import", "../etc/passwd", "a b", "x" * 65, "1abc"])
def test_a_kind_that_could_not_name_a_lock_file_is_refused(kind):
    with pytest.raises(ValueError, match="job kind"):
        locks.check_kind(kind)


def test_advisory_keys_are_stable_signed_64_bit_and_differ_by_kind():
    key = locks.advisory_key("registry.import")
    assert key == locks.advisory_key("registry.import")
    assert -(2**63) <= key < 2**63
    assert key != locks.advisory_key("numbers.register")


def test_the_file_lock_refuses_a_second_holder_and_names_the_first(tmp_path: Path):
    with locks.file_lock("registry.import", tmp_path):
        with pytest.raises(JobBusy) as busy, locks.file_lock("registry.import", tmp_path):
            pass  # pragma: no cover
        assert f"process {os.getpid()} on this host" in str(busy.value)
        with locks.file_lock("numbers.register", tmp_path):  # another kind is another lock
            pass
    with locks.file_lock("registry.import", tmp_path):  # released on exit
        pass
    assert oct((tmp_path / "registry.import.lock").stat().st_mode & 0o777) == "0o600"


def test_chunks_number_items_from_the_start_of_the_stream_and_skip_committed_ones():
    stream = (f"row{i}" for i in range(7))
    assert list(_chunks(stream, skip=2, size=3)) == [
        [(2, "row2"), (3, "row3"), (4, "row4")],
        [(5, "row5"), (6, "row6")],
    ]
    assert list(_chunks([], skip=0, size=3)) == []
    assert list(_chunks(["a"], skip=5, size=3)) == []


def test_counts_may_be_a_counter_or_a_dict_but_never_negative():
    assert _checked_counts(Counter({"ok": 3, "E01": 1})) == {"ok": 3, "E01": 1}
    with pytest.raises(ValueError, match="negative"):
        _checked_counts({"ok": -1})


def render(total: int | None, *, terminal: bool = True) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=140, color_system=None)
    with job_progress("対象者抽出の取込 #7", total=total, completed=2, console=console) as advance:
        advance(3)
    return out.getvalue()


def test_progress_shows_a_bar_the_count_the_rate_and_the_eta_when_the_total_is_known():
    text = render(10)
    assert "対象者抽出の取込 #7" in text and "5/10" in text
    assert "行/秒" in text and "残り" in text


def test_progress_works_with_an_unknown_total_and_shows_it_once_the_stream_ends():
    text = render(None)
    assert "5/5" in text and "行/秒" in text


def test_progress_is_silent_when_stderr_is_not_a_terminal():
    assert render(10, terminal=False) == ""


def test_refusal_messages_explain_what_to_do_and_carry_a_code():
    busy = JobBusy("registry.import", "process 42 on this host")
    assert busy.code == "J_BUSY" and "wait for it to finish" in str(busy)
    conflict = JobOptionsConflict("registry.import", 9)
    assert conflict.code == "J_OPTIONS" and "#9" in str(conflict)
    assert JobError("E12", "bad layout").code == "E12"


def test_job_commands_share_dry_run_and_exit_2_when_refused():
    @click.command()
    @dry_run_option
    def fake_import(dry_run: bool) -> None:
        click.echo(f"dry_run={dry_run}")
        with refusals_exit():
            raise JobBusy("registry.import", "process 42 on this host")

    result = CliRunner().invoke(fake_import, ["--dry-run"])
    assert result.output.startswith("dry_run=True")
    assert result.exit_code == 2
    assert "拒否 (refused): another 'registry.import' job is running" in result.output
