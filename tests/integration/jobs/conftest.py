"""Fixtures for the job runner tests.

The runner commits per chunk, so its database tests are transactional; ``tests/conftest.py``'s autouse
``_append_only_triggers`` lifts the audit triggers just before pytest-django's flush.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from django.db import connection

from jutaku.accounts.actor import Actor
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.jobs.runner import ChunkContext

ITEMS_TABLE = "jobs_test_item"


@pytest.fixture
def actor() -> Actor:
    return Actor(username="clerk01", terminal="10.0.0.21", permissions=frozenset(Permission))


@pytest.fixture
def items_table(_append_only_triggers: None) -> Iterator[str]:
    """A scratch table standing in for the data a real job writes (persons, numbers, ...)."""
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE {ITEMS_TABLE} (idx BIGINT PRIMARY KEY, value VARCHAR(40) NOT NULL)")
    yield ITEMS_TABLE
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {ITEMS_TABLE}")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_items(n: int) -> list[str]:
    """Synthetic input rows: no personal data."""
    return [f"row-{i:06d}" for i in range(n)]


def stored_items() -> list[tuple[int, str]]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT idx, value FROM {ITEMS_TABLE} ORDER BY idx")
        return [(int(a), str(b)) for a, b in cur.fetchall()]


def audited_objects(event: AuditEvent = AuditEvent.PERSON_IMPORT) -> list[str]:
    from jutaku.audit.models import AuditRecord

    return list(AuditRecord.objects.filter(event=event.value).order_by("seq").values_list("object_ids", flat=True))


def events_of(job_id: int) -> list[str]:
    from jutaku.audit.models import AuditRecord

    return list(AuditRecord.objects.filter(job_id=job_id).order_by("seq").values_list("event", flat=True))


Handler = Callable[[list[tuple[int, str]], ChunkContext], Mapping[str, int]]


def make_handler(*, fail_at: int | None = None, seen: list[int] | None = None) -> Handler:
    """Insert each item and audit it, in the chunk's transaction; raise on the item ``fail_at``."""

    def handler(chunk: list[tuple[int, str]], ctx: ChunkContext) -> Mapping[str, int]:
        if seen is not None:
            seen.extend(i for i, _ in chunk)
        rows = [(i, item) for i, item in chunk if i % 7 != 3]
        with connection.cursor() as cur:
            cur.executemany(f"INSERT INTO {ITEMS_TABLE} (idx, value) VALUES (%s, %s)", rows)
        record_many((AuditEntry(AuditEvent.PERSON_IMPORT, (f"{i:010d}",)) for i, _ in rows),
                    actor=ctx.actor, job_id=ctx.job_id)
        if fail_at is not None and any(i == fail_at for i, _ in chunk):
            raise RuntimeError("synthetic failure in row-000123 (must not reach the job row)")
        return {"ok": len(rows), "E07": len(chunk) - len(rows)}

    return handler


@pytest.fixture
def second_child_home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A second fresh, initialised home (and database) for a clean reference run."""
    from tests.conftest import fresh_child_env, run_jutaku

    with fresh_child_env(tmp_path / "clean-home", db_prefix="jutaku_clean") as env:
        run_jutaku(env, "init", check=True)
        yield env
