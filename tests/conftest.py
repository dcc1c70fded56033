"""Shared fixtures.

- ``pg_tier``: true when this run targets PostgreSQL (JUTAKU_DATABASE_URL set).
- ``child_home``: a fresh, initialised Jutaku home (and a fresh PostgreSQL database on the PG tier) for
  tests that run the ``jutaku`` command in a child process; yields the environment to run it with. Its
  ``$HOME`` is a temporary folder holding a live session of a test-only operator with the roles
  registrar, inquirer, supervisor, auditor and operations (:data:`OPERATOR_ROLES`).
- The terminal of a child ``jutaku`` (ADR 0018) is what the kernel and the login records say, never the
  environment: every child environment names, in ``JUTAKU_TEST_UTMP`` (test mode only), a utmp file
  holding one login record for this pytest process, an ancestor of every child — on the console
  (:func:`utmp_file`), or from a remote address (:func:`terminal_env`). Only root can write a utmp file the
  CLI believes, so the functional tier runs as root (as CI does).
- :func:`login_as`: a copy of such an environment with its own ``$HOME`` and a session of a new user
  holding exactly the given roles (permission tests), opened through the real login service and, unless
  ``step_up=False``, re-authenticated at once (AUTH-09; fresh for ``JUTAKU_STEP_UP_MINUTES``).
  :func:`step_up` re-authenticates such a session again through ``jutaku step-up`` (this rotates the
  token: a database restored from a backup taken before it holds the older token only).
- ``_append_only_triggers`` (autouse): the audit table's append-only triggers refuse the DELETE /
  TRUNCATE with which pytest-django empties the database after a ``transaction=True`` test; they are
  (re)installed for every database test and lifted only just before that flush. Every database test also
  gets its own signed anchor file (``fresh_anchor_file``; ADR 0014), since its database starts empty.
- ``allowlist``: the packaged legal allow-list loaded (in-process tests of the inquiry rules).
- ``home_keys``: the key files of the test run's home (created once), for in-process services.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# A green run means green: property tests draw the same examples on every run (``make test``, CI).
# ``HYPOTHESIS_PROFILE=explore`` draws new ones, to look for bugs on purpose (README, "Tests").
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=1000, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture(autouse=True)
def _append_only_triggers(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    from django.db import connection

    from jutaku.audit import triggers

    transactional = bool(marker.kwargs.get("transaction", False))
    request.getfixturevalue("transactional_db" if transactional else "db")
    triggers.install_on(connection)
    with fresh_anchor_file(request.getfixturevalue("tmp_path"), request.getfixturevalue("anchor_signing_dir")):
        yield
    if transactional:
        connection.close()  # a test may leave the connection in a failed transaction
        triggers.uninstall_on(connection)


@pytest.fixture(scope="session")
def anchor_signing_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Ed25519 anchor signing key for the test run (key generation is cheap, but once is enough)."""
    from jutaku.audit import anchors

    where = tmp_path_factory.mktemp("audit-signing")
    anchors.create_key(anchors.Location(where / "exported", where))
    return where


@contextmanager
def fresh_anchor_file(tmp: Path, signing_dir: Path) -> Iterator[Path]:
    """Anchoring pointed at a new anchor file for one test database, started by a ``start`` line at seq 0
    (the empty trail): anchors of earlier tests, whose databases were emptied, do not apply to this one."""
    from datetime import UTC, datetime

    from jutaku.audit import anchorfile, anchors

    where = anchors.Location(tmp / "audit-anchors", signing_dir)
    where.anchor_dir.mkdir(mode=0o700)
    key = anchors.signing_key(where)
    assert key is not None
    first = anchorfile.make_line(key, previous=None, kind="start", seq=0, count=0, hash_=anchorfile.ZERO,
                                 now=datetime.now(UTC))
    where.anchor_file.write_text(first.raw + "\n", encoding="ascii")
    where.anchor_file.chmod(0o600)
    anchors.use_location(where)
    try:
        yield where.anchor_file
    finally:
        anchors.use_location(None)


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    """For a test that migrates the shared test database back to an older schema: migrate forward to the
    latest migrations of every app afterwards, or every later test would miss tables and columns."""
    yield
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def allowlist() -> int:
    """The packaged legal allow-list loaded as the active version (``jutaku init`` does the same)."""
    from jutaku.accounts.actor import SYSTEM
    from jutaku.allowlist.service import load_packaged

    return load_packaged(SYSTEM).version_id


@pytest.fixture(scope="session")
def home_keys() -> Path:
    from jutaku import config
    from jutaku.crypto.keyring import initialise_keys, set_keyring

    keys_dir = config.get().keys_dir
    keys_dir.mkdir(parents=True, exist_ok=True)
    initialise_keys(keys_dir)
    set_keyring(None)  # re-read on next use
    return keys_dir
JUTAKU = [sys.executable, "-m", "jutaku"]


def pg_url() -> str | None:
    url = os.environ.get("JUTAKU_DATABASE_URL")
    return url if url and url.startswith("postgres") else None


@pytest.fixture(scope="session")
def pg_tier() -> bool:
    return pg_url() is not None


