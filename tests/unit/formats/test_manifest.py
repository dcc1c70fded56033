"""Manifests and partial-file detection (interfaces.md conventions; checklist FILE-06)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from jutaku.formats.csvio import FileInfo, prescan, write_csv
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import KIT
from jutaku.formats.manifest import (
    manifest_path_for,
    read_manifest,
    verify_manifest,
    write_manifest,
)
from tests.unit.formats.conftest import make_kit_row

NOW = datetime(2026, 4, 1, 9, 30, tzinfo=timezone(timedelta(hours=9)))


def export(tmp_path: Path, n: int = 3, name: str = "kit.csv") -> tuple[Path, FileInfo]:
    path = tmp_path / name
    info = write_csv(path, KIT, [make_kit_row(i) for i in range(1, n + 1)])
    write_manifest(path, interface="kit", layout_version=1, record_count=info.rows, sha256=info.sha256,
                   created_at=NOW, created_by="staff01", job_id=42)
    return path, info


def test_manifest_round_trip(tmp_path: Path) -> None:
    path, info = export(tmp_path)
    document = json.loads(manifest_path_for(path).read_text(encoding="utf-8"))
    assert list(document) == ["interface", "layout_version", "record_count", "sha256", "created_at",
                              "created_by", "job_id"]
    assert document["created_at"] == "2026-04-01T09:30:00+09:00"
    manifest = verify_manifest(path, prescan(path, KIT), "kit", layout_version=1, required=True)
    assert manifest is not None and manifest.record_count == 3 and manifest.sha256 == info.sha256
    assert read_manifest(manifest_path_for(path)) == manifest


def test_manifest_path_is_shared_by_the_encrypted_copy(tmp_path: Path) -> None:
    assert manifest_path_for(tmp_path / "kit.csv") == tmp_path / "kit.csv.manifest.json"
    assert manifest_path_for(tmp_path / "kit.csv.enc") == tmp_path / "kit.csv.manifest.json"


def test_missing_manifest_is_accepted_unless_required(tmp_path: Path) -> None:
    path = tmp_path / "kit.csv"
    info = write_csv(path, KIT, [make_kit_row()])
    assert verify_manifest(path, info, "kit") is None
    with pytest.raises(FileRejected) as e:
        verify_manifest(path, info, "kit", required=True)
    assert e.value.code == "R_MANIFEST"


@pytest.mark.parametrize(
    ("interface", "version", "code"),
    [("targets", None, "R_MANIFEST"), ("kit", 2, "R_MANIFEST")],
)
def test_manifest_for_another_interface_is_rejected(tmp_path: Path, interface: str, version: int | None,
                                                    code: str) -> None:
    path, info = export(tmp_path)
    with pytest.raises(FileRejected) as e:
        verify_manifest(path, info, interface, layout_version=version)
    assert e.value.code == code


@pytest.mark.parametrize(
    "change",
    [
        {"record_count": -1}, {"record_count": "3"}, {"record_count": True}, {"sha256": "AB" * 32},
        {"sha256": "ab"}, {"created_at": "2026-04-01T09:30:00"}, {"created_at": "yesterday"},
        {"job_id": [1]}, {"interface": ""}, {"extra": 1}, {"layout_version": 1.5},
    ],
)
def test_malformed_manifests_are_rejected(tmp_path: Path, change: dict[str, object]) -> None:
    path, info = export(tmp_path)
    mpath = manifest_path_for(path)
    document = json.loads(mpath.read_text(encoding="utf-8")) | change
    mpath.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(FileRejected) as e:
        verify_manifest(path, info, "kit")
    assert e.value.code == "R_MANIFEST"


@pytest.mark.parametrize("content", [b"", b"[]", b"{", b"\xff\xfe", b" " * 70_000, b"[" * 60_000])
def test_garbage_manifest_is_rejected(tmp_path: Path, content: bytes) -> None:
    path, info = export(tmp_path)
    manifest_path_for(path).write_bytes(content)
    with pytest.raises(FileRejected) as e:
        verify_manifest(path, info, "kit")
    assert e.value.code == "R_MANIFEST"


def test_write_manifest_refuses_bad_values(tmp_path: Path) -> None:
    good = dict(interface="kit", layout_version=1, record_count=0, sha256="0" * 64, created_at=NOW,
                created_by="x", job_id=None)
    write_manifest(tmp_path / "a.csv", **good)
    for bad in ({"created_at": datetime(2026, 4, 1)}, {"sha256": "x"}, {"record_count": -1},  # noqa: DTZ001
                {"job_id": 1.5}, {"created_by": None}):
        with pytest.raises(ValueError):
            write_manifest(tmp_path / "a.csv", **(good | bad))
    write_manifest(tmp_path / "b.csv", **(good | {"created_at": datetime(2026, 4, 1, tzinfo=UTC), "job_id": "j"}))


def _check_truncated_or_extended(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    try:
        verify_manifest(path, prescan(path, KIT), "kit", required=True)
    except FileRejected as e:
        return str(e.code)
    return "accepted"


@pytest.mark.timeout(300)
def test_truncation_sweep_every_prefix_is_rejected(tmp_path: Path) -> None:
    """FILE-06: for every k < len, file[:k] with the original manifest is rejected."""
    path, _ = export(tmp_path, n=4)
    original = path.read_bytes()
    outcomes = {k: _check_truncated_or_extended(path, original[:k]) for k in range(len(original))}
    assert "accepted" not in outcomes.values()
    assert set(outcomes.values()) <= {"R_MANIFEST_COUNT", "R_MANIFEST_HASH", "R_EMPTY", "R_HEADER", "R_ENCODING",
                                      "R_CSV"}
    assert _check_truncated_or_extended(path, original) == "accepted"


@pytest.mark.parametrize("junk", [b"x", b"\r\n", b"K9,1\r\n", b"\x00", b"\xff", b"\r\n" * 3])
def test_appended_junk_is_rejected(tmp_path: Path, junk: bytes) -> None:
    path, _ = export(tmp_path)
    original = path.read_bytes()
    assert _check_truncated_or_extended(path, original + junk) != "accepted"
