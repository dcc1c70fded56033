"""Deletion deletes (issue 12 item 5; seed III 保管・消去 リスク３), through the command line, on SQLite and
PostgreSQL.

After `jutaku delete run` a scan of every table of the database finds nothing readable about the deleted
persons — no name, kana, address, birth date, filing (the 不開示希望 included), request, answer or
rejection row — but their 個人ID in the shell, the 削除記録 and the audit trail; on SQLite not even the
database file's bytes hold their names. The run states the day by which the last backup holding them
expires, and a restore from that backup erases them again. A later target extract that still lists them
as moved out does not bring their data back.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jutaku.domain.wareki import jst_date
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import DELETION_TARGETS, KIT, PROCEDURES, TARGETS
from jutaku.retention.catalogue import BACKUP_NAME
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import child_query, login_as, run_jutaku

SEED = 61
RETENTION_DAYS = 30
DOOMED = 6


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _tables(env: dict[str, str]) -> list[str]:
    if env.get("JUTAKU_DATABASE_URL"):
        return [r[0] for r in child_query(env, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return [r[0] for r in child_query(env, "SELECT name FROM sqlite_master WHERE type = 'table'")]


def _cells(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="ignore")
    return "" if value is None else str(value)


def scan_database(env: dict[str, str], secrets: set[str]) -> dict[str, set[str]]:
    """Every secret found anywhere in any table, by table."""
    found: dict[str, set[str]] = {}
    for table in _tables(env):
        for row in child_query(env, f'SELECT * FROM "{table}"'):
            text = "\x1f".join(_cells(v) for v in row)
            hits = {s for s in secrets if s in text}
            if hits:
                found.setdefault(table, set()).update(hits)
    return found


def _marks(ids: list[str]) -> str:
    assert all(i.isdigit() for i in ids)
    return ", ".join(f"'{i}'" for i in ids)  # digits only: safe to inline


def _cycle(env: dict[str, str], world: Path, tmp: Path) -> None:
    for step, name in (("targets", "targets.csv"), ("procedures", "procedures.csv")):
        run_jutaku(env, "import", step, str(world / name), "--no-progress", check=True)
    run_jutaku(env, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    run_jutaku(env, "linkage", "request", "--out", str(tmp / "req.csv"), "--no-progress", check=True)
    run_jutaku(env, "sim", "linkage-server", "--world", str(world), str(tmp / "req.csv.enc"), str(tmp / "ans.csv"),
               check=True)
    run_jutaku(env, "linkage", "import", str(tmp / "ans.csv"), "--no-progress", check=True)


def _inquire(env: dict[str, str], world: Path, tmp: Path) -> None:
    run_jutaku(env, "inquiry", "create", "--procedure", "JT99000000530001", "--year", "2026",
               "--out", str(tmp / "inq.csv"), "--no-progress", check=True)
    run_jutaku(env, "sim", "linkage-server", "--world", str(world), str(tmp / "inq.csv.enc"), str(tmp / "inq-ans.csv"),
               check=True)
    run_jutaku(env, "inquiry", "import", str(tmp / "inq-ans.csv"), "--no-progress", check=True)
    run_jutaku(env, "juki", "request", "--year", "2026", "--out", str(tmp / "juki.csv"), "--no-progress", check=True)
    run_jutaku(env, "sim", "juki", "--world", str(world), str(tmp / "juki.csv.enc"), str(tmp / "juki-ans.csv"),
               check=True)
    run_jutaku(env, "juki", "import", str(tmp / "juki-ans.csv"), "--no-progress", check=True)


def _choose(env: dict[str, str]) -> list[str]:
    """Numbered persons with an inquiry and a Juki-net query (so every kind of row exists for them)."""
    rows = child_query(env, "SELECT DISTINCT p.person_id FROM registry_person p "
                            "JOIN linkage_inquiryrequest r ON r.person_id = p.id "
                            "JOIN juki_jukiquery q ON q.person_id = p.id ORDER BY p.person_id")
    return [r[0] for r in rows][:DOOMED]


def _secrets(world: Path, doomed: list[str]) -> set[str]:
    """Names, kana and addresses of the doomed that no other person of the world shares."""
    targets = rows_of(world / "targets.csv")
    kept_text = "\x1f".join(v for t in targets if t["個人ID"] not in doomed for v in t.values())
    values = {t[c] for t in targets if t["個人ID"] in doomed for c in ("氏名", "氏名カナ", "住所")}
    return {v for v in values if v and v not in kept_text}


def _add_dv_wish_and_a_rejection(env: dict[str, str], world: Path, tmp: Path, person: str) -> None:
    """The first doomed person asks for 不開示 (DV) and sends a notification that is rejected (E03)."""
    write_csv(tmp / "dv.csv", PROCEDURES, [{"受付番号": "P209900000001", "手続コード": "JT99000000530001", "年度": "2026",
                                           "受付日": "20260601", "申請者個人ID": person, "対象者個人ID": person,
                                           "照会同意": "1", "不開示希望": "1"}])
    run_jutaku(env, "import", "procedures", str(tmp / "dv.csv"), "--no-progress", check=True)
    kit = next(r for r in rows_of(world / "kit.csv") if r["個人ID"] == person)
    write_csv(tmp / "kit-bad.csv", KIT, [{**kit, "受付番号": "K209900000001", "氏名カナ": "アイウエオ カキクケコ"}])
    run_jutaku(env, "register", "kit", str(tmp / "kit-bad.csv"), "--no-progress", check=True)


def _delete(env: dict[str, str], world: Path, tmp: Path, doomed: list[str]) -> str:
    moved = [{**t, "状態": "2", "状態日付": "20261101"} for t in rows_of(world / "targets.csv") if t["個人ID"] in doomed]
    write_csv(tmp / "moves.csv", TARGETS, moved)
    run_jutaku(env, "import", "targets", str(tmp / "moves.csv"), "--no-progress", check=True)
    write_csv(tmp / "list.csv", DELETION_TARGETS, [{"個人ID": p, "削除理由": "1"} for p in doomed])
    asked = run_jutaku(env, "delete", "request", str(tmp / "list.csv"), "--reason", "退去", check=True).stdout
    approval = asked.split("#", 1)[1].split(" ", 1)[0]
    run_jutaku(login_as(env, "supervisor"), "approvals", "approve", approval, check=True)
    return run_jutaku(env, "delete", "run", approval, "--no-progress", check=True).stdout


def _held(env: dict[str, str], doomed: list[str]) -> dict[str, int]:
    """Rows about the doomed, by kind (0 everywhere once they are deleted)."""
    marks = _marks(doomed)
    by_person = {name: f"SELECT count(*) FROM {table} t JOIN registry_person p ON p.id = t.person_id "
                       f"WHERE p.person_id IN ({marks})" for name, table in (
        ("numbers", "registry_mynumberrecord"), ("filings", "registry_filing"), ("history", "registry_statuschange"),
        ("integrated", "linkage_integratednumber"), ("linkage", "linkage_linkagerequest"),
        ("inquiries", "linkage_inquiryrequest"), ("answers", "linkage_inquiryresult"),
        ("juki", "juki_jukiquery"), ("juki_answers", "juki_jukiresult"),
        ("portal", "registry_portalapplication"), ("notices", "registry_statusnotice"))}
    counts = {name: int(child_query(env, sql)[0][0]) for name, sql in by_person.items()}
    counts["rejections"] = int(child_query(
        env, f"SELECT count(*) FROM registry_importrejection WHERE person_id IN ({marks})")[0][0])
    counts["keys"] = int(child_query(
        env, f"SELECT count(*) FROM crypto_person_key WHERE person_ref IN ({marks})")[0][0])
    counts["registers"] = int(child_query(
        env, f"SELECT count(*) FROM registry_person WHERE person_id IN ({marks}) AND (name <> '' OR "
             "birth_date IS NOT NULL OR address <> '' OR household_no <> '' OR non_disclosure)")[0][0])
    return counts


def test_after_delete_run_only_the_deletion_record_and_identifiers_remain(child_home: dict[str, str],
                                                                         tmp_path: Path) -> None:
    env = {**child_home, "JUTAKU_BACKUP_RETENTION_DAYS": str(RETENTION_DAYS)}
    world = tmp_path / "world"
    build_world(WorldSpec(persons=240, seed=SEED, kit_share=1.0, portal_share=0.0), world)
    _cycle(env, world, tmp_path)
    _inquire(env, world, tmp_path)
    doomed = _choose(env)
    assert len(doomed) == DOOMED
    _add_dv_wish_and_a_rejection(env, world, tmp_path, doomed[0])
    before = _held(env, doomed)
    assert all(before[k] > 0 for k in ("numbers", "filings", "integrated", "inquiries", "answers", "juki",
                                        "juki_answers", "rejections", "keys", "registers")), before
    secrets = _secrets(world, doomed)
    assert len(secrets) >= DOOMED and scan_database(env, secrets)
    requests = {r[0] for r in child_query(env, "SELECT r.request_no FROM linkage_inquiryrequest r JOIN registry_person p "
                                               f"ON p.id = r.person_id WHERE p.person_id IN ({_marks(doomed)})")}
    backed = run_jutaku(env, "backup", "--out", str(tmp_path / "backups"), check=True).stdout
    expires = (jst_date(datetime.now(UTC)) + timedelta(days=RETENTION_DAYS)).isoformat()
    assert f"保管期限: {expires}" in backed

    ran = _delete(env, world, tmp_path, doomed)
    assert f"最後のバックアップの保管期限は {expires}" in ran
    assert _held(env, doomed) == dict.fromkeys(before, 0)
    assert scan_database(env, secrets | requests) == {}
    if not env.get("JUTAKU_DATABASE_URL"):  # secure_delete and the WAL checkpoint: not even in the file's bytes
        raw = b"".join(p.read_bytes() for p in Path(env["JUTAKU_HOME"]).glob("jutaku.sqlite3*"))
        assert [s for s in secrets if s.encode() in raw] == []
    shells = child_query(env, "SELECT person_id, kind, housing_category, status, deleted_at FROM registry_person "
                              f"WHERE person_id IN ({_marks(doomed)})")
    assert len(shells) == DOOMED and all(s[3] == "2" and s[4] is not None for s in shells)
    recorded = child_query(env, "SELECT person_ref, backup_expires_on FROM retention_deletionrecord")
    assert {r[0] for r in recorded} == set(doomed) and {str(r[1])[:10] for r in recorded} == {expires}

    # Their disclosure report says what is left and until when a backup holds the rest — and nothing else.
    asked = run_jutaku(env, "requests", "record", "--person", doomed[0], "--kind", "disclosure",
                       "--received", "2026-12-01", check=True).stdout
    number = asked.split("#", 1)[1].split("（", 1)[0]
    run_jutaku(env, "requests", "disclose", number, "--out", str(tmp_path / "disclosure.html"), "--plain", check=True)
    html = (tmp_path / "disclosure.html").read_text(encoding="utf-8")
    assert "削除後に保有している情報" in html and f"{expires} までに保管期限切れで削除されます" in html
    assert [s for s in secrets | requests if s in html] == []

    # The housing system's next full extract still lists them as moved out: nothing comes back.
    write_csv(tmp_path / "next.csv", TARGETS, [{**t, "状態": "2", "状態日付": "20261101"} if t["個人ID"] in doomed else t
                                               for t in rows_of(world / "targets.csv")])
    again = run_jutaku(env, "import", "targets", str(tmp_path / "next.csv"), "--no-progress", check=True).stdout
    assert re.search(rf"^I02 +{DOOMED} +削除済み", again, re.M) and _held(env, doomed)["registers"] == 0
    # A restore from the backup taken before the deletion erases them again.
    taken = next(p for p in (tmp_path / "backups").iterdir() if BACKUP_NAME.match(p.name))
    restored = run_jutaku(env, "restore", str(taken), "--yes", check=True).stdout
    assert f"削除の再適用 {DOOMED} 人" in restored
    assert _held(env, doomed) == dict.fromkeys(before, 0) and scan_database(env, secrets | requests) == {}
    assert run_jutaku(env, "audit", "verify", check=True).returncode == 0