def _with_db(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


def run_jutaku(env: dict[str, str], *args: str, input: str | None = None, timeout: float = 300,
               check: bool = False) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*JUTAKU, *args], env=env, input=input, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"jutaku {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def child_query(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    """Read the database of a child home directly (read-only on SQLite)."""
    url = env.get("JUTAKU_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    import sqlite3

    conn = sqlite3.connect(f"file:{Path(env['JUTAKU_HOME']) / 'jutaku.sqlite3'}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def utmp_file(folder: Path, *, line: str = "tty1", address: str | None = None, pid: int | None = None) -> Path:
    """A utmp file (root's, 0644) with one login record for this process (or ``pid``): on the console
    (``tty1``), or from ``address`` on a pseudo-terminal. A child ``jutaku`` descends from this process, so
    the record is its login session, as sshd's or login's record is for a shell they started."""
    import time

    from jutaku.accounts.osfacts import make_record

    path = folder / f"utmp-{secrets.token_hex(4)}"
    path.write_bytes(make_record(line, os.getpid() if pid is None else pid, time.time(), address, user="pytest"))
    path.chmod(0o644)
    return path


def terminal_env(env: dict[str, str], address: str, *, line: str = "pts/7") -> dict[str, str]:
    """A copy of ``env`` whose child `jutaku` runs in an SSH login session from ``address``."""
    folder = Path(env["JUTAKU_TEST_UTMP"]).parent
    return {**env, "JUTAKU_TEST_UTMP": str(utmp_file(folder, line=line, address=address))}


@contextmanager
def fresh_child_env(home: Path, *, db_prefix: str = "jutaku_child") -> Iterator[dict[str, str]]:
    """Environment for a child `jutaku` on the fresh home ``home`` (and, on the PostgreSQL tier, a fresh
    database that is dropped afterwards), on the console (:func:`utmp_file`); not initialised."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUTAKU_", "DJANGO_", "SSH_"))}
    env["JUTAKU_HOME"] = str(home)
    env["JUTAKU_MODE"] = "test"
    home.parent.mkdir(parents=True, exist_ok=True)
    env["JUTAKU_TEST_UTMP"] = str(utmp_file(home.parent))
    env["PYTHONPATH"] = str(ROOT / "src")
    url = pg_url()
    dbname = f"{db_prefix}_{secrets.token_hex(6)}"
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["JUTAKU_DATABASE_URL"] = _with_db(url, dbname)
    try:
        yield env
    finally:
        if url:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
def child_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a child `jutaku` on a fresh home (and fresh PostgreSQL database), not yet initialised."""
    with fresh_child_env(tmp_path / "home") as env:
        yield env


OPERATOR_ROLES = ("registrar", "inquirer", "supervisor", "auditor", "operations")
SESSION_SUPPORT = ROOT / "tests" / "integration" / "accounts" / "session_support.py"


TEST_PASSWORD = "test operator passphrase 2026"  # every login_as user's (session_support.py)


def login_as(env: dict[str, str], *roles: str, username: str | None = None, step_up: bool = True) -> dict[str, str]:
    """A copy of ``env`` with a fresh ``$HOME`` and a live session of a new user holding ``roles``, opened
    on the environment's terminal and, unless ``step_up=False``, re-authenticated (see the module docstring).

    The new environment's ``JUTAKU_TEST_TOTP_SECRET`` is that user's TOTP seed (base32), and
    ``JUTAKU_TEST_USER`` their name.
    """
    name = username or "as." + "-".join(r[:3] for r in roles)
    home = Path(env["JUTAKU_HOME"]).parent / f"user-{secrets.token_hex(4)}"
    home.mkdir(mode=0o700)
    new = {**env, "HOME": str(home)}
    args = [name, ",".join(roles), *([] if step_up else ["--no-step-up"])]
    proc = subprocess.run([sys.executable, str(SESSION_SUPPORT), *args], env=new, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"login_as {roles} failed\n{proc.stdout}\n{proc.stderr}")
    new["JUTAKU_TEST_TOTP_SECRET"] = proc.stdout.strip()
    new["JUTAKU_TEST_USER"] = name
    return new


def next_code(env: dict[str, str]) -> str:
    """The next one-time code of the ``login_as`` user of ``env`` that the server has not seen (codes are
    single use: a step later than the last accepted one, waiting for it when it is not due yet)."""
    import time

    import pyotp

    name = env["JUTAKU_TEST_USER"]
    assert name.replace(".", "").replace("-", "").replace("_", "").isalnum()  # safe to inline
    [(last,)] = child_query(env, "SELECT d.last_t FROM otp_totp_totpdevice d JOIN accounts_user u "
                                 f"ON u.id = d.user_id WHERE u.username = '{name}'")
    step = max(int(time.time()) // 30, int(last) + 1)
    while step > int(time.time()) // 30 + 1:
        time.sleep(1)
    return str(pyotp.TOTP(env["JUTAKU_TEST_TOTP_SECRET"]).at(step * 30))


def step_up(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Re-authenticate the session of ``env`` (``jutaku step-up``: the password, then a new code)."""
    return run_jutaku(env, "step-up", input=f"{TEST_PASSWORD}\n{next_code(env)}\n", check=True)


@pytest.fixture
def child_home(child_env: dict[str, str]) -> dict[str, str]:
    """An initialised home for a child `jutaku`, with a signed-in test operator (see the module docstring)."""
    run_jutaku(child_env, "init", check=True)
    return login_as(child_env, *OPERATOR_ROLES, username="op.multi")
