"""The command line's terminal, step-up and session binding (issue 13 items 10–12, ADR 0018; NET-01, AUTH-07,
AUTH-09), driven through the `jutaku` command in child processes on SQLite and PostgreSQL.

- Item 10: the terminal comes from the login record of the command's own login session (root-written, found
  through the kernel's process tree), never from ``$SSH_CONNECTION``/``$SSH_CLIENT``: unsetting or forging
  them changes nothing, and a user cannot write login records the CLI believes.
- Item 11: role changes, number changes, approvals (bulk deletion included), deletion runs and status
  corrections need a fresh re-authentication on the CLI as on the web.
- Item 12: a session token copied into another account's home (another uid, for real), or into another login
  session, is refused, the session revoked and the refusal audited.

The child processes run on the terminal their environment's ``JUTAKU_TEST_UTMP`` records (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jutaku.accounts.network import UNKNOWN
from tests.conftest import (
    JUTAKU,
    ROOT,
    TEST_PASSWORD,
    child_query,
    login_as,
    next_code,
    run_jutaku,
    step_up,
    terminal_env,
    utmp_file,
)

pytestmark = pytest.mark.subprocess
NOBODY = 65534
DENIED = "登録された端末ではありません"


def denials(env: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    rows = child_query(env, "SELECT terminal, detail FROM audit_record WHERE event = 'access:denied' "
                            "AND outcome = 'terminal' ORDER BY seq")
    return [(terminal, json.loads(detail)) for terminal, detail in rows]


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[int]:
    """The pid of a process that is no ancestor of any child `jutaku` (a login session they are not in)."""
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        yield sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()


def real_second_uid() -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("running a command as another uid needs root and setpriv")


def run_as(uid: int, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`jutaku` under another real uid (and gid), keeping only the right to read and write the root-owned
    test home (a production home is the service account's; here every file is root's)."""
    caps = "+dac_override,+dac_read_search"
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", f"--inh-caps={caps}",
                           f"--ambient-caps={caps}", *JUTAKU, *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def home_of(uid: int, where: Path) -> Path:
    where.mkdir(mode=0o700)
    os.chown(where, uid, uid)
    return where


# ------------------------------------------------------------------------------------------------- item 10

def test_unsetting_ssh_connection_does_not_turn_a_remote_shell_into_the_console(child_home: dict[str, str]) -> None:
    """The attack of item 10: a shell from an unregistered terminal unsets SSH_CONNECTION (or names the console
    in it); on main either made the session 127.0.0.1 and let it in."""
    remote = terminal_env(child_home, "10.9.9.9")
    console = {"SSH_CONNECTION": "127.0.0.1 40000 127.0.0.1 22", "SSH_CLIENT": "127.0.0.1 40000 22"}
    for forged in ({}, console):
        proc = run_jutaku({**remote, **forged}, "jobs", "list")
        assert proc.returncode == 3 and DENIED in proc.stderr and "(10.9.9.9)" in proc.stderr
    assert [(t, d["why"]) for t, d in denials(child_home)] == [("10.9.9.9", "ssh")] * 2
    login = run_jutaku({**remote, **console}, "login", "--user", "op.multi", input=f"{TEST_PASSWORD}\n{next_code(child_home)}\n")
    assert login.returncode == 3 and DENIED in login.stderr


def test_ssh_variables_change_nothing_on_the_console(child_home: dict[str, str]) -> None:
    forged = {**child_home, "SSH_CONNECTION": "10.9.9.9 40000 10.0.0.1 22", "SSH_CLIENT": "10.9.9.9 40000 22"}
    assert run_jutaku(forged, "jobs", "list").returncode == 0
    assert denials(child_home) == []


def test_a_registered_remote_terminal_is_its_login_records_peer(child_home: dict[str, str]) -> None:
    admin = login_as(child_home, "security_admin")
    run_jutaku(admin, "terminals", "add", "kanri-01", "10.1.2.31", check=True)
    clerk = login_as(terminal_env(child_home, "10.1.2.31"), "registrar", username="yamada.t")
    assert run_jutaku(clerk, "jobs", "list").returncode == 0
    [(terminal, detail)] = child_query(child_home, "SELECT terminal, detail FROM audit_record "
                                                   "WHERE event = 'auth:login' AND username = 'yamada.t'")
    assert terminal == "10.1.2.31" and json.loads(detail)["login"].startswith("pts/7:")


