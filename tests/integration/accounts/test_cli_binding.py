"""CLI sessions bound to the OS user and login session (issue 13 item 12, AUTH-07) and the CLI's step-up
freshness (item 11, AUTH-09), through the services, on SQLite and PostgreSQL (ADR 0018). The child-process
attacks are in tests/functional/test_cli_identity.py."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from jutaku.accounts import auth, osfacts, sessions, tokenfile
from jutaku.accounts.cliterminal import Binding, CliTerminal, LoginRecord, OsFacts, Process
from jutaku.accounts.models import AuthSession
from jutaku.audit.models import AuditRecord
from jutaku.clikit import LoginRequired, cli_terminal, ensure_stepped_up
from tests.integration.accounts.conftest import Made, MakeUser

pytestmark = pytest.mark.django_db
HERE = Binding(uid=1001, loginuid=1001, login="pts/3:4242:1780000000.000000")


def cli_login(made: Made, binding: Binding = HERE) -> str:
    return auth.login(made.user.username, made.password, made.code(), terminal="127.0.0.1", production=True,
                      binding=binding).token


def resolve(token: str, binding: Binding | None = HERE) -> sessions.LiveSession:
    return sessions.resolve_session(token, terminal="127.0.0.1", production=True, binding=binding)


def refusal(reason: str) -> dict[str, str]:
    [row] = AuditRecord.objects.filter(event="auth:session_refused")
    assert row.outcome == reason
    return json.loads(row.detail) if isinstance(row.detail, str) else row.detail


def test_the_cli_terminal_is_the_os_facts_and_never_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    console = OsFacts(uid=7, loginuid=None, lineage=(Process(10, 0.0), Process(1, 0.0)),
                      records=(LoginRecord("tty1", 10, None, 1.0),))
    osfacts.use(lambda: console)
    try:
        monkeypatch.setenv("SSH_CONNECTION", "10.9.9.9 40000 10.0.0.1 22")
        here = cli_terminal()
        monkeypatch.delenv("SSH_CONNECTION")
        assert cli_terminal() == here
    finally:
        osfacts.use(None)
    assert (here.address, here.why, here.binding.uid, here.binding.login) == ("127.0.0.1", "console", 7,
                                                                             "tty1:10:1.000000")


def test_a_cli_session_keeps_its_os_user_and_login_session(make_user: MakeUser) -> None:
    token = cli_login(make_user())
    assert resolve(token).actor.terminal == "127.0.0.1"
    session = AuthSession.objects.get()
    assert (session.os_uid, session.os_loginuid, session.os_login) == (1001, 1001, HERE.login)


@pytest.mark.parametrize(("presented", "reason"), [
    (Binding(1002, 1001, HERE.login), "os_user_changed"),  # another account's home
    (Binding(1001, 1002, HERE.login), "os_user_changed"),  # another person behind the same service account
    (Binding(1001, 1001, "pts/9:777:1780000100.000000"), "login_session_changed"),
    (None, "pathway_changed"),  # the CLI's token as a web cookie
])
def test_a_token_presented_elsewhere_is_refused_revoked_and_audited(make_user: MakeUser, presented: Binding | None,
                                                                  reason: str) -> None:
    token = cli_login(make_user())
    with pytest.raises(sessions.NoSession) as refused:
        resolve(token, presented)
    assert refused.value.reason == reason and str(refused.value) == sessions.LOGIN_REQUIRED
    detail = refusal(reason)
    assert detail["bound_uid"] == "1001" and detail["revoked"] is True
    if presented is None:
        assert detail["presented_kind"] == "web"
    else:
        assert (detail["presented_uid"], detail["presented_login"]) == (str(presented.uid), presented.login)
    with pytest.raises(sessions.NoSession):
        resolve(token)  # revoked: even its owner signs in again
    assert AuthSession.objects.get().revoked_reason == reason


def test_a_web_token_is_refused_on_the_command_line(make_user: MakeUser) -> None:
    made = make_user()
    token = auth.login(made.user.username, made.password, made.code(), terminal="127.0.0.1", production=True,
                       kind="web").token
    with pytest.raises(sessions.NoSession) as refused:
        resolve(token)
    assert refused.value.reason == "pathway_changed"
    assert refusal("pathway_changed")["bound_kind"] == "web"


def test_the_database_refuses_a_binding_on_a_web_session_or_half_a_binding(make_user: MakeUser) -> None:
    made = make_user()
    now = timezone.now()
    base = {"user": made.user, "terminal": "127.0.0.1", "created_at": now, "last_seen_at": now,
            "expires_at": now + timedelta(hours=1)}
    for n, extra in enumerate([{"kind": "web", "os_uid": 0}, {"kind": "cli", "os_login": "tty1:1:1"},
                               {"kind": "cli", "os_loginuid": 5}]):
        with pytest.raises(IntegrityError), transaction.atomic():
            AuthSession.objects.create(token_hash=f"{n:064d}", **base, **extra)


# ------------------------------------------------------------------------------------------------ step-up

@pytest.fixture
def cli_session(make_user: MakeUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Made, CliTerminal]:
    monkeypatch.setenv("HOME", str(tmp_path))
    return make_user("tanaka.h", "supervisor"), CliTerminal("127.0.0.1", "console", HERE)


def answer(monkeypatch: pytest.MonkeyPatch, text: str) -> io.StringIO:
    stdin = io.StringIO(text)
    monkeypatch.setattr("sys.stdin", stdin)
    return stdin


def test_a_step_up_is_fresh_for_the_configured_minutes_then_asked_again(
        cli_session: tuple[Made, CliTerminal], monkeypatch: pytest.MonkeyPatch, settings) -> None:
    from jutaku import config

    made, here = cli_session
    cfg = config.get()
    token = cli_login(made)
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=31), tick=False):  # the next code's step
        stdin = answer(monkeypatch, f"{made.password}\n{made.code()}\n")
        ensure_stepped_up(cfg, here, resolve(token))
        assert stdin.read() == ""
    rotated = tokenfile.read(tokenfile.path_for(cfg.home, {"HOME": str(Path.home())}, loginuid=HERE.loginuid))
    assert rotated and rotated != token
    assert AuditRecord.objects.filter(event="auth:step_up", username="tanaka.h").count() == 1
    fresh = start + timedelta(seconds=31, minutes=settings.JUTAKU_STEP_UP_MINUTES - 1)
    with time_machine.travel(fresh, tick=False):
        stdin = answer(monkeypatch, "not read\n")
        ensure_stepped_up(cfg, here, resolve(rotated))
        assert stdin.read() == "not read\n"  # fresh: nothing asked
    stale = start + timedelta(seconds=31, minutes=settings.JUTAKU_STEP_UP_MINUTES + 1)
    with time_machine.travel(stale, tick=False):
        answer(monkeypatch, f"{made.password}\n000000\n")
        with pytest.raises(LoginRequired):
            ensure_stepped_up(cfg, here, resolve(rotated))
    assert AuditRecord.objects.filter(event="auth:login_failed", username="tanaka.h", outcome="otp").count() == 1
