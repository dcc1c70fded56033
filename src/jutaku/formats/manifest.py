"""Integrity manifests: ``<name>.manifest.json`` beside every exported file (``interfaces.md``).

A manifest records the interface, layout version, record count and SHA-256 of the *plaintext* file,
when and by whom it was made and the job that made it. An import verifies the manifest when one is
present and rejects the whole file on any mismatch (security checklist FILE-06: truncated or extended
media). The manifest of ``kit.csv`` and of its encrypted copy ``kit.csv.enc`` is the same file,
``kit.csv.manifest.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from jutaku.formats.csvio import FileInfo
from jutaku.formats.errors import FileRejected
from jutaku.formats.files import write_private

SUFFIX: Final = ".manifest.json"
ENCRYPTED_SUFFIX: Final = ".enc"
KEYS: Final = ("interface", "layout_version", "record_count", "sha256", "created_at", "created_by", "job_id")
#: A manifest is a few hundred bytes; anything much larger is not one.
MAX_MANIFEST_BYTES: Final = 64 * 1024
_HEX: Final = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Manifest:
    interface: str
    layout_version: int
    record_count: int
    sha256: str
    created_at: datetime
    created_by: str
    job_id: str | int | None


def manifest_path_for(data_path: str | os.PathLike[str]) -> Path:
    """``kit.csv`` and ``kit.csv.enc`` -> ``kit.csv.manifest.json``."""
    path = Path(data_path)
    name = path.name.removesuffix(ENCRYPTED_SUFFIX) if path.name != ENCRYPTED_SUFFIX else path.name
    return path.with_name(name + SUFFIX)


def write_manifest(
    data_path: str | os.PathLike[str],
    *,
    interface: str,
    layout_version: int,
    record_count: int,
    sha256: str,
    created_at: datetime,
    created_by: str,
    job_id: str | int | None,
) -> Path:
    """Write the manifest beside ``data_path`` (UTF-8 JSON, 0600) and return its path."""
    manifest = Manifest(interface, layout_version, record_count, sha256, created_at, created_by, job_id)
    _check(manifest)
    path = manifest_path_for(data_path)
    document = {key: getattr(manifest, key) for key in KEYS} | {"created_at": created_at.isoformat()}
    write_private(path, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return path


def _check(m: Manifest) -> None:
    if not m.interface or not isinstance(m.interface, str) or not isinstance(m.created_by, str):
        raise ValueError("interface and created_by must be non-empty strings")
    for number in (m.layout_version, m.record_count):
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ValueError("layout_version and record_count must be non-negative integers")
    if not isinstance(m.sha256, str) or len(m.sha256) != 64 or not set(m.sha256) <= _HEX:
        raise ValueError("sha256 must be 64 lower-case hex digits")
    if not isinstance(m.created_at, datetime) or m.created_at.utcoffset() is None:
        raise ValueError("created_at must be an aware datetime")
    if m.job_id is not None and (isinstance(m.job_id, bool) or not isinstance(m.job_id, str | int)):
        raise ValueError("job_id must be a string, an integer or None")


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read and check a manifest file; any problem is ``FileRejected('R_MANIFEST')``."""
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ValueError("too large")
        document = json.loads(raw.decode("utf-8"))
        if not isinstance(document, dict) or set(document) != set(KEYS):
            raise ValueError("keys differ")
        created_at = datetime.fromisoformat(document["created_at"])
        manifest = Manifest(**(document | {"created_at": created_at}))
        _check(manifest)
    except (OSError, ValueError, TypeError, RecursionError) as exc:
        raise FileRejected("R_MANIFEST", type(exc).__name__) from None
    return manifest


def verify_manifest(
    data_path: str | os.PathLike[str],
    info: FileInfo,
    interface: str,
    *,
    layout_version: int | None = None,
    required: bool = False,
) -> Manifest | None:
    """Check ``info`` (from :func:`~jutaku.formats.csvio.prescan`) against the manifest beside the file.

    Returns the manifest, or ``None`` when there is none and it is not ``required``. Raises
    ``FileRejected``: ``R_MANIFEST`` (missing when required, malformed, other interface or layout
    version), ``R_MANIFEST_COUNT`` (record count differs), ``R_MANIFEST_HASH`` (SHA-256 differs).
    """
    path = manifest_path_for(data_path)
    if not path.exists():
        if required:
            raise FileRejected("R_MANIFEST", "missing")
        return None
    manifest = read_manifest(path)
    if manifest.interface != interface:
        raise FileRejected("R_MANIFEST", f"the manifest is not for {interface}")
    if layout_version is not None and manifest.layout_version != layout_version:
        raise FileRejected("R_MANIFEST", f"the manifest is not for layout version {layout_version}")
    if manifest.record_count != info.rows:
        raise FileRejected("R_MANIFEST_COUNT", f"{info.rows} rows, manifest says {manifest.record_count}")
    if manifest.sha256 != info.sha256:
        raise FileRejected("R_MANIFEST_HASH")
    return manifest
