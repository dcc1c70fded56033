"""The command line on every pathway (AUTH-02, AUTH-04/05/07, AUTHZ-01, NET-01, LOG-01): `jutaku init
--admin`, `login` from stdin, the 0600 token file holding the only copy of the token, logout, refused
terminals and missing permissions (exit 3, audited)."""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.conftest import child_query as query
from tests.conftest import login_as, run_jutaku, terminal_env

pytestmark = pytest.mark.subprocess
PASSWORD = "first admin synthetic passphrase"


@pytest.fixture
def admin_env(child_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "admin-home"
    home.mkdir(mode=0o700)
    env = {**child_env, "HOME": str(home)}
    proc = run_jutaku(env, "init", "--admin", "sato.k", "--full-name", "佐藤 健", "--staff-id", "B1001",
                      input=PASSWORD + "\n", check=True)
    secret = re.search(r"secret=([A-Z2-7]+)", proc.stdout)
    assert secret and "otpauth://totp/" in proc.stdout
    env["SECRET"] = secret.group(1)
    return env


def login(env: dict[str, str], user: str, password: str, code: str) -> Any:
    return run_jutaku(env, "login", "--user", user, input=f"{password}\n{code}\n")


def test_init_without_admin_explains_how_to_create_one(child_env: dict[str, str]) -> None:
    proc = run_jutaku(child_env, "init", check=True)
    assert "jutaku init --admin" in proc.stdout


def test_commands_need_a_session_and_login_logout_work(admin_env: dict[str, str]) -> None:
    refused = run_jutaku(admin_env, "users", "list")
    assert refused.returncode == 3 and "ログインしてください" in refused.stderr

    ok = login(admin_env, "sato.k", PASSWORD, pyotp.TOTP(admin_env["SECRET"]).now())
    assert ok.returncode == 0, ok.stderr
    files = list((Path(admin_env["HOME"]) / ".jutaku" / "sessions").iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    token = files[0].read_text().strip()
    hashes = [h for (h,) in query(admin_env, "SELECT token_hash FROM accounts_session")]
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
    assert "sato.k" in run_jutaku(admin_env, "users", "list", check=True).stdout

    assert run_jutaku(admin_env, "logout", check=True).returncode == 0
    assert not files[0].exists()
    files[0].parent.joinpath(files[0].name).write_text(token)  # a stolen copy of the token
    files[0].chmod(0o600)
    after = run_jutaku(admin_env, "users", "list")
    assert after.returncode == 3 and "ログインしてください" in after.stderr


def test_failures_look_the_same_and_the_sixth_attempt_is_locked(admin_env: dict[str, str]) -> None:
    code = pyotp.TOTP(admin_env["SECRET"]).now()
    unknown = login(admin_env, "nobody.here", PASSWORD, code)
    outputs = [unknown]
    for _ in range(6):
        outputs.append(login(admin_env, "sato.k", "a wrong synthetic passphrase", code))
    right = login(admin_env, "sato.k", PASSWORD, code)
    outputs.append(right)
    assert {(p.returncode, p.stdout, p.stderr) for p in outputs} == {(3, "", outputs[0].stderr)}
    events = query(admin_env, "SELECT event, outcome FROM audit_record WHERE event LIKE 'auth:%' ORDER BY seq")
    assert events.count(("auth:login_failed", "password")) == 5
    assert ("auth:locked", "locked") in events and events.count(("auth:login_failed", "locked")) == 2


def test_a_command_from_an_unregistered_terminal_is_refused_and_audited(child_home: dict[str, str]) -> None:
    assert run_jutaku(child_home, "jobs", "list").returncode == 0
    remote = terminal_env(child_home, "10.9.9.9")
    proc = run_jutaku(remote, "jobs", "list")
    assert proc.returncode == 3 and "登録された端末ではありません" in proc.stderr
    rows = query(child_home, "SELECT terminal, outcome FROM audit_record WHERE event = 'access:denied'")
    assert rows == [("10.9.9.9", "terminal")]
    login_remote = run_jutaku(remote, "login", "--user", "op.multi", input="x\n000000\n")
    assert login_remote.returncode == 3


def test_a_missing_permission_exits_3_and_is_audited(child_home: dict[str, str], tmp_path: Path) -> None:
    admin = login_as(child_home, "security_admin")
    proc = run_jutaku(admin, "import", "targets", str(tmp_path / "none.csv"))
    assert proc.returncode == 3 and "registry:import" in proc.stderr
    rows = query(child_home, "SELECT username, outcome, detail FROM audit_record WHERE event = 'access:denied'")
    assert len(rows) == 1 and rows[0][1] == "permission" and "registry:import" in rows[0][2]
    denied = run_jutaku(child_home, "users", "list")  # the multi-role test operator is no security_admin
    assert denied.returncode == 3


def test_users_and_terminals_commands_with_dual_control(child_home: dict[str, str], tmp_path: Path) -> None:
    first, second = login_as(child_home, "security_admin"), login_as(child_home, "security_admin", username="kato.r")
    created = run_jutaku(first, "users", "create", "tanaka.h", "--full-name", "田中 花", "--staff-id", "B2001",
                         "--org", "bureau", "--role", "supervisor", "--end", "2099-03-31", "--reason", "配属",
                         "--qr-svg", str(tmp_path / "qr.svg"), input="another synthetic passphrase\n", check=True)
    assert "二者承認待ち" in created.stdout and "otpauth://" in created.stdout
    assert stat.S_IMODE((tmp_path / "qr.svg").stat().st_mode) == 0o600
    assert "役割: なし" in created.stdout and "役割 責任者 は二者承認待ち" in created.stdout  # roles by name
    approval_id = re.search(r"承認依頼 #(\d+)", created.stdout).group(1)  # type: ignore[union-attr]
    # The queue shows the request in words: the kind and its content as labels and values, never the payload.
    listed = run_jutaku(second, "approvals", "list", check=True).stdout.splitlines()
    assert listed[0].split() == ["番号", "種類", "依頼者", "依頼日時", "理由", "内容"]
    row = next(line for line in listed if line.lstrip().startswith(f"#{approval_id} "))
    assert "役割付与（セキュリティ管理者・責任者）" in row and "利用者: tanaka.h、付与する役割: 責任者" in row
    assert not set("{}[]'\"") & set("".join(listed)) and "supervisor" not in row and "role_grant" not in row
    assert run_jutaku(first, "approvals", "approve", approval_id).returncode == 2  # self-approval
    run_jutaku(second, "approvals", "approve", approval_id, check=True)
    users = run_jutaku(second, "users", "list", check=True).stdout.splitlines()
    assert users[0].split() == ["利用者", "氏名", "所属", "役割", "開始日", "終了日", "状態"]
    tanaka = next(line for line in users if line.startswith("tanaka.h "))
    assert "田中 花" in tanaka and "責任者" in tanaka
    assert run_jutaku(second, "approvals", "list", check=True).stdout == "承認待ちの依頼はありません。\n"
    run_jutaku(first, "terminals", "add", "kanri-lan", "10.9.9.0/24", check=True)
    assert run_jutaku(terminal_env(child_home, "10.9.9.9"), "jobs", "list").returncode == 3  # bound to terminal
    run_jutaku(first, "users", "disable", "tanaka.h", "--reason", "退職", check=True)
    review = run_jutaku(first, "users", "review", "--out", str(tmp_path / "review.csv"), check=True)
    assert "アクセス権限確認" in review.stdout and (tmp_path / "review.html").exists()
