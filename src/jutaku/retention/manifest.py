"""Backup manifests (ADR 0019): what `jutaku backup` writes beside every backup, and what a restore checks.

``<backup>.manifest.json`` (0600) holds the backup's SHA-256 and size, the database vendor, this home's
id (a random id kept in ``<home>/jutaku.json``, created on first use), the migrations applied in the copy,
the ids of the keys its data needs (the index key, and every KEK that wraps a data key in it: ids are a
name and a one-way fingerprint, never key material), the audit head, when and by whom. The same manifest
is written into the backup catalogue's ``done`` line, so a backup whose manifest file was lost is still
recognised by its hash. The rules that compare a manifest with this home are :mod:`jutaku.domain.restore`.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from jutaku import config
from jutaku.domain.restore import Keys, Manifest, RestoreRefused, parse
from jutaku.retention import catalogue

SUFFIX: Final = ".manifest.json"
MARKER: Final = "jutaku.json"


def path_for(backup: Path) -> Path:
    return backup.with_name(backup.name + SUFFIX)


def home_id(*, create: bool = False) -> str | None:
    """This home's random id (``jutaku.json``); with ``create``, made once if the home has none yet."""
    marker = config.get().home / MARKER
    current = _marker(marker).get("home_id")
    if current or not create:
        return str(current) if current else None
    lock = config.get().locks_dir / "home-id.lock"
    lock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = _marker(marker)
        if not data.get("home_id"):
            data["home_id"] = secrets.token_hex(16)
            temporary = marker.with_name(MARKER + ".tmp")
            temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, marker)
        return str(data["home_id"])
    finally:
        os.close(fd)


def _marker(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def held_keys() -> Keys:
    """The ids of the keys this installation holds."""
    from jutaku.crypto.keyring import get_keyring

    ring = get_keyring()
    return Keys(ring.index_key.key_id, {v: ring.kek(v).key_id for v in ring.kek_versions})


def known_migrations() -> dict[str, frozenset[str]]:
    """The migrations this version has, by app."""
    from django.db.migrations.loader import MigrationLoader

    known: dict[str, set[str]] = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations:
        known.setdefault(app, set()).add(name)
    return {app: frozenset(names) for app, names in known.items()}


def facts(cursor: Any) -> tuple[dict[str, tuple[str, ...]], set[int], int]:
    """(applied migrations by app, KEK versions that wrap a data key, audit head seq) of a database, read
    through a DB-API cursor (Django's or sqlite3's: no parameters)."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(str(app), []).append(str(name))
    cursor.execute("SELECT DISTINCT kek_version FROM crypto_person_key")
    versions = {int(v) for (v,) in cursor.fetchall()}
    cursor.execute("SELECT seq FROM audit_head WHERE id = 1")
    row = cursor.fetchone()
    return {app: tuple(names) for app, names in applied.items()}, versions, int(row[0]) if row else 0


def needed_keys(versions: set[int]) -> Keys:
    """The ids of the keys a database with data keys under ``versions`` needs (from the key ring now)."""
    held = held_keys()
    return Keys(held.index, {v: held.keks.get(v, "missing") for v in sorted(versions)})


def write(backup: Path, manifest: Manifest) -> Path:
    """The manifest beside the backup (0600)."""
    target = path_for(backup)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest.as_json(), fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    return target


def find(backup: Path, sha256: str) -> Manifest:
    """The backup's manifest: the file beside it, else the catalogue's line for this hash (backups whose
    manifest file was lost, or taken before manifests existed); :class:`RestoreRefused` R01 / R13."""
    beside = path_for(backup)
    if beside.is_file():
        try:
            data = json.loads(beside.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise RestoreRefused("R13") from None
        return parse(data)
    line = catalogue.done_line(sha256)
    if line is None:
        raise RestoreRefused("R01")
    recorded = line.get("manifest")
    if isinstance(recorded, Mapping):
        return parse(dict(recorded))
    return Manifest(sha256=str(line["sha256"]), size=int(str(line.get("bytes", -1))))
