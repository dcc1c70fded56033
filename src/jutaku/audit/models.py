"""Models of jutaku.audit: the append-only, hash-chained audit trail and its head.

See docs/adr/0003-audit-chain.md. Rows are written only by :mod:`jutaku.audit.service` (raw
``executemany`` on the hot path); database triggers installed by migration 0001 refuse UPDATE,
DELETE and TRUNCATE on ``audit_record``.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q


class SequenceField(models.BigIntegerField):  # type: ignore[misc]
    """A 64-bit primary key the application assigns; ``INTEGER`` on SQLite so it is the rowid.

    An ``INTEGER PRIMARY KEY`` is SQLite's rowid itself: no second B-tree per insert (batch path).
    SQLite integers are 64-bit, so the range is the same as ``bigint``.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)  # type: ignore[no-any-return]


class AuditRecord(models.Model):  # type: ignore[misc]  # Django is untyped here
    """One audited operation (who, when, from where, what, on which objects, with what outcome).

    ``object_ids`` (column ``objects``) holds internal ids joined by ``,`` (person ids, job ids, file hashes), never a
    個人番号. ``detail`` is canonical JSON. ``hash`` = SHA-256 of the canonical serialisation of all
    the other columns including ``seq`` and ``prev_hash`` (:func:`jutaku.audit.chain.canonical`).
    """

    seq = SequenceField(primary_key=True)
    at = models.DateTimeField()
    username = models.CharField(max_length=150)
    terminal = models.CharField(max_length=64)
    event = models.CharField(max_length=64)
    #: Column ``objects``; named ``object_ids`` so that ``AuditRecord.objects`` stays the manager.
    object_ids = models.TextField(blank=True, default="", db_column="objects")
    outcome = models.CharField(max_length=64, default="ok")
    job_id = models.BigIntegerField(null=True, blank=True)
    detail = models.TextField(default="{}")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_record"
        ordering = ("seq",)
        # No secondary index: the append path stays at the primary-key ceiling (ADR 0003). Searches
        # walk the seq order; ``at`` grows with seq (taken under the writers' lock), so a time range
        # maps to a seq range by binary search (jutaku.audit.queries).
        constraints = (
            models.CheckConstraint(condition=Q(seq__gte=1), name="audit_record_seq_positive"),
        )

    def __str__(self) -> str:
        return f"#{self.seq} {self.event} {self.outcome}"


class AuditHead(models.Model):  # type: ignore[misc]
    """The single row (id = 1) holding the last seq and hash: the writers' lock and the tail marker.

    Not evidence: :func:`jutaku.audit.service.verify` recomputes everything from the records and
    reports a head that disagrees with the last record (a truncated or extended tail).
    """

    id = models.SmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_head"
        constraints = (models.CheckConstraint(condition=Q(id=1), name="audit_head_single_row"),)

    def __str__(self) -> str:
        return f"head #{self.seq}"
