"""A new installation, from an empty home to an approved business export, with only the documented commands
(issue 14 item 1, ADR 0015), on SQLite and PostgreSQL.

The command blocks of docs/runbooks/first-install.md marked ``<!-- tested: ... -->`` are read from the runbook
and run one by one, in a child process each, so the runbook and this test cannot drift apart. The test types
what a person would (:class:`tests.functional.operator_support.Operator`): the initial password of each new
account, then at sign-in that password and the current code of the authenticator app enrolled from the QR code
``init`` / ``users create`` printed, and at the first sign-in of an account the administrator created, the
user's own new password. Only the example end dates (``--end``) are replaced by a date a year from now, so the
runbook stays valid.

Then: the installation window lets exactly one grant through (the second security administrator), is
closed and audited, and a restore of a backup taken while it was open does not reopen it.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jutaku.domain import leakscan
from jutaku.retention.catalogue import BACKUP_NAME
from tests.conftest import ROOT, child_query, login_as, run_jutaku
from tests.functional.operator_support import Operator

pytestmark = pytest.mark.subprocess
RUNBOOK = ROOT / "docs" / "runbooks" / "first-install.md"
TESTED_BLOCK = re.compile(r"<!-- tested:[^>]*-->\n```sh\n(.*?)```", re.S)
A_YEAR_FROM_NOW = (datetime.now(ZoneInfo("Asia/Tokyo")) + timedelta(days=365)).date().isoformat()


def runbook_commands() -> list[list[str]]:
    """Every command line of the tested blocks, in the runbook's order."""
    blocks = TESTED_BLOCK.findall(RUNBOOK.read_text(encoding="utf-8"))
    assert len(blocks) == 3, "sections 3, 4 and 4a of the first-install runbook are tested"
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def _with_future_end(args: list[str]) -> list[str]:
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg == "--end":
            out[i + 1] = A_YEAR_FROM_NOW
    return out


@pytest.fixture
def operator(child_env: dict[str, str], tmp_path: Path) -> Operator:
    home = tmp_path / "operator"
    home.mkdir(mode=0o700)
    work = tmp_path / "work"
    work.mkdir()
    return Operator({**child_env, "HOME": str(home)}, work)


def test_the_runbook_takes_an_empty_home_to_an_approved_export(operator: Operator) -> None:
    for line in runbook_commands():
        operator.run(_with_future_end(line))

    second = operator.output_of("jutaku users create kato.r")
    assert "設置期間中の付与" in second and "設置期間を終了しました" in second
    status = operator.output_of("jutaku install status")
    assert "設置期間: 終了" in status and "2人目のセキュリティ管理者の付与" in status
    assert "承認依頼 #1" in operator.output_of("jutaku users create takahashi.y")
    assert "承認依頼 #2" in operator.output_of("jutaku export business request")
    out = operator.cwd / "rehearsal" / "out"
    written = [p for p in (out / "business.csv", out / "business.csv.enc") if p.exists()]
    assert len(written) == 1 and written[0].stat().st_size > 0
    juki_truth = (operator.cwd / "rehearsal" / "world" / "truth" / "juki.csv").read_text(encoding="utf-8-sig")
    numbers = [line.split(",")[1] for line in juki_truth.splitlines()[1:]]
    assert len(numbers) > 500 and not leakscan.contains_any(written[0].read_bytes(), numbers)
    # `audit verify` exited 0 both times: the chain is intact, the window's records included.

    env = operator.env
    events = [e for (e,) in child_query(env, "SELECT event FROM audit_record WHERE event LIKE 'install:%' ORDER BY seq")]
    assert events == ["install:open", "install:grant", "install:grant", "install:close"]
    grants = child_query(env, "SELECT u.username, g.role, g.granted_by FROM accounts_role_grant g "
                              "JOIN accounts_user u ON u.id = g.user_id ORDER BY u.username")
    assert ("takahashi.y", "supervisor", "sato.k") in grants  # granted as sato.k asked, once kato.r approved
    [(decided,)] = child_query(env, "SELECT decided_by FROM accounts_approval WHERE id = 1")
    assert decided == "kato.r"
    [(export_decided,)] = child_query(env, "SELECT decided_by FROM accounts_approval WHERE id = 2")
    assert export_decided == "takahashi.y"


def test_a_restore_of_a_backup_from_inside_the_window_does_not_reopen_it(operator: Operator, tmp_path: Path) -> None:
    end = A_YEAR_FROM_NOW
    second = ["jutaku", "users", "create", "kato.r", "--full-name", "加藤 涼子", "--staff-id", "B1002", "--org",
              "bureau", "--role", "security_admin", "--end", end]
    operator.run(["jutaku", "init", "--admin", "sato.k", "--full-name", "佐藤 健", "--staff-id", "B1001"])
    vendor = login_as(operator.env, "operations", username="watanabe.o")
    run_jutaku(vendor, "backup", "--out", str(tmp_path / "backups"), check=True)  # the window is open here
    operator.run(["jutaku", "login", "--user", "sato.k"])
    assert "設置期間を終了しました" in operator.run(second)

    backup = next(p for p in (tmp_path / "backups").iterdir() if BACKUP_NAME.match(p.name))
    run_jutaku(vendor, "restore", str(backup), "--yes", check=True)
    [(closed_at, admins)] = child_query(operator.env, "SELECT closed_at, (SELECT count(*) FROM accounts_role_grant "
                                                      "WHERE role = 'security_admin') FROM accounts_installation")
    assert closed_at is None and admins == 1  # what the backup holds: the window open, one administrator
    operator.run(["jutaku", "login", "--user", "sato.k"])  # the restored database predates that session
    status = operator.run(["jutaku", "install", "status"])
    assert "設置期間: 終了" in status and "閉鎖台帳" in status
    again = operator.run(second)
    assert "二者承認待ち" in again and "設置期間中の付与" not in again