def test_outside_a_login_session_or_through_this_machine_there_is_no_terminal(
        child_home: dict[str, str], tmp_path: Path, elsewhere: int) -> None:
    cases = {
        "no_login_session": utmp_file(tmp_path, pid=elsewhere),  # tmux, cron, setsid: no login is an ancestor
        "from_this_machine": utmp_file(tmp_path, line="pts/8", address="127.0.0.1"),  # ssh -L, socat relays
        "local_pseudo_terminal": utmp_file(tmp_path, line="pts/9"),  # an xterm on the server (utempter)
        "no_login_records": tmp_path / "no-such-utmp",
    }
    for why, utmp in cases.items():
        proc = run_jutaku({**child_home, "JUTAKU_TEST_UTMP": str(utmp)}, "jobs", "list")
        assert proc.returncode == 3 and DENIED in proc.stderr and "(0.0.0.0)" in proc.stderr, why
    assert [(t, d["why"]) for t, d in denials(child_home)] == [(UNKNOWN, why) for why in cases]


def test_a_user_cannot_write_login_records_the_cli_believes(child_home: dict[str, str], tmp_path: Path) -> None:
    """Even in test mode, the only mode that reads another utmp file, a file the user wrote is not believed:
    the records must be root's, as /var/run/utmp is."""
    real_second_uid()
    forged = utmp_file(tmp_path)  # a console login for the test process, an ancestor of the command
    os.chown(forged, NOBODY, NOBODY)
    user_home = home_of(NOBODY, tmp_path / "nobody")
    proc = run_as(NOBODY, {**child_home, "HOME": str(user_home), "JUTAKU_TEST_UTMP": str(forged)}, "jobs", "list")
    assert proc.returncode == 3 and DENIED in proc.stderr
    assert [(t, d["why"]) for t, d in denials(child_home)] == [(UNKNOWN, "no_login_records")]


def test_the_services_run_outside_a_login_session_but_not_from_an_unregistered_shell(
        child_home: dict[str, str], tmp_path: Path, elsewhere: int) -> None:
    """`jutaku worker` / `serve` under systemd belong to no login session; started from a shell, the shell's
    terminal must be registered like for any command."""
    system = {**child_home, "JUTAKU_TEST_UTMP": str(utmp_file(tmp_path, pid=elsewhere))}
    assert run_jutaku(system, "worker", "--once", timeout=120).returncode == 0
    assert run_jutaku(terminal_env(child_home, "10.9.9.9"), "worker", "--once", timeout=120).returncode == 3


def test_demo_mode_does_not_relax_the_terminal_of_a_home_that_is_no_demo_home(child_home: dict[str, str]) -> None:
    outside = {**child_home, "JUTAKU_MODE": "demo"}  # JUTAKU_TEST_UTMP is read in test mode only
    proc = run_jutaku(outside, "jobs", "list")
    assert proc.returncode == 3 and DENIED in proc.stderr


def test_in_a_demo_home_a_desktop_terminal_is_the_console(child_env: dict[str, str]) -> None:
    from jutaku.accounts import cliterminal, osfacts

    if not cliterminal.identify(osfacts.current()).outside_login:
        pytest.skip("this test run is itself inside a login session the system recorded")
    demo = {**child_env, "JUTAKU_MODE": "demo"}
    run_jutaku(demo, "init", check=True)
    proc = run_jutaku(demo, "jobs", "list")
    assert proc.returncode == 3 and "ログインしてください" in proc.stderr and DENIED not in proc.stderr


# ------------------------------------------------------------------------------------------------- item 11

STEP_UP_COMMANDS = [
    ("approvals", "approve", "999"),
    ("approvals", "reject", "999"),
    ("users", "roles", "nobody.x", "--role", "registrar", "--reason", "異動"),
    ("numbers", "change", "1000000001", "--reason", "変更届"),
    ("delete", "run", "999", "--no-progress"),
    ("persons", "correct-status", "1000000001", "--status", "1", "--reason", "住基ネットの誤り"),
]


def test_every_step_up_command_refuses_the_original_sign_in_until_a_step_up(child_home: dict[str, str]) -> None:
    """The attack of item 11: on main these ran with the sign-in alone. Now each asks for the password and a
    new code (the web's rule) and, without an answer, stops before doing anything (exit 3)."""
    boss = login_as(child_home, "security_admin", "supervisor", "registrar", username="boss.t", step_up=False)
    for args in STEP_UP_COMMANDS:
        proc = run_jutaku(boss, *args)
        assert proc.returncode == 3 and "再認証が必要です" in proc.stderr, args
    step_up(boss)
    for args in STEP_UP_COMMANDS:  # fresh now: each command runs, and refuses the unknown id or person itself
        proc = run_jutaku(boss, *args)
        assert proc.returncode == 2 and "再認証" not in proc.stderr, (args, proc.stderr)
    events = child_query(child_home, "SELECT event, outcome FROM audit_record WHERE username = 'boss.t' "
                                     "AND event LIKE 'auth:%' ORDER BY seq")
    assert events == [("auth:login", "ok"), ("auth:step_up", "ok")]  # no answer is no wrong guess


