"""Every file is written owner-only from the first byte and appears complete or not at all (issue 12 item 3)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from jutaku.formats.csvio import write_csv
from jutaku.formats.files import private_file, write_private
from jutaku.formats.layouts import REJECTIONS
from jutaku.formats.manifest import write_manifest


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: the writers must not rely on the process's."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_files_are_0600_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    write_private(tmp_path / "a.html", b"<p>x</p>")
    info = write_csv(tmp_path / "r.csv", REJECTIONS, [{"行番号": "2", "受付番号": "", "個人ID": "", "結果コード": "E00",
                                                      "理由": "x"}])
    from datetime import UTC, datetime

    manifest = write_manifest(tmp_path / "r.csv", interface="rejections", layout_version=1, record_count=info.rows,
                              sha256=info.sha256, created_at=datetime.now(UTC), created_by="t", job_id=None)
    assert [mode(p) for p in (tmp_path / "a.html", tmp_path / "r.csv", manifest)] == [0o600] * 3


def test_an_existing_world_readable_file_is_replaced_by_a_private_one(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    target.chmod(0o644)
    old_inode = target.stat().st_ino
    write_private(target, b"new")
    assert target.read_bytes() == b"new" and mode(target) == 0o600 and target.stat().st_ino != old_inode


def test_an_error_leaves_the_old_file_and_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), private_file(target) as fh:
        fh.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_symbolic_link_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep")
    (tmp_path / "out.csv").symlink_to(victim)
    write_private(tmp_path / "out.csv", b"data")
    assert victim.read_bytes() == b"keep"
    assert not (tmp_path / "out.csv").is_symlink() and (tmp_path / "out.csv").read_bytes() == b"data"
