"""Every import reads a bounded number of bytes from a regular file; the portal archive's limits are the
documented ones (issue 13 item 9). The real ``jutaku`` command in a child process.

``jutaku register kit /dev/zero`` used to read forever: the refused file was hashed for the media ledger to
its end, and ``/dev/zero`` has none. A FIFO without a writer blocked whoever opened it. Each must be
refused at once (``R_NOT_FILE``) and recorded in the media ledger, by every import.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from tests.conftest import child_query, run_jutaku
from tests.unit.formats.test_portal import application
from tests.unit.formats.ziptools import Entry, raw_zip

pytestmark = [pytest.mark.subprocess]

IMPORTS = [
    ["register", "kit"], ["register", "portal"], ["import", "targets"], ["import", "procedures"],
    ["linkage", "import"], ["inquiry", "import"], ["juki", "import"], ["allowlist", "load"],
]


def test_no_import_reads_a_device_or_waits_on_a_fifo(child_home: dict[str, str], tmp_path: Path) -> None:
    fifo = tmp_path / "kit.csv"
    os.mkfifo(fifo)  # no writer: opening it to read would block forever
    encrypted = tmp_path / "kit.csv.enc"
    encrypted.symlink_to("/dev/zero")
    for command in IMPORTS:
        for path in ("/dev/zero", str(fifo)):
            done = run_jutaku(child_home, *command, path, timeout=60)  # used to run until killed
            assert done.returncode == 2 and "R_NOT_FILE" in done.stderr, (command, path, done.stderr)
    done = run_jutaku(child_home, "register", "kit", str(encrypted), timeout=60)
    assert done.returncode == 2 and "R_NOT_FILE" in done.stderr
    done = run_jutaku(child_home, "delete", "request", "/dev/zero", "--reason", "x", timeout=60)
    assert done.returncode == 2 and "R_NOT_FILE" in done.stderr
    refused = child_query(child_home, "SELECT outcome, sha256, size FROM exchange_medialedgerentry "
                                      "WHERE direction = 'read' AND outcome = 'R_NOT_FILE'")
    assert len(refused) == 2 * len(IMPORTS) + 2  # each refusal is on the media ledger, unread
    assert {(sha, size) for _, sha, size in refused} == {("0" * 64, 0)}


def test_a_portal_download_with_a_zip64_entry_is_refused(child_home: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "portal.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("202604010001.xml", "w", force_zip64=True) as entry:
        entry.write(application().encode())
    done = run_jutaku(child_home, "register", "portal", str(path), "--no-progress")
    assert done.returncode == 2 and "R_ZIP" in done.stderr, done.stdout + done.stderr


@pytest.mark.slow
def test_registration_holds_to_the_documented_entry_limit(child_home: dict[str, str], tmp_path: Path) -> None:
    """50,000 entries per download (docs/formats/portal.md); registration used to raise it to 1,000,000."""
    blank = Entry("x", b"", 0, 0, method=0)
    path = tmp_path / "portal.zip"
    path.write_bytes(raw_zip([Entry(f"添付/{i}.txt", blank.data, 0, 0, method=0) for i in range(50_001)]))
    done = run_jutaku(child_home, "register", "portal", str(path), "--no-progress")
    assert done.returncode == 2 and "R_ZIP" in done.stderr and "50000" in done.stderr, done.stdout + done.stderr
    path.write_bytes(raw_zip([Entry(f"添付/{i}.txt", blank.data, 0, 0, method=0) for i in range(50_000)]))
    done = run_jutaku(child_home, "register", "portal", str(path), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr  # at the limit: read (no applications in it)