def test_an_approval_asks_for_the_step_up_inline_and_the_step_up_is_audited(child_home: dict[str, str],
                                                                           tmp_path: Path) -> None:
    first = login_as(child_home, "security_admin", username="sato.k")
    second = login_as(child_home, "security_admin", username="kato.r", step_up=False)
    created = run_jutaku(first, "users", "create", "tanaka.h", "--full-name", "田中 花", "--staff-id", "B2001",
                         "--org", "bureau", "--role", "supervisor", "--end", "2099-03-31", "--reason", "配属",
                         input="another synthetic passphrase\n", check=True)
    approval = re.search(r"承認依頼 #(\d+)", created.stdout).group(1)  # type: ignore[union-attr]

    def pending() -> bool:
        return child_query(child_home, f"SELECT state FROM accounts_approval WHERE id = {int(approval)}") == [
            ("pending",)]

    token = next((Path(second["HOME"]) / ".jutaku" / "sessions").iterdir())
    before = token.read_text()
    wrong = run_jutaku(second, "approvals", "approve", approval, input=f"{TEST_PASSWORD}\n000000\n")
    assert wrong.returncode == 3 and pending()
    time.sleep(2)  # django-otp holds the next code back for 1 s after a wrong one (doubling each time)
    ok = run_jutaku(second, "approvals", "approve", approval, input=f"{TEST_PASSWORD}\n{next_code(second)}\n")
    assert ok.returncode == 0 and "承認しました" in ok.stdout and not pending()
    assert token.read_text() != before  # rotated at the step-up (AUTH-07)
    rows = child_query(child_home, "SELECT event, outcome FROM audit_record WHERE username = 'kato.r' "
                                   "AND event IN ('auth:step_up', 'auth:login_failed', 'approval:approve') ORDER BY seq")
    assert rows == [("auth:login_failed", "otp"), ("auth:step_up", "ok"), ("approval:approve", "ok")]
    again = run_jutaku(second, "approvals", "reject", "999")  # fresh for a while: no second question
    assert again.returncode == 2 and "再認証" not in again.stderr


# ------------------------------------------------------------------------------------------------- item 12

def _copy_sessions(src_home: str, dest_home: Path, uid: int = 0) -> None:
    shutil.copytree(Path(src_home) / ".jutaku", dest_home / ".jutaku")
    for path in [dest_home / ".jutaku", *(dest_home / ".jutaku").rglob("*")]:
        os.chown(path, uid, uid)


def test_a_token_copied_into_another_accounts_home_is_refused_and_audited(child_home: dict[str, str],
                                                                         tmp_path: Path) -> None:
    """The attack of item 12, with a real second uid: on main the copied file signed its reader in."""
    real_second_uid()
    thief_home = home_of(NOBODY, tmp_path / "thief")
    _copy_sessions(child_home["HOME"], thief_home, NOBODY)
    proc = run_as(NOBODY, {**child_home, "HOME": str(thief_home)}, "jobs", "list")
    assert proc.returncode == 3 and "ログインしてください" in proc.stderr
    [(user, outcome, detail)] = child_query(child_home, "SELECT username, outcome, detail FROM audit_record "
                                                        "WHERE event = 'auth:session_refused'")
    shown = json.loads(detail)
    assert (user, outcome) == ("op.multi", "os_user_changed")
    assert (shown["bound_uid"], shown["presented_uid"], shown["revoked"]) == (str(os.getuid()), str(NOBODY), True)
    after = run_jutaku(child_home, "jobs", "list")  # the token is known to another now: its session is over
    assert after.returncode == 3 and "ログインしてください" in after.stderr


def test_a_token_used_from_another_login_session_is_refused(child_home: dict[str, str], tmp_path: Path) -> None:
    """Same uid, another login (another console, another SSH connection): the token stays with its session."""
    other = tmp_path / "other-home"
    other.mkdir(mode=0o700)
    _copy_sessions(child_home["HOME"], other)
    thief = {**child_home, "HOME": str(other), "JUTAKU_TEST_UTMP": str(utmp_file(tmp_path, line="tty2"))}
    proc = run_jutaku(thief, "jobs", "list")
    assert proc.returncode == 3 and "ログインしてください" in proc.stderr
    rows = child_query(child_home, "SELECT outcome FROM audit_record WHERE event = 'auth:session_refused'")
    assert rows == [("login_session_changed",)]
