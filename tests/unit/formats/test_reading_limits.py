"""Every import reads a regular file and counts the bytes it actually reads (issue 13 item 9).

``fstat`` says ``/dev/zero`` is 0 bytes long and it never ends; a FIFO with no writer blocks whoever opens
it. An input path must be a regular file (``R_NOT_FILE``), and every reader stops at its limit on the
bytes read, whatever the size the file claims.
"""

from __future__ import annotations

import errno
import io
import os
import time
from pathlib import Path

import pytest

from jutaku.formats.csvio import CsvReader, prescan
from jutaku.formats.errors import FileRejected
from jutaku.formats.files import open_regular, read_limited
from jutaku.formats.layouts import DELETION_TARGETS
from jutaku.formats.portal import prescan_portal, read_portal_zip


def code_of(call: object) -> str:
    with pytest.raises(FileRejected) as info:
        call()  # type: ignore[operator]
    return info.value.code


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("reader", [
    lambda p: open_regular(p),
    lambda p: read_limited(p, 1 << 20),
    lambda p: prescan(p, DELETION_TARGETS),
    lambda p: list(read_portal_zip(p)),
    lambda p: prescan_portal(p),
], ids=["open", "read_limited", "csv", "portal", "portal-prescan"])
def test_devices_fifos_and_folders_are_refused_without_reading(reader: object, fifo: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    for path in (Path("/dev/zero"), Path("/dev/urandom"), fifo, tmp_path):
        assert code_of(lambda path=path: reader(path)) == "R_NOT_FILE", path  # type: ignore[operator]
    assert time.monotonic() - started < 5  # nothing was read, and the FIFO did not block


def test_a_missing_file_is_not_found_not_empty(tmp_path: Path) -> None:
    """A missing path is R_NOT_FOUND naming it (issue 14 item 6), never "empty"; a folder is said as such."""
    for missing in (tmp_path / "absent.csv", tmp_path / "no" / "such.csv", tmp_path / ("x" * 300)):
        with pytest.raises(FileRejected) as info:
            open_regular(missing)
        assert info.value.code == "R_NOT_FOUND"
        assert str(info.value).startswith(f"[R_NOT_FOUND] ファイルが見つかりません: {missing}。パスを確認してください。")
    with pytest.raises(FileRejected) as folder:
        open_regular(tmp_path)
    assert folder.value.code == "R_NOT_FILE" and f"フォルダが指定されました: {tmp_path}" in str(folder.value)


def test_an_unreadable_file_is_said_to_be_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as root, who reads anything: the refusal of the kernel is what is simulated."""
    from jutaku.formats import files

    path = tmp_path / "locked.csv"
    path.write_bytes(b"x")

    def refuse(*_args: object, **_kw: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files.os, "open", refuse)
    with pytest.raises(FileRejected) as info:
        open_regular(path)
    assert info.value.code == "R_UNREADABLE"
    assert str(info.value).startswith(f"[R_UNREADABLE] ファイルを読み取る権限がありません: {path}。")
    monkeypatch.setattr(files.os, "access", lambda *_a, **_k: False)
    monkeypatch.setattr(files.os, "open", os.open)
    with pytest.raises(FileRejected) as checked:
        files.check_input(path)
    assert checked.value.code == "R_UNREADABLE"


def test_a_regular_file_is_read_up_to_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"x" * 100)
    assert read_limited(path, 100) == b"x" * 100
    assert code_of(lambda: read_limited(path, 99)) == "R_SIZE"
    with open_regular(path) as fh:
        assert fh.read() == b"x" * 100


class Endless(io.RawIOBase):
    """A stream of valid rows that never ends and has no size (what a device looks like to a reader)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = "個人ID,削除理由\r\n".encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while len(self.pending) < len(buffer):
            self.pending += b"1000000001,1\r\n" * 1000
        n = len(buffer)
        buffer[:n], self.pending = self.pending[:n], self.pending[n:]
        return n


def test_a_stream_without_a_size_is_cut_at_the_limit_on_bytes_read() -> None:
    assert code_of(lambda: prescan(io.BufferedReader(Endless()), DELETION_TARGETS, "utf-8", max_bytes=1 << 16)) \
        == "R_SIZE"
    with pytest.raises(FileRejected) as info:
        for _ in CsvReader(io.BufferedReader(Endless()), DELETION_TARGETS, max_bytes=1 << 16):
            pass
    assert info.value.code == "R_SIZE"
