"""After a full run, the database at rest holds no My Number in plain text (CRY-01, issue 2).

A child ``jutaku`` imports a synthetic world and registers its kit and portal numbers; then a logical
dump of the database (``pg_dump``, or SQLite's ``iterdump``) and every file the home wrote (rejection
lists, manifests) are scanned: no valid 12-digit number in any written form (plain, hyphenated,
full-width in UTF-8 or CP932) — the world's 12-digit 受付番号 never pass the check digit (ADR 0020) — and
none of the world's true numbers at all; on SQLite the raw database and WAL files are also searched for every
true number.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from jutaku.domain import leakscan
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import run_jutaku

pytestmark = pytest.mark.subprocess


def database_dump(env: dict[str, str]) -> bytes:
    """A logical dump, where every value is delimited (pg_dump, or SQLite's iterdump)."""
    url = env.get("JUTAKU_DATABASE_URL")
    if url:
        return subprocess.run(["pg_dump", "--no-owner", url], capture_output=True, check=True, timeout=300).stdout
    conn = sqlite3.connect(f"file:{Path(env['JUTAKU_HOME']) / 'jutaku.sqlite3'}?mode=ro", uri=True)
    try:
        return "\n".join(conn.iterdump()).encode("utf-8")
    finally:
        conn.close()


def raw_database_files(env: dict[str, str]) -> bytes:
    """The SQLite files as they lie on disk (database and WAL), free pages included."""
    return b"".join(p.read_bytes() for p in sorted(Path(env["JUTAKU_HOME"]).glob("jutaku.sqlite3*")))


def test_no_plaintext_my_number_in_the_database_or_the_home(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=2000, seed=21), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    kit = run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "register", "portal", str(world / "portal.zip"), "--no-progress", check=True)
    assert re.search(r"^OK +[\d,]+ ", kit.stdout, re.M)

    with (world / "truth" / "juki.csv").open(encoding="utf-8", newline="") as fh:
        truth = [row["個人番号"] for row in csv.DictReader(fh)]
    assert len(truth) >= 2000

    dump = database_dump(child_home)
    assert b"registry_mynumberrecord" in dump  # the scan looked at real content
    assert list(leakscan.scan(dump)) == []
    assert leakscan.contains_any(dump, truth) == set()
    if "JUTAKU_DATABASE_URL" not in child_home:
        # Raw pages store a row's values back to back, so a generic scan would see digits of adjacent
        # columns run together; the world's true numbers, in every form and every window, must be absent.
        assert leakscan.contains_any(raw_database_files(child_home), truth) == set()

    home_files = [p for p in Path(child_home["JUTAKU_HOME"]).rglob("*")
                  if p.is_file() and not p.name.startswith("jutaku.sqlite3") and "keys" not in p.parts]
    assert any(p.name.startswith("rejections-") for p in home_files)
    for path in home_files:
        data = path.read_bytes()
        assert list(leakscan.scan(data)) == [], path.name
        assert leakscan.contains_any(data, truth) == set(), path.name
