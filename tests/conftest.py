"""Shared fixtures.

- ``pg_tier``: true when this run targets PostgreSQL (JUTAKU_DATABASE_URL set).
- ``child_home``: a fresh, initialised Jutaku home (and a fresh PostgreSQL database on the PG tier) for
  tests that run the ``jutaku`` command in a child process; yields the environment to run it with. Its
  ``$HOME`` is a temporary folder holding a live session of a test-only operator with the roles
  registrar, inquirer, supervisor, auditor and operations (:data:`OPERATOR_ROLES`).
- :func:`login_as`: a copy of such an environment with its own ``$HOME`` and a session of a new user
  holding exactly the given roles (permission tests).
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


@contextmanager
def fresh_child_env(home: Path, *, db_prefix: str = "jutaku_child") -> Iterator[dict[str, str]]:
    """Environment for a child `jutaku` on the fresh home ``home`` (and, on the PostgreSQL tier, a fresh
    database that is dropped afterwards); not initialised."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUTAKU_", "DJANGO_", "SSH_"))}
    env["JUTAKU_HOME"] = str(home)
    env["JUTAKU_MODE"] = "test"
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


def login_as(env: dict[str, str], *roles: str, username: str | None = None) -> dict[str, str]:
    """A copy of ``env`` with a fresh ``$HOME`` and a live session of a new user holding ``roles``.

    The new environment's ``JUTAKU_TEST_TOTP_SECRET`` is that user's TOTP seed (base32).
    """
    name = username or "as." + "-".join(r[:3] for r in roles)
    home = Path(env["JUTAKU_HOME"]).parent / f"user-{secrets.token_hex(4)}"
    home.mkdir(mode=0o700)
    new = {**env, "HOME": str(home)}
    new.pop("SSH_CLIENT", None)
    new.pop("SSH_CONNECTION", None)
    proc = subprocess.run([sys.executable, str(SESSION_SUPPORT), name, ",".join(roles)], env=new, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"login_as {roles} failed\n{proc.stdout}\n{proc.stderr}")
    new["JUTAKU_TEST_TOTP_SECRET"] = proc.stdout.strip()
    return new


@pytest.fixture
def child_home(child_env: dict[str, str]) -> dict[str, str]:
    """An initialised home for a child `jutaku`, with a signed-in test operator (see the module docstring)."""
    run_jutaku(child_env, "init", check=True)
    return login_as(child_env, *OPERATOR_ROLES, username="op.multi")
