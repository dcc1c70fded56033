"""The deletion ledger after an append killed mid-write (issue 13 item 6): a torn last line is no tombstone
(reading ignores it) and the next append starts by cutting it off, so the line is written again whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jutaku.retention import backup


def line(ref: str) -> bytes:
    return (json.dumps({"person_ref": ref, "approval_id": 3, "deletion_no": "DL0000000003",
                        "executed_at": "2026-12-01T00:00:00+00:00", "backup_expires_on": None}) + "\n").encode()


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "deletions.jsonl"
    monkeypatch.setattr(backup, "ledger_path", lambda: path)
    return path


def cut(path: Path) -> bytes:
    fd = os.open(path, os.O_RDWR)
    try:
        backup._drop_torn_tail(fd)
    finally:
        os.close(fd)
    return path.read_bytes()


def test_a_torn_last_line_is_not_read_and_is_cut_before_the_next_append(ledger: Path) -> None:
    whole = line("1000000001") + line("1000000002")
    ledger.write_bytes(whole + line("1000000003")[:40])
    assert [t.person_ref for t in backup._ledger_lines()] == ["1000000001", "1000000002"]
    assert [t.person_ref for t in backup.read_ledger().values()] == ["1000000001", "1000000002"]
    assert cut(ledger) == whole


def test_a_whole_ledger_is_left_alone_and_a_lone_torn_line_goes(ledger: Path) -> None:
    ledger.write_bytes(line("1000000001"))
    assert cut(ledger) == line("1000000001")
    ledger.write_bytes(line("1000000001")[:30])
    assert cut(ledger) == b"" and backup._ledger_lines() == []
    assert cut(ledger) == b""


def test_a_torn_line_longer_than_one_read_block_is_cut_at_the_last_newline(ledger: Path) -> None:
    ledger.write_bytes(line("1000000001") + b"x" * 200_000)
    assert cut(ledger) == line("1000000001")
