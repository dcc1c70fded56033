"""The corrected allow-list ships as a new packaged version (issue 12 item 7), on SQLite and PostgreSQL.

`jutaku init` on a new home and on an existing home (the upgrade path: init again) both end with the
corrected version active, through the normal versioned load (a new version row, audited with its SHA-256);
the first packaged file is kept as it was (history). A list the operator loaded is never replaced.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from jutaku.formats.allowlist import parse_allowlist
from tests.conftest import child_query, run_jutaku

FIRST = resources.files("jutaku.data").joinpath("allowlist.csv").read_bytes()
CORRECTED = resources.files("jutaku.data").joinpath("allowlist-v2.csv").read_bytes()


def sha(data: bytes) -> str:
    return parse_allowlist(data).sha256


def active(env: dict[str, str]) -> list[tuple[str, str]]:
    return [(str(s), str(n)) for s, n in child_query(
        env, "SELECT sha256, file_name FROM allowlist_allowlistversion WHERE active ORDER BY id")]


def loads_audited(env: dict[str, str]) -> list[str]:
    return [str(d) for (d,) in child_query(env, "SELECT detail FROM audit_record WHERE event = 'allowlist:load' "
                                                "ORDER BY seq")]


def child_execute(env: dict[str, str], *statements: str) -> None:
    """Write to a child home's database directly (to make it look like a home of an earlier release)."""
    url = env.get("JUTAKU_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)  # type: ignore[arg-type]
        return
    conn = sqlite3.connect(Path(env["JUTAKU_HOME"]) / "jutaku.sqlite3", timeout=30)
    try:
        for sql in statements:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def test_the_first_packaged_file_is_kept_as_shipped() -> None:
    assert sha(FIRST) != sha(CORRECTED)
    first = {(r.housing_category, r.procedure_code, r.info_code): r.requires_consent for r in parse_allowlist(FIRST).rules}
    assert first[("1", "JT99000000530004", "TM99000000000002")] is True  # the first version as shipped (history)


def test_init_on_a_new_home_activates_the_corrected_list(child_env: dict[str, str]) -> None:
    out = run_jutaku(child_env, "init", check=True).stdout
    assert sha(CORRECTED) in out
    assert active(child_env) == [(sha(CORRECTED), "allowlist-v2.csv (packaged)")]
    assert any(sha(CORRECTED) in d for d in loads_audited(child_env))
    run_jutaku(child_env, "init", check=True)  # again: nothing changes
    assert len(child_query(child_env, "SELECT id FROM allowlist_allowlistversion")) == 1


def test_init_on_an_existing_home_upgrades_the_first_packaged_list(child_home: dict[str, str],
                                                                    tmp_path: Path) -> None:
    # A home of the earlier release: only the first packaged list was ever loaded, and it is active.
    first = tmp_path / "allowlist.csv"
    first.write_bytes(FIRST)
    run_jutaku(child_home, "allowlist", "load", str(first), check=True)
    (newest,) = child_query(child_home, f"SELECT id FROM allowlist_allowlistversion WHERE sha256 = '{sha(CORRECTED)}'")
    child_execute(child_home, f"DELETE FROM allowlist_allowrule WHERE version_id = {int(newest[0])}",
                  f"DELETE FROM allowlist_allowlistversion WHERE id = {int(newest[0])}")
    assert [s for s, _ in active(child_home)] == [sha(FIRST)]

    out = run_jutaku(child_home, "init", check=True).stdout
    assert sha(CORRECTED) in out
    assert [s for s, _ in active(child_home)] == [sha(CORRECTED)]
    assert sha(CORRECTED) in loads_audited(child_home)[-1]
    shown = run_jutaku(child_home, "allowlist", "show", "--procedure", "JT99000000530004", check=True).stdout
    lines = [line for line in shown.splitlines() if "TM99000000000002" in line]
    assert lines and all(line.split()[5] == "不要" for line in lines)  # 住宅区分 手続 コード 情報 コード 同意
    versions = len(child_query(child_home, "SELECT id FROM allowlist_allowlistversion"))
    run_jutaku(child_home, "init", check=True)  # idempotent
    assert len(child_query(child_home, "SELECT id FROM allowlist_allowlistversion")) == versions


def test_init_leaves_a_list_the_operator_loaded(child_home: dict[str, str], tmp_path: Path) -> None:
    lines = FIRST.decode("utf-8-sig").splitlines()
    own = tmp_path / "reviewed.csv"
    own.write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    run_jutaku(child_home, "allowlist", "load", str(own), "--note", "審査済みの実リスト", check=True)
    run_jutaku(child_home, "init", check=True)
    assert active(child_home) == [(sha(own.read_bytes()), "reviewed.csv")]
