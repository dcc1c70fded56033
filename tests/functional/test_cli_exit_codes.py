"""`jutaku` exit codes and messages (issue 2): 0 when the job ran, even with rejected rows; 2 with a
clear message when the input or the installation is refused whole, and nothing applied."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jutaku.crypto.keyring import KeyRing
from jutaku.crypto.media import encrypt_file
from jutaku.formats.csvio import prescan
from jutaku.formats.layouts import KIT
from jutaku.formats.manifest import write_manifest
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import run_jutaku

pytestmark = pytest.mark.subprocess


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(WorldSpec(persons=400, seed=4), out)
    return out


def test_a_command_on_an_uninitialised_home_is_refused(child_env: dict[str, str], world: Path) -> None:
    proc = run_jutaku(child_env, "import", "targets", str(world / "targets.csv"))
    assert proc.returncode == 2
    assert "not initialised" in proc.stderr and "jutaku init" in proc.stderr


def test_rejected_rows_still_exit_zero_and_write_the_rejection_list(child_home: dict[str, str], world: Path) -> None:
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    proc = run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "E01" in proc.stdout and "差戻リスト" in proc.stdout
    out = Path(child_home["JUTAKU_HOME"]) / "output"
    assert any(p.name.startswith("rejections-register-kit-") for p in out.iterdir())


def test_a_file_with_a_wrong_header_is_refused_whole(child_home: dict[str, str], tmp_path: Path,
                                                     world: Path) -> None:
    bad = tmp_path / "targets.csv"
    text = (world / "targets.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("氏名カナ", "カナ氏名", 1), encoding="utf-8")
    proc = run_jutaku(child_home, "import", "targets", str(bad), "--no-progress")
    assert proc.returncode == 2 and "R_HEADER" in proc.stderr
    jobs = run_jutaku(child_home, "jobs", "list", check=True)
    assert "import-targets" not in jobs.stdout  # no job started: nothing was applied


def test_a_truncated_file_with_a_manifest_is_refused(child_home: dict[str, str], tmp_path: Path,
                                                     world: Path) -> None:
    data = (world / "targets.csv").read_bytes()
    good = tmp_path / "targets.csv"
    good.write_bytes(data)
    from jutaku.formats.layouts import TARGETS

    info = prescan(good, TARGETS)
    from datetime import UTC, datetime

    write_manifest(good, interface="targets", layout_version=1, record_count=info.rows, sha256=info.sha256,
                   created_at=datetime.now(UTC), created_by="sim", job_id=None)
    good.write_bytes(data[: len(data) * 2 // 3].rsplit(b"\n", 1)[0] + b"\n")  # cut at a line end
    proc = run_jutaku(child_home, "import", "targets", str(good), "--no-progress")
    assert proc.returncode == 2 and "R_MANIFEST" in proc.stderr


def test_encrypted_media_is_read_and_a_flipped_byte_refuses_it(child_home: dict[str, str], tmp_path: Path,
                                                               world: Path) -> None:
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    ring = KeyRing.load(Path(child_home["JUTAKU_HOME"]) / "keys", production=False)
    plain = tmp_path / "kit.csv"
    plain.write_bytes((world / "kit.csv").read_bytes())
    info = prescan(plain, KIT)
    from datetime import UTC, datetime

    enc = tmp_path / "kit.csv.enc"
    encrypt_file(plain, enc, ring.media_key)
    write_manifest(enc, interface="kit", layout_version=1, record_count=info.rows, sha256=info.sha256,
                   created_at=datetime.now(UTC), created_by="contractor", job_id=None)
    plain.unlink()

    tampered = tmp_path / "t" / "kit.csv.enc"
    tampered.parent.mkdir()
    blob = bytearray(enc.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    tampered.write_bytes(bytes(blob))
    refused = run_jutaku(child_home, "register", "kit", str(tampered), "--no-progress")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    ledger = run_jutaku(child_home, "media", "list", check=True).stdout
    assert "kit.csv.enc" in ledger  # the refused media is in the ledger too

    proc = run_jutaku(child_home, "register", "kit", str(enc), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^OK +[\d,]+ +登録しました$", proc.stdout, re.M)
    ledger = run_jutaku(child_home, "media", "list", check=True).stdout
    assert "あり" in ledger  # read as encrypted media
