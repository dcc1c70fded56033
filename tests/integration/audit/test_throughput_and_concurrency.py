"""record_many() speed on the batch path, verify() speed, and an unforked chain under concurrent writers."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.models import AuditRecord
from jutaku.audit.service import AuditEntry, record, record_many, verify

pytestmark = pytest.mark.django_db(transaction=True)
ROWS = 100_000


@pytest.mark.slow
def test_record_many_writes_100k_rows_per_second_class(actor: Actor, capsys: pytest.CaptureFixture[str]) -> None:
    entries = [AuditEntry(AuditEvent.NUMBER_STORE, (f"P{i:08d}",), "ok", {"row": i}) for i in range(ROWS)]
    started = time.perf_counter()
    with transaction.atomic():
        assert record_many(entries, actor=actor, job_id=42) == ROWS
    write_rate = ROWS / (time.perf_counter() - started)
    started = time.perf_counter()
    result = verify()
    verify_rate = ROWS / (time.perf_counter() - started)
    assert result.ok and result.checked == ROWS
    with capsys.disabled():
        print(f"\n[audit {connection.vendor}] record_many {write_rate:,.0f} rows/s, verify {verify_rate:,.0f} rows/s")
    # A floor well under the measured rate (see the report), so that a regression to per-row ORM saves fails.
    # A per-row ORM save runs at a few thousand rows per second; the floor leaves room for a busy machine.
    assert write_rate > 15_000


def test_concurrent_writers_produce_one_unforked_chain(actor: Actor) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is a shared in-memory database; BEGIN IMMEDIATE serialises writers")
    per_thread, threads = 150, 4
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(name: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    record(AuditEvent.NUMBER_READ, actor=actor, objects=[f"{name}-{i}"])
                    if i % 10 == 0:
                        record_many([AuditEntry(AuditEvent.NUMBER_READ, [f"{name}-{i}-b{j}"]) for j in range(5)],
                                    actor=actor)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=writer, args=(f"T{t}",)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    expected = threads * per_thread * (1 + 5 / 10)
    result = verify()
    assert result.ok and result.checked == expected
    seqs = list(AuditRecord.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, int(expected) + 1))


def test_verify_follows_appends_made_while_it_runs(actor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    from jutaku.audit import verify as verify_module

    with transaction.atomic():
        record_many([AuditEntry(AuditEvent.NUMBER_READ, [f"P{i}"]) for i in range(30)], actor=actor)
    real_head_and_next = verify_module._head_and_next
    appended: list[int] = []

    def head_and_next_after_an_append(last: int):  # type: ignore[no-untyped-def]
        if not appended:
            with transaction.atomic():
                appended.append(record(AuditEvent.NUMBER_READ, actor=actor, objects=["late"]))
        return real_head_and_next(last)

    monkeypatch.setattr(verify_module, "_head_and_next", head_and_next_after_an_append)
    result = verify()
    assert appended == [31]
    assert result.ok and result.checked == 31
