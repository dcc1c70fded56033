"""Hostile or broken files are refused whole by the registration and nothing is applied (issue 4).

Each case runs the real service (`register_numbers`) against a loaded register and then checks: the
refusal carries its code, no number was stored, no job ran, and the media ledger holds the refused file.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.domain import leakscan
from jutaku.exchange.models import MediaLedgerEntry
from jutaku.formats.csvio import prescan
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import KIT
from jutaku.formats.manifest import write_manifest
from jutaku.jobs.models import Job
from jutaku.registry.models import MyNumberRecord
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world
from tests.unit.formats.ziptools import deflated, raw_zip, zeros_bomb

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]

XXE = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       "<申請データ><受付番号>&x;</受付番号></申請データ>").encode()
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><申請データ><受付番号>&c;</受付番号></申請データ>').encode()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(WorldSpec(persons=200, seed=9), out)
    return out


def kit_text(world: Path) -> str:
    return (world / "kit.csv").read_text(encoding="utf-8")


def wrong_encoding(world: Path, out: Path) -> Path:
    path = out / "kit.csv"
    path.write_bytes(kit_text(world).encode("utf-16"))
    return path


def broken_cp932_lead_byte(world: Path, out: Path) -> Path:
    data = bytearray(kit_text(world).encode("cp932"))
    data[len(data) // 2] = 0x81  # a lead byte
    data[len(data) // 2 + 1] = 0x0A  # followed by a byte no CP932 character has
    path = out / "kit.csv"
    path.write_bytes(bytes(data))
    return path


def truncated_with_manifest(world: Path, out: Path) -> Path:
    path = out / "kit.csv"
    path.write_text(kit_text(world), encoding="utf-8")
    info = prescan(path, KIT)
    write_manifest(path, interface="kit", layout_version=1, record_count=info.rows, sha256=info.sha256,
                   created_at=datetime.now(UTC), created_by="contractor", job_id=None)
    lines = kit_text(world).splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    return path


def junk_100_mb(world: Path, out: Path) -> Path:
    path = out / "kit.csv"
    with path.open("wb") as fh:
        block = bytes(range(256)) * 4096
        for _ in range(100):
            fh.write(block)
    return path


def zip_with(entries: list[tuple[str, bytes]]) -> Callable[[Path, Path], Path]:
    def build(world: Path, out: Path) -> Path:
        path = out / "portal.zip"
        path.write_bytes(raw_zip([deflated(name, data) for name, data in entries]))
        return path
    return build


def zip_bomb(world: Path, out: Path) -> Path:
    path = out / "portal.zip"
    path.write_bytes(raw_zip([zeros_bomb("202600000001.xml")]))
    return path


def nested_zip(world: Path, out: Path) -> Path:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("a.xml", "<申請データ/>")
    return zip_with([("202600000001.xml", b"<x/>"), ("inner.zip", inner.getvalue())])(world, out)


CASES: dict[str, tuple[str, Callable[[Path, Path], Path], str]] = {
    "wrong encoding (UTF-16)": ("kit", wrong_encoding, "R_"),
    "CP932 with a broken lead byte": ("kit", broken_cp932_lead_byte, "R_ENCODING"),
    "truncated file with its manifest": ("kit", truncated_with_manifest, "R_MANIFEST"),
    "100 MB of junk": ("kit", junk_100_mb, "R_"),
    "zip bomb": ("portal", zip_bomb, "R_"),
    "../ entry": ("portal", zip_with([("../202600000001.xml", b"<x/>")]), "R_ZIP"),
    "absolute entry": ("portal", zip_with([("/abs/202600000001.xml", b"<x/>")]), "R_ZIP"),
    "nested archive": ("portal", nested_zip, "R_ZIP"),
    "XXE": ("portal", zip_with([("202600000001.xml", XXE)]), "R_XML"),
    "billion laughs": ("portal", zip_with([("202600000001.xml", LAUGHS)]), "R_XML"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_file_is_refused_whole_and_nothing_is_applied(case: str, world: Path, tmp_path: Path) -> None:
    source, build, code = CASES[case]
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    path = build(world, tmp_path)
    with pytest.raises(FileRejected) as refused:
        register_numbers(path, source=source, actor=SYSTEM, progress=False)
    assert refused.value.code.startswith(code), refused.value
    assert list(leakscan.scan(str(refused.value).encode("utf-8"))) == []  # the message quotes no number
    assert MyNumberRecord.objects.count() == 0
    assert not Job.objects.filter(kind__startswith="register").exists()
    ledger = MediaLedgerEntry.objects.get(file_name=path.name)
    assert ledger.outcome == refused.value.code and ledger.direction == "read"


def test_formula_cells_in_a_kit_file_are_row_errors_and_the_rest_loads(world: Path, tmp_path: Path) -> None:
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    lines = kit_text(world).splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[2] = "=HYPERLINK(1)"  # 氏名
    path = tmp_path / "kit.csv"
    path.write_text(lines[0] + ",".join(cells) + "".join(lines[2:]), encoding="utf-8")
    result = register_numbers(path, source="kit", actor=SYSTEM, progress=False)
    assert result.job.counts["E00"] >= 1
    assert result.job.counts.get("OK", 0) > 100
