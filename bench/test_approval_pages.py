"""Measure one page of the persons an approval request affects at 100,000 persons (issue 14 item 8).

Not part of ``make test``: ``make bench-approvals`` runs it on SQLite and PostgreSQL
(``pytest bench/test_approval_pages.py -p tests.conftest``) and writes ``bench/reports/approvals.{json,md}``.
A bulk-deletion request of 100,000 persons and a business export answered for 100,000 persons; for each,
the first page, a page in the middle, the last page (keyset), the counts by reason, and the whole
:func:`jutaku.registry.affected.affected` call the screen makes (counts, page, audit record) — median of 5.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

PERSONS = int(os.environ.get("APPROVAL_BENCH_PERSONS", "100000"))
REPORTS = Path(__file__).resolve().parent / "reports"
PROCEDURE = "JT99000000530001"

pytestmark = pytest.mark.django_db


def median_ms(call: Callable[[], Any], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def test_one_page_at_100k_persons(home_keys: Path) -> None:
    from django.db import connection
    from tests.integration.web.affected_world import deletion_request, export_results, make_persons

    from jutaku.accounts.actor import Actor
    from jutaku.accounts.permissions import Permission
    from jutaku.dbutil import analyze
    from jutaku.linkage.export import request_export
    from jutaku.linkage.models import InquiryRequest, InquiryResult
    from jutaku.registry import affected
    from jutaku.registry.models import Filing, Person
    from jutaku.retention.models import DeletionTarget

    viewer = Actor(username="bench.viewer", terminal="127.0.0.1",
                   permissions=frozenset({Permission.PERSONS_VIEW, Permission.DELETION_APPROVE,
                                          Permission.EXPORT_APPROVE, Permission.APPROVALS_VIEW,
                                          Permission.DELETION_REQUEST, Permission.EXPORT_BUSINESS}))
    built = time.perf_counter()
    pks = make_persons(PERSONS, seed=100, status="2")
    deletion = deletion_request([(pk, "1" if i % 10 else "9") for i, pk in enumerate(pks)], actor=viewer)
    export_results(pks, procedure=PROCEDURE, year=2026)
    export = request_export(PROCEDURE, 2026, actor=viewer, reason="bench")
    analyze(Person, DeletionTarget, Filing, InquiryRequest, InquiryResult)
    setup_s = round(time.perf_counter() - built, 1)

    middle, near_end = pks[len(pks) // 2], pks[-30]
    figures: dict[str, float] = {}
    for name, approval in (("deletion", deletion), ("export", export)):
        source = affected.SOURCES[approval.kind]
        figures[f"{name}_first_page_keys"] = median_ms(lambda a=approval, s=source: s.keys(a, None, None, 50))
        figures[f"{name}_middle_page_keys"] = median_ms(lambda a=approval, s=source: s.keys(a, middle, None, 50))
        figures[f"{name}_last_page_keys"] = median_ms(lambda a=approval, s=source: s.keys(a, near_end, None, 50))
        figures[f"{name}_previous_page_keys"] = median_ms(lambda a=approval, s=source: s.keys(a, None, middle, 50))
        figures[f"{name}_counts"] = median_ms(lambda a=approval, s=source: s.counts(a))
        figures[f"{name}_screen_call"] = median_ms(
            lambda a=approval: affected.affected(a.pk, actor=viewer, after=middle))
    page = affected.affected(deletion.pk, actor=viewer, after=middle)
    assert page is not None and len(page.rows) == 50 and page.total == PERSONS
    assert dict(page.counts) == {"退去": PERSONS - PERSONS // 10, "その他": PERSONS // 10}
    exported = affected.affected(export.pk, actor=viewer)
    assert exported is not None and exported.total == PERSONS and len(exported.rows) == 50

    vendor = connection.vendor
    REPORTS.mkdir(exist_ok=True)
    store = REPORTS / "approvals.json"
    results = json.loads(store.read_text()) if store.exists() else {}
    results[vendor] = {"persons": PERSONS, "setup_s": setup_s, "ms": figures,
                       "when": datetime.now(UTC).isoformat(timespec="seconds"),
                       "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"}
    store.write_text(json.dumps(results, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    (REPORTS / "approvals.md").write_text(render(results), encoding="utf-8")


LABELS = {
    "first_page_keys": "first page (50 keys)", "middle_page_keys": "page in the middle (after the N/2-th)",
    "last_page_keys": "last page", "previous_page_keys": "previous page (before the N/2-th)",
    "counts": "counts by reason (whole request)", "screen_call": "the screen's call: counts + page + names + audit",
}


def render(results: dict[str, Any]) -> str:
    vendors = sorted(results)
    lines = ["# Approval detail: one page of the affected persons at 100,000 persons",
             "",
             "`make bench-approvals` (bench/test_approval_pages.py). Median of 5 runs, milliseconds. A bulk-deletion",
             "request of N persons (keyset over the `(approval_id, person_id)` unique index) and a business export",
             "answered for N persons (keyset over the register's primary key, each probe an `EXISTS` on the results'",
             "`person_id` index). The counts are a whole-request aggregate: for an export it reads every answered",
             "result of the procedure and year once (no index on procedure and year: the export itself reads them",
             "all anyway).",
             ""]
    lines.append("| | " + " | ".join(f"{v} (N = {results[v]['persons']:,})" for v in vendors) + " |")
    lines.append("|---|" + "---:|" * len(vendors))
    for kind in ("deletion", "export"):
        for key, label in LABELS.items():
            cells = [f"{results[v]['ms'].get(f'{kind}_{key}', float('nan')):,.1f}" for v in vendors]
            lines.append(f"| {kind}: {label} | " + " | ".join(cells) + " |")
    lines += ["", "Runs: " + "; ".join(f"{v} {results[v]['when']} on {results[v]['machine']} "
                                       f"(building the data: {results[v]['setup_s']} s)" for v in vendors), ""]
    return "\n".join(lines)
