"""Synthetic registers for the tests of who an approval request affects (issue 14 item 8), made straight in
the database (bulk inserts: 100,000 persons in seconds for the paging measurement, bench/test_approval_pages.py).

- :func:`make_persons`: persons with seeded synthetic names (never real data), in 個人ID order.
- :func:`deletion_request`: a bulk-deletion approval request over those persons with the given 削除理由.
- :func:`export_results`: answered inquiry results of one procedure and year for those persons (what the
  business export would read).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date

from django.utils import timezone

from jutaku.accounts import approvals
from jutaku.accounts.actor import Actor
from jutaku.accounts.models import Approval
from jutaku.dbutil import adapter, bulk_insert
from jutaku.domain.japanese import kana_key
from jutaku.linkage.models import Dispatch, InquiryRequest, InquiryResult
from jutaku.registry.models import Filing, Person
from jutaku.retention.deletion import KIND as DELETION
from jutaku.retention.models import DeletionTarget

SURNAMES = (("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
            ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"))
GIVEN = (("花子", "ハナコ"), ("太郎", "タロウ"), ("陽菜", "ヒナ"), ("蓮", "レン"), ("結衣", "ユイ"), ("大翔", "ヒロト"),
         ("美咲", "ミサキ"), ("悠真", "ユウマ"), ("葵", "アオイ"), ("湊", "ミナト"))
STATUS_BY_REASON = {"1": "2", "2": "3", "3": "4", "4": "1", "9": "1"}
BATCH = 10_000


def make_persons(n: int, *, seed: int, status: str = "2", first_id: int = 1_000_000_001) -> list[int]:
    """``n`` persons (residents) with the given 状態; their primary keys in 個人ID order."""
    rng = random.Random(seed)
    now, day = adapter(Person, "updated_at")(timezone.now()), adapter(Person, "birth_date")
    start = Person.objects.count()
    rows = []
    for i in range(n):
        (sur, sur_kana), (given, given_kana) = rng.choice(SURNAMES), rng.choice(GIVEN)
        kana = f"{sur_kana}\u3000{given_kana}"
        rows.append((f"{first_id + i:010d}", "1", f"H{(first_id + i) // 3:09d}", "01", "1", f"D{i % 500:05d}", "",
                     f"{sur}\u3000{given}", kana, kana_key(kana), day(date(1950 + i % 50, 1 + i % 12, 1 + i % 28)), "1",
                     "1600001", "東京都新宿区西新宿二丁目8番1号", status, now, False))
        if len(rows) == BATCH:
            _insert(rows)
            rows = []
    _insert(rows)
    pks = list(Person.objects.order_by("person_id").values_list("pk", flat=True)[start:])
    assert len(pks) == n
    return pks


def _insert(rows: list[tuple[object, ...]]) -> None:
    bulk_insert(Person, ("person_id", "kind", "household_no", "relationship", "housing_category", "housing_code",
                         "application_no", "name", "name_kana", "kana_key", "birth_date", "sex", "postal_code",
                         "address", "status", "updated_at", "non_disclosure"), rows)


def deletion_request(targets: Sequence[tuple[int, str]], *, actor: Actor, reason: str = "退去者の個人番号削除") -> Approval:
    """One bulk-deletion request over ``targets`` ((person pk, 削除理由)), as :func:`submit_list` stores it."""
    approval = approvals.request_approval(DELETION, {"file_sha256": f"{len(targets):064x}", "persons": len(targets)},
                                          actor=actor, reason=reason)
    for at in range(0, len(targets), BATCH):
        bulk_insert(DeletionTarget, ("approval_id", "person", "reason", "line_no"),
                    [(approval.pk, pk, why, at + i + 2) for i, (pk, why) in enumerate(targets[at:at + BATCH])])
    return approval


def export_results(pks: Sequence[int], *, procedure: str, year: int, result_code: str = "00") -> None:
    """One answered inquiry (filing, request, result) per person of ``pks`` for ``procedure``/``year``."""
    dispatch = Dispatch.objects.create(kind="inquiry", procedure_code=procedure, fiscal_year=year,
                                       created_at=timezone.now())
    now, received = adapter(Filing, "updated_at")(timezone.now()), adapter(Filing, "received_date")(date(year, 6, 1))
    base = InquiryRequest.objects.count()
    for at in range(0, len(pks), BATCH):
        chunk = pks[at:at + BATCH]
        bulk_insert(Filing, ("receipt_no", "procedure_code", "fiscal_year", "received_date", "applicant", "person",
                             "consent", "non_disclosure_wish", "updated_at"),
                    [(f"R{base + at + i:09d}", procedure, year, received, pk, pk, True, False, now)
                     for i, pk in enumerate(chunk)])
        filings = dict(Filing.objects.filter(person_id__in=chunk, procedure_code=procedure, fiscal_year=year)
                       .values_list("person_id", "pk"))
        bulk_insert(InquiryRequest, ("request_no", "filing", "person", "procedure_code", "info_code", "fiscal_year",
                                     "non_disclosure", "state", "dispatch", "created_at", "answered_at"),
                    [(f"Q{base + at + i:012d}", filings[pk], pk, procedure, "TM00000000000001", year, "1", "answered",
                      dispatch.pk, now, now) for i, pk in enumerate(chunk)])
        requests = dict(InquiryRequest.objects.filter(dispatch=dispatch, person_id__in=chunk)
                        .values_list("person_id", "pk"))
        bulk_insert(InquiryResult, ("request", "person", "info_code", "result_code", "unset_reason", "discrepancy",
                                    "received_at"),
                    [(requests[pk], pk, "TM00000000000001", result_code, "", "", now) for pk in chunk])
