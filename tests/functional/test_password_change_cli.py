"""The first sign-in on the command line with a password an administrator set (issue 14 item 14), SQLite and
PostgreSQL: `jutaku login` asks for a new password at once; without an acceptable one the session can only run
`jutaku password` (or sign out) — every other command, step-up included, exits 3 saying why; `jutaku password`
changes it; `jutaku users reset-password` flags the account again and ends its sessions."""

from __future__ import annotations

from pathlib import Path

import pytest

from jutaku.accounts.sessions import PASSWORD_CHANGE_REQUIRED
from tests.conftest import child_query, run_jutaku
from tests.functional.operator_support import Operator

pytestmark = pytest.mark.subprocess
END = "--end", "2030-03-31"


@pytest.fixture
def admin(child_env: dict[str, str], tmp_path: Path) -> Operator:
    """sato.k, the first security administrator, signed in; tanaka.h (registrar) created by sato.k."""
    home = tmp_path / "console"
    home.mkdir(mode=0o700)
    person = Operator({**child_env, "HOME": str(home)}, tmp_path)
    person.run(["jutaku", "init", "--admin", "sato.k", "--full-name", "佐藤 健", "--staff-id", "B1001", *END])
    person.run(["jutaku", "login", "--user", "sato.k"])
    person.run(["jutaku", "users", "create", "tanaka.h", "--full-name", "田中 花", "--staff-id", "B2001", "--org",
                "bureau", "--role", "registrar", *END])
    return person


def as_tanaka(admin: Operator, tmp_path: Path) -> dict[str, str]:
    """tanaka.h's own shell (their own $HOME, so their own session file)."""
    home = tmp_path / "tanaka"
    home.mkdir(mode=0o700, exist_ok=True)
    return {**admin.env, "HOME": str(home)}


def flagged(env: dict[str, str]) -> bool:
    [(flag,)] = child_query(env, "SELECT password_must_change FROM accounts_user WHERE username = 'tanaka.h'")
    return bool(flag)


def test_the_first_sign_in_asks_for_a_new_password_and_nothing_runs_before_it(admin: Operator,
                                                                              tmp_path: Path) -> None:
    tanaka = as_tanaka(admin, tmp_path)
    initial = admin.password("tanaka.h")
    # A script that answers only the password and the code: signed in, but the new password is missing.
    login = run_jutaku(tanaka, "login", "--user", "tanaka.h", input=f"{initial}\n{admin.code('tanaka.h')}\n")
    assert login.returncode == 2
    assert "初回サインイン: 管理者が設定したパスワードです。" in login.stdout
    assert "パスワードを変更するまで、他のコマンドは使えません（jutaku password）。" in login.stderr
    assert flagged(tanaka)

    for args in (["jobs", "list"], ["import", "targets", "targets.csv"], ["step-up"]):
        refused = run_jutaku(tanaka, *args, input=f"{initial}\n{admin.code('tanaka.h')}\n")
        assert refused.returncode == 3, args
        assert PASSWORD_CHANGE_REQUIRED in refused.stderr and "jutaku password" in refused.stderr, args
    denied = child_query(tanaka, "SELECT count(*) FROM audit_record WHERE event = 'access:denied' "
                                 "AND outcome = 'password_change' AND username = 'tanaka.h'")
    assert denied == [(2,)]  # jobs list and import targets (step-up is refused before it asks)

    same = run_jutaku(tanaka, "password", input=f"{initial}\n{initial}\n")
    assert same.returncode == 2 and "今のパスワードと違うもの" in same.stderr
    changed = run_jutaku(tanaka, "password", input=f"{initial}\ntanaka's own synthetic passphrase\n")
    assert changed.returncode == 0, changed.stderr
    assert "パスワードを変更しました" in changed.stdout and not flagged(tanaka)
    assert run_jutaku(tanaka, "jobs", "list").returncode == 0
    [(first,)] = child_query(tanaka, "SELECT detail FROM audit_record WHERE event = 'auth:password_change'")
    assert '"first_sign_in":true' in first.replace(" ", "")


def test_login_takes_the_new_password_and_a_reset_asks_for_one_again(admin: Operator, tmp_path: Path) -> None:
    tanaka = as_tanaka(admin, tmp_path)
    initial = admin.password("tanaka.h")
    own = "tanaka's own synthetic passphrase"
    login = run_jutaku(tanaka, "login", "--user", "tanaka.h",
                       input=f"{initial}\n{admin.code('tanaka.h')}\n{own}\n")
    assert login.returncode == 0, login.stderr
    assert "パスワードを変更しました" in login.stdout and not flagged(tanaka)
    assert run_jutaku(tanaka, "jobs", "list").returncode == 0

    reset = run_jutaku(admin.env, "users", "reset-password", "tanaka.h", "--reason", "本人確認済み（窓口）",
                       input="a second initial passphrase\n")
    assert reset.returncode == 0, reset.stderr
    assert "次のサインインで本人が変更します" in reset.stdout and flagged(tanaka)
    ended = run_jutaku(tanaka, "jobs", "list")
    assert ended.returncode == 3 and "ログインしてください" in ended.stderr  # every session ended
    listed = run_jutaku(admin.env, "users", "list", check=True).stdout
    assert "有効（初回パスワード変更待ち）" in listed
    again = run_jutaku(tanaka, "login", "--user", "tanaka.h",
                       input=f"a second initial passphrase\n{admin.code('tanaka.h')}\n{own} again\n")
    assert again.returncode == 0, again.stderr
    assert not flagged(tanaka)
