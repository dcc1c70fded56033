"""Sign-in: Argon2id, password policy, TOTP single use and window, lockout, no enumeration
(AUTH-02..06, AUTH-10)."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from django.utils import timezone

from jutaku.accounts import auth, passwords, sessions
from jutaku.accounts.actor import SYSTEM
from jutaku.accounts.users import disable, unlock
from jutaku.audit.models import AuditRecord
from tests.integration.accounts.conftest import MakeUser

pytestmark = pytest.mark.django_db
ARGON2 = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def login(made, *, password=None, code=None, terminal="127.0.0.1", username=None):
    return auth.login(username or made.user.username, password or made.password, code or made.code(),
                      terminal=terminal, production=True)


def events(name: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(event=name).order_by("seq"))


@override_settings(PASSWORD_HASHERS=ARGON2)
def test_passwords_are_argon2id_with_at_least_19_mib_and_two_passes() -> None:
    algorithm, variant, version, params, _salt, _hash = make_password("a long synthetic passphrase").split("$")
    fields = dict(p.split("=") for p in params.split(","))
    assert (algorithm, variant, version) == ("argon2", "argon2id", "v=19")
    assert int(fields["m"]) >= 19 * 1024 and int(fields["t"]) >= 2


@pytest.mark.parametrize("weak", ["password1234", "short pass1", "qwertyuiop123"])
def test_short_and_common_passwords_are_refused(weak: str) -> None:
    with pytest.raises(passwords.WeakPassword):
        passwords.validate(weak)


@pytest.mark.parametrize("good", ["correct horse battery staple", "すみだがわのさくらなみき", "x" * 7 + "jutaku9"])
def test_long_passwords_pass_without_composition_rules(good: str) -> None:
    passwords.validate(good)


def test_a_login_opens_a_session_whose_token_is_stored_only_as_a_hash(make_user: MakeUser) -> None:
    from jutaku.accounts.models import AuthSession

    made = make_user()
    opened = login(made)
    assert len(opened.token) >= 43  # 256 bits, url-safe base64
    row = AuthSession.objects.get()
    assert row.token_hash == sessions.token_hash(opened.token) and opened.token not in row.token_hash
    assert sessions.resolve(opened.token, terminal="127.0.0.1", production=True).username == made.user.username
    assert events("auth:login")[-1].username == made.user.username


def test_a_replayed_totp_code_is_refused(make_user: MakeUser) -> None:
    made = make_user()
    with time_machine.travel(timezone.now(), tick=False):
        code = made.code()
        login(made, code=code)
        with pytest.raises(auth.AuthFailed) as failure:
            login(made, code=code)
    assert failure.value.reason == "otp"


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False), (10, False)])
def test_codes_are_accepted_only_within_one_30_second_step(make_user: MakeUser, steps: int, accepted: bool) -> None:
    made = make_user()
    now = timezone.now()
    code = made.code(now.timestamp() + 30 * steps)
    with time_machine.travel(now, tick=False):
        if accepted:
            login(made, code=code)
        else:
            with pytest.raises(auth.AuthFailed):
                login(made, code=code)


def test_the_sixth_attempt_finds_the_account_locked_and_the_right_password_is_refused(make_user: MakeUser) -> None:
    made = make_user()
    reasons = []
    for _ in range(6):
        with pytest.raises(auth.AuthFailed) as failure:
            login(made, password="a wrong synthetic passphrase")
        reasons.append(failure.value.reason)
    assert reasons == ["password"] * 5 + ["locked"]
    assert len(events("auth:login_failed")) == 6 and len(events("auth:locked")) == 1
    with pytest.raises(auth.AuthFailed) as failure:
        login(made)
    assert failure.value.reason == "locked"

    unlock(made.user.username, actor=SYSTEM, reason="本人確認済み")
    assert events("auth:unlock")[-1].username == "system"
    login(made)


def test_wrong_codes_count_towards_the_lockout(make_user: MakeUser) -> None:
    made = make_user()
    for _ in range(5):
        with pytest.raises(auth.AuthFailed):
            login(made, code="000000" if made.code() != "000000" else "111111")
    made.user.refresh_from_db()
    assert made.user.locked_at is not None


def _failures(make_user: MakeUser) -> dict[str, object]:
    ok, disabled, locked, expired = make_user(), make_user(), make_user(), make_user()
    disable(disabled.user.username, actor=SYSTEM, reason="退職")
    for _ in range(5):
        with pytest.raises(auth.AuthFailed):
            login(locked, password="a wrong synthetic passphrase")
    expired.user.end_date = timezone.localdate() - timedelta(days=1)
    expired.user.start_date = expired.user.end_date - timedelta(days=30)
    expired.user.save()
    return {
        "unknown": lambda: login(ok, username="nobody.here"),
        "wrong": lambda: login(ok, password="a wrong synthetic passphrase x"),
        "disabled": lambda: login(disabled),
        "locked": lambda: login(locked),
        "expired": lambda: login(expired),
    }


def test_unknown_wrong_disabled_locked_and_expired_get_the_same_message(make_user: MakeUser) -> None:
    messages = {}
    for name, attempt in _failures(make_user).items():
        with pytest.raises(auth.AuthFailed) as failure:
            attempt()  # type: ignore[operator]
        messages[name] = str(failure.value)
    assert set(messages.values()) == {auth.FAILED}


@override_settings(PASSWORD_HASHERS=ARGON2)
def test_failures_take_similar_time_whatever_the_cause(make_user: MakeUser) -> None:
    attempts = _failures(make_user)
    times: dict[str, list[float]] = {name: [] for name in attempts}
    for _ in range(9):  # round robin, so that load on the machine affects every cause alike
        for name, attempt in attempts.items():
            start = time.perf_counter()
            with pytest.raises(auth.AuthFailed):
                attempt()  # type: ignore[operator]
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    spread = max(medians.values()) - min(medians.values())
    assert spread < 0.5 * min(medians.values()) + 0.02, medians  # loose: every path runs one Argon2 check


def test_an_account_before_its_start_date_cannot_sign_in(make_user: MakeUser) -> None:
    today = timezone.localdate()
    made = make_user("", "registrar", start=today + timedelta(days=3), end=today + timedelta(days=30))
    with pytest.raises(auth.AuthFailed) as failure:
        login(made)
    assert failure.value.reason == "not_started"


def test_demo_users_cannot_sign_in_in_production(make_user: MakeUser) -> None:
    made = make_user()
    made.user.demo = True
    made.user.save()
    with pytest.raises(auth.AuthFailed) as failure:
        login(made)
    assert failure.value.reason == "demo_in_production"


def test_a_terminal_with_too_many_failures_is_throttled(make_user: MakeUser, settings) -> None:
    settings.JUTAKU_TERMINAL_MAX_FAILURES = 3
    made = make_user()
    for _ in range(3):
        with pytest.raises(auth.AuthFailed):
            login(made, username="nobody.here")
    with pytest.raises(auth.AuthFailed) as failure:
        login(made)
    assert failure.value.reason == "terminal_throttled"


def test_an_unregistered_terminal_cannot_sign_in(make_user: MakeUser) -> None:
    made = make_user()
    with pytest.raises(auth.AuthFailed) as failure:
        login(made, terminal="10.9.9.9")
    assert failure.value.reason == "terminal"
    assert events("auth:login_failed")[-1].terminal == "10.9.9.9"
