"""Crashes that recover (issue 13 items 5–7), driving the real ``jutaku`` command in a child process.

- a kit or portal row with full-width digits in its 個人ID is ``E00``, never an internal error (item 5);
- an internal error in the middle of a job says which chunks and rows were committed and how the same
  command resumes — never that everything was rolled back (item 5);
- ``delete run`` SIGKILLed after its chunks, in its finishing steps or with a torn tombstone ledger is
  completed by the same command: report, ledger and approval state (item 6);
- ``register kit`` SIGKILLed after the job completed writes its rejection list on the rerun, from the
  database; a list written once, or removed by the output retention since, is not written again (item 7).

SQLite and PostgreSQL (the tiers run the same tests with and without ``JUTAKU_DATABASE_URL``).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import DELETION_TARGETS, KIT, TARGETS
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import OPERATOR_ROLES, ROOT, child_query, fresh_child_env, login_as, run_jutaku

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]
SUPPORT = ROOT / "tests" / "functional" / "crash_support.py"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def crashing(env: dict[str, str], *specs: str, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``jutaku ARGS`` with the crash points ``specs`` (tests/functional/crash_support.py)."""
    return subprocess.run([sys.executable, str(SUPPORT), *specs, "--", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(WorldSpec(persons=300, seed=1313), out)
    return out


# --- item 5: full-width 個人ID, and what an internal error says ------------------------------------

def test_a_full_width_person_id_is_a_malformed_row_not_a_crash(child_home: dict[str, str], world: Path,
                                                                tmp_path: Path) -> None:
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    rows = rows_of(world / "kit.csv")
    pid = rows[150]["個人ID"]
    rows[150] = {**rows[150], "個人ID": pid[:4].translate(FULL_WIDTH) + pid[4:]}  # ２０００000105
    write_csv(tmp_path / "kit.csv", KIT, rows, strict=False)

    # Small chunks: the row sits in the fourth; the three before it were committed when the batch crashed.
    done = run_jutaku(child_home, "register", "kit", str(tmp_path / "kit.csv"), "--no-progress",
                      "--chunk-size", "50", "--rejections", str(tmp_path / "rejections.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "内部エラー" not in done.stderr
    line = next(r for r in rows_of(tmp_path / "rejections.csv") if r["行番号"] == "152")
    assert line["結果コード"] == "E00" and line["個人ID"] == ""  # a malformed 個人ID is not echoed
    [(state, cursor)] = child_query(child_home, "SELECT state, cursor FROM jobs_job WHERE kind = 'register-kit'")
    assert (state, cursor) == ("completed", len(rows))


def test_a_full_width_person_id_in_a_portal_application_is_a_malformed_row(child_home: dict[str, str],
                                                                           world: Path, tmp_path: Path) -> None:
    import zipfile

    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    with zipfile.ZipFile(world / "portal.zip") as src, zipfile.ZipFile(tmp_path / "portal.zip", "w") as out:
        names = sorted(n for n in src.namelist() if n.endswith(".xml"))
        for name in names:
            data = src.read(name).decode("utf-8")
            if name == names[3]:
                head, _, rest = data.partition("<個人ID>")
                data = head + "<個人ID>" + rest[:4].translate(FULL_WIDTH) + rest[4:]
            out.writestr(name, data.encode("utf-8"))
    done = run_jutaku(child_home, "register", "portal", str(tmp_path / "portal.zip"), "--no-progress",
                      "--rejections", str(tmp_path / "rejections.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["結果コード"] for r in rows_of(tmp_path / "rejections.csv") if r["受付番号"] == names[3][:-4]] == ["E00"]


def test_an_internal_error_mid_job_says_what_was_committed_and_how_to_resume(child_home: dict[str, str],
                                                                            world: Path) -> None:
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    args = ["register", "kit", str(world / "kit.csv"), "--no-progress", "--chunk-size", "50"]
    total = len(rows_of(world / "kit.csv"))
    # The third chunk's audit write fails: two chunks (100 rows) are committed, the third rolled back.
    failed = crashing(child_home, "fail-on=jutaku.registry.registration:record_many:3", args=args)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    [(job_id, state, cursor, chunks)] = child_query(
        child_home, "SELECT id, state, cursor, chunks FROM jobs_job WHERE kind = 'register-kit'")
    assert (state, cursor, chunks) == ("failed", 100, 2)
    message = failed.stderr
    assert "変更は取り消されました" not in message  # the old, false claim
    assert f"ジョブ #{job_id}（register-kit）は 100 / {total} 件（2 単位）を確定済みです" in message
    assert "101 件目から再開します" in message and "incident" in message
    assert int(child_query(child_home, "SELECT COUNT(*) FROM registry_mynumberrecord")[0][0]) > 0  # kept

    resumed = run_jutaku(child_home, *args, check=True)
    assert f"job {job_id}:" in resumed.stdout
    assert child_query(child_home, f"SELECT state, cursor FROM jobs_job WHERE id = {job_id}") == [("completed", total)]
    assert run_jutaku(child_home, "audit", "verify").returncode == 0


def test_an_error_before_any_job_does_not_claim_a_job(child_home: dict[str, str], world: Path) -> None:
    failed = crashing(child_home, "fail-on=jutaku.registry.importing:run_job:1",
                      args=["import", "targets", str(world / "targets.csv"), "--no-progress"])
    assert failed.returncode == 1
    assert "この処理ではジョブは実行されていません" in failed.stderr


# --- item 6: delete run killed anywhere after its chunks ---------------------------------------------

@pytest.fixture(scope="module")
def deletion_home(tmp_path_factory: pytest.TempPathFactory, world: Path) -> Iterator[dict[str, str]]:
    """One home with the world registered; each case deletes its own ten persons under its own approval."""
    with fresh_child_env(tmp_path_factory.mktemp("deletion") / "home") as env:
        run_jutaku(env, "init", check=True)
        env = login_as(env, *OPERATOR_ROLES, username="op.multi")
        run_jutaku(env, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
        run_jutaku(env, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
        env["CRASH_TEST_APPROVER"] = json.dumps(login_as(env, "supervisor", username="sv.second"))
        yield env


def _approved_deletion(env: dict[str, str], world: Path, tmp: Path, case: int) -> tuple[str, set[str]]:
    holders = {r[0] for r in child_query(env, "SELECT p.person_id FROM registry_mynumberrecord m "
                                              "JOIN registry_person p ON p.id = m.person_id WHERE p.status = '1'")}
    doomed = sorted(holders)[case * 10:case * 10 + 10]
    moved = [{**t, "状態": "2", "状態日付": "20261101"} for t in rows_of(world / "targets.csv") if t["個人ID"] in doomed]
    write_csv(tmp / "moves.csv", TARGETS, moved)
    run_jutaku(env, "import", "targets", str(tmp / "moves.csv"), "--no-progress", check=True)
    write_csv(tmp / "list.csv", DELETION_TARGETS, [{"個人ID": p, "削除理由": "1"} for p in doomed])
    asked = run_jutaku(env, "delete", "request", str(tmp / "list.csv"), "--reason", "退去", check=True).stdout
    approval = asked.split("#", 1)[1].split(" ", 1)[0]
    run_jutaku(json.loads(env["CRASH_TEST_APPROVER"]), "approvals", "approve", approval, check=True)
    return approval, set(doomed)


def _tear(ledger: Path, keep: int) -> None:
    """What a kill in the middle of an append leaves: some lines, then half of one."""
    lines = ledger.read_bytes().splitlines(keepends=True)
    ledger.write_bytes(b"".join(lines[:keep]) + lines[keep][: len(lines[keep]) // 2])


KILL_POINTS = {
    "after-the-chunks": "kill-after=jutaku.retention.deletion:run_job",
    "after-the-ledger-sync-torn": "kill-after=jutaku.retention.backup:sync_ledger",
    "after-the-approval-was-marked-executed": "kill-after=jutaku.accounts.approvals:mark_executed",
    "after-the-report-was-written": "kill-after=jutaku.retention.deletion:write_report",
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_delete_run_killed_after_its_chunks_is_completed_by_the_same_command(
        deletion_home: dict[str, str], world: Path, tmp_path: Path, point: str) -> None:
    env = deletion_home
    approval, doomed = _approved_deletion(env, world, tmp_path, list(KILL_POINTS).index(point))
    report = Path(env["JUTAKU_HOME"]) / "output" / f"deletion-report-{approval}.csv"
    ledger = Path(env["JUTAKU_HOME"]) / "ledger" / "deletions.jsonl"
    killed = crashing(env, KILL_POINTS[point], args=["delete", "run", approval, "--no-progress"])
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert child_query(env, f"SELECT COUNT(*) FROM retention_deletionrecord WHERE approval_id = {approval}") == [(10,)]
    if point.endswith("torn"):
        before = [line for line in ledger.read_text(encoding="utf-8").splitlines()
                  if json.loads(line)["approval_id"] != int(approval)]
        _tear(ledger, len(before) + 3)

    again = run_jutaku(env, "delete", "run", approval, "--no-progress")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "削除は前回の実行で済んでいました" in again.stdout
    assert {r["個人ID"] for r in rows_of(report)} == doomed
    assert child_query(env, f"SELECT state FROM accounts_approval WHERE id = {approval}") == [("executed",)]
    text = ledger.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]  # every line whole
    mine = [t["person_ref"] for t in lines if t["approval_id"] == int(approval)]
    assert sorted(mine) == sorted(doomed)  # each person once
    refs = {r[0] for r in child_query(env, "SELECT person_ref FROM retention_deletionrecord")}
    assert {t["person_ref"] for t in lines} == refs
    once = run_jutaku(env, "delete", "run", approval, "--no-progress")
    assert once.returncode == 2 and "承認済みではありません" in once.stderr  # done: not run twice
    assert run_jutaku(env, "audit", "verify").returncode == 0


# --- item 7: register kit killed after the job completed -------------------------------------------

def test_register_kit_killed_after_completion_writes_its_rejection_list_on_the_rerun(
        child_home: dict[str, str], world: Path, tmp_path: Path) -> None:
    env = child_home
    run_jutaku(env, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    args = ["register", "kit", str(world / "kit.csv"), "--no-progress"]
    killed = crashing(env, "kill-after=jutaku.registry.registration:register_numbers", args=args)
    assert killed.returncode == -9
    [(job_id, state)] = child_query(env, "SELECT id, state FROM jobs_job WHERE kind = 'register-kit'")
    path = Path(env["JUTAKU_HOME"]) / "output" / f"rejections-register-kit-{job_id}.csv"
    assert state == "completed" and not path.exists()

    again = run_jutaku(env, *args, check=True).stdout
    assert "このファイルは登録済みです" in again
    assert f"差戻リスト: {path} (" in again and "前回の実行で作成されていなかったため、記録から作成しました" in again
    expected = child_query(env, f"SELECT line_no, person_id, code FROM registry_importrejection WHERE job_id = {job_id}")
    assert sorted((int(r["行番号"]), r["個人ID"], r["結果コード"]) for r in rows_of(path)) == sorted(expected)
    assert len(expected) > 0

    written = "SELECT COUNT(*) FROM exchange_medialedgerentry WHERE direction = 'write' AND interface = 'rejections'"
    assert child_query(env, written) == [(1,)]
    third = run_jutaku(env, *args, check=True).stdout
    assert "作成済み" in third and "記録から作成しました" not in third
    assert child_query(env, written) == [(1,)]  # written once

    [(output_id,)] = child_query(env, "SELECT id FROM exchange_outputfile WHERE interface = 'rejections' "
                                      "AND name NOT LIKE '%.manifest.json'")
    run_jutaku(env, "outputs", "purge", "--file", str(output_id), check=True)  # removed on purpose
    fourth = run_jutaku(env, *args, check=True).stdout
    assert "期限前に削除" in fourth and "再作成はしません" in fourth
    assert not path.exists() and child_query(env, written) == [(1,)]
