"""The media ledger records the medium, who carried it and the erasure from it (issue 12 item 3), and shows
every file of specific personal information never confirmed as erased. SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import AccessDenied
from jutaku.accounts.permissions import Permission
from jutaku.audit.models import AuditRecord
from jutaku.domain.media import LedgerState, awaits_erasure
from jutaku.exchange import ledger
from jutaku.exchange.models import MediaLedgerEntry

pytestmark = pytest.mark.django_db

CLERK = Actor("clerk.t", "10.0.0.5", frozenset(Permission))
AUDITOR = Actor("audit.t", "10.0.0.7", frozenset({Permission.MEDIA_LEDGER_VIEW}))
AT = datetime(2026, 6, 1, 9, tzinfo=UTC)


def entry(interface: str = "business-export", direction: str = "write", outcome: str = "ok", **kw: object) -> MediaLedgerEntry:
    return MediaLedgerEntry.objects.create(at=AT, username="inq.t", terminal="10.0.0.5", direction=direction,
                                           interface=interface, file_name=f"{interface}.csv.enc", sha256="0" * 64,
                                           size=10, record_count=1, outcome=outcome, **kw)


def test_hand_over_then_erasure_is_recorded_and_audited() -> None:
    export, request = entry(), entry("inquiry-request")
    assert {e.pk for e in ledger.recent_entries(actor=CLERK, unerased=True)} == {export.pk, request.pk}
    ledger.record_handover([export.pk, request.pk], medium="USB-0042", carrier="佐藤 健（指導管理課）", actor=CLERK)
    export.refresh_from_db()
    assert (export.media_id, export.carrier, export.handed_over_by) == ("USB-0042", "佐藤 健（指導管理課）", "clerk.t")
    assert ledger.awaiting_count() == 2  # carried, not yet erased
    with pytest.raises(ledger.MediaRecordRefused) as wrong:
        ledger.confirm_erasure([export.pk], medium="USB-0099", actor=CLERK)
    assert wrong.value.code == "M03"
    ledger.confirm_erasure([export.pk], medium="USB-0042", actor=CLERK)
    assert [e.pk for e in ledger.recent_entries(actor=CLERK, unerased=True)] == [request.pk]
    with pytest.raises(ledger.MediaRecordRefused) as twice:
        ledger.confirm_erasure([export.pk], medium="USB-0042", actor=CLERK)
    assert twice.value.code == "M04"
    events = list(AuditRecord.objects.filter(event__in=["media:handover", "media:erase"]).values_list("event", flat=True))
    assert events == ["media:handover", "media:handover", "media:erase"]


def test_a_refusal_changes_nothing_for_any_entry_of_the_request() -> None:
    first, second = entry(), entry()
    ledger.confirm_erasure([second.pk], medium="USB-1", actor=CLERK)
    with pytest.raises(ledger.MediaRecordRefused) as refused:
        ledger.confirm_erasure([first.pk, second.pk], medium="USB-1", actor=CLERK)
    assert refused.value.code == "M04"
    first.refresh_from_db()
    assert first.erased_at is None
    with pytest.raises(ledger.MediaRecordRefused) as unknown:
        ledger.record_handover([first.pk, 999_999], medium="USB-1", carrier="山田", actor=CLERK)
    assert unknown.value.code == "M05"
    with pytest.raises(ledger.MediaRecordRefused) as bad:
        ledger.record_handover([first.pk], medium="USB 1", carrier="山田", actor=CLERK)
    assert bad.value.code == "M01"


def test_recording_needs_the_permission() -> None:
    with pytest.raises(AccessDenied):
        ledger.confirm_erasure([entry().pk], medium="USB-1", actor=AUDITOR)


def test_the_database_refuses_an_erasure_without_its_medium() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        entry(erased_at=AT, erased_by="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        entry(handed_over_at=AT, handed_over_by="x", media_id="USB-1")  # no carrier


def test_the_query_is_the_domain_rule() -> None:
    """:func:`ledger.awaiting_erasure_q` selects exactly the entries :func:`awaits_erasure` says."""
    made = []
    for interface, outcome, handed, erased in itertools.product(
            ["kit", "juki-result", "rejections", "statistics", "unknown-interface"], ["ok", "R_HEADER"],
            [False, True], [False, True]):
        extra: dict[str, object] = {}
        if handed or erased:
            extra["media_id"] = "USB-1"
        if handed:
            extra |= {"handed_over_at": AT, "handed_over_by": "x", "carrier": "y"}
        if erased:
            extra |= {"erased_at": AT, "erased_by": "x"}
        made.append(entry(interface, "read", outcome, **extra))
    expected = {e.pk for e in made if awaits_erasure(LedgerState(e.interface, e.outcome, e.media_id,
                                                                 e.handed_over_at is not None, e.erased_at is not None))}
    assert set(MediaLedgerEntry.objects.filter(ledger.awaiting_erasure_q()).values_list("pk", flat=True)) == expected
    assert 0 < len(expected) < len(made)
