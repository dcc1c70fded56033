"""The one place jutaku.crypto writes audit events (:mod:`jutaku.audit.service`, same transaction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record, record_many

DetailValue = str | int | bool | None

#: Person refs per audit record when one operation touches many persons.
OBJECTS_PER_RECORD = 1000


def record_event(event: AuditEvent, *, actor: Actor, objects: Sequence[str] = (), outcome: str = "ok",
                 detail: Mapping[str, DetailValue] | None = None) -> None:
    """One audit record; objects beyond :data:`OBJECTS_PER_RECORD` are spread over several records."""
    if len(objects) <= OBJECTS_PER_RECORD:
        record(event, actor=actor, objects=tuple(objects), outcome=outcome, detail=detail)
        return
    parts = [objects[i:i + OBJECTS_PER_RECORD] for i in range(0, len(objects), OBJECTS_PER_RECORD)]
    record_many(
        (AuditEntry(event, tuple(p), outcome, {**(detail or {}), "part": n + 1, "parts": len(parts)})
         for n, p in enumerate(parts)),
        actor=actor,
    )
