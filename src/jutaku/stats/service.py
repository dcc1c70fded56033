"""`jutaku stats`: counts without identifying individuals (PIA: 統計は個人を特定できない形で).

Four two-way tables, each through :func:`jutaku.domain.disclosure_control.suppress` (cells under ``k``
shown as ``<k``, complementary cells as ``x``): persons with a registered number by 住宅区分 × 状態;
registration outcomes by month × code; inquiries by information × result; Juki-net answers by month ×
outcome. Nothing but counts leaves this module; the export is staff-facing CSV (layout ``statistics``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction
from django.db.models import Count

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.permissions import Permission
from jutaku.allowlist.names import current
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain.disclosure_control import DEFAULT_K, Table, suppress
from jutaku.domain.wareki import jst_date
from jutaku.exchange.outbound import write_export
from jutaku.formats.csvio import FileInfo
from jutaku.formats.layouts import HOUSING, STATISTICS, STATUS
from jutaku.jobs.models import Job
from jutaku.juki.models import JukiResult
from jutaku.linkage.models import InquiryRequest
from jutaku.registry.models import Person
from jutaku.stats import labels
from jutaku.stats.labels import heading

REGISTRATION_KINDS = ("register-kit", "register-portal")
INQUIRY_COLUMNS = ("未回答", "00", "01", "02", "09")
UNANSWERED = INQUIRY_COLUMNS[0]


def _table(title: str, counts: Counter[tuple[str, str]], rows: list[str], cols: list[str], k: int) -> Table:
    return suppress(title, rows, cols, [[counts.get((r, c), 0) for c in cols] for r in rows], k)


def persons_table(k: int) -> Table:
    counts: Counter[tuple[str, str]] = Counter()
    for housing, status, n in (Person.objects.filter(my_number__isnull=False).values("housing_category", "status")
                               .annotate(n=Count("id")).values_list("housing_category", "status", "n")):
        counts[(HOUSING.get(housing, housing), STATUS.get(status, status))] += n
    return _table("個人番号登録者数（住宅区分×状態）", counts, list(HOUSING.values()), list(STATUS.values()), k)


def registration_table(k: int) -> Table:
    counts: Counter[tuple[str, str]] = Counter()
    for created, job_counts in Job.objects.filter(kind__in=REGISTRATION_KINDS, state="completed", dry_run=False) \
            .values_list("created_at", "counts"):
        month = jst_date(created).strftime("%Y-%m")
        for code, n in dict(job_counts).items():
            counts[(month, code)] += int(n)
    months = sorted({m for m, _ in counts})
    codes = sorted({c for _, c in counts}, key=lambda c: (c[0] != "O", c))
    named: Counter[tuple[str, str]] = Counter({(m, heading(c, labels.REGISTRATION)): n for (m, c), n in counts.items()})
    return _table("個人番号一括登録の結果（月×結果）", named, months, [heading(c, labels.REGISTRATION) for c in codes], k)


def inquiry_table(k: int) -> Table:
    counts: Counter[tuple[str, str]] = Counter()
    rows = (InquiryRequest.objects.values("info_code", "result__result_code").annotate(n=Count("id"))
            .values_list("info_code", "result__result_code", "n"))
    names = current()
    for info, code, n in rows:
        counts[(names.info(info), heading(code, labels.INQUIRY) if code else UNANSWERED)] += n
    columns = [UNANSWERED, *(heading(c, labels.INQUIRY) for c in INQUIRY_COLUMNS[1:])]
    return _table("情報照会（特定個人情報×結果）", counts, sorted({i for i, _ in counts}), columns, k)


def juki_table(k: int) -> Table:
    counts: Counter[tuple[str, str]] = Counter()
    for received, outcome in JukiResult.objects.values_list("received_at", "outcome").iterator(chunk_size=5000):
        counts[(jst_date(received).strftime("%Y-%m"), outcome)] += 1
    codes = sorted({o for _, o in counts}, key=lambda c: (c[0] != "O", c))
    named: Counter[tuple[str, str]] = Counter({(m, heading(c, labels.JUKI)): n for (m, c), n in counts.items()})
    return _table("住基ネット照会（月×結果）", named, sorted({m for m, _ in counts}),
                  [heading(c, labels.JUKI) for c in codes], k)


def all_tables(k: int = DEFAULT_K) -> list[Table]:
    return [persons_table(k), registration_table(k), inquiry_table(k), juki_table(k)]


def render(table: Table, k: int) -> str:
    """A Japanese text table with its totals (合計), aligned by display width (:func:`jutaku.clikit.format_table`)."""
    from jutaku.clikit import format_table

    if not table.rows or not table.cols:
        return f"■ {table.title}\n（該当なし）\n"
    cols = [*table.cols, "合計"]
    rows = [[name, *(table.shown(i, j, k) for j in range(len(cols)))] for i, name in enumerate([*table.rows, "合計"])]
    lines = [f"■ {table.title}  （{k}未満は <{k}、相補秘匿は x）",
             *format_table(["", *cols], rows, right=set(range(1, len(cols) + 1)))]
    return "\n".join(lines) + "\n"


def _rows(tables: list[Table], k: int) -> Iterator[dict[str, str]]:
    for t in tables:
        rows, cols = [*t.rows, "合計"], [*t.cols, "合計"]
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                yield {"表": t.title, "行": r, "列": c, "値": t.shown(i, j, k)}


def export(path: Path, *, actor: Actor, k: int = DEFAULT_K) -> tuple[Path, FileInfo]:
    return write_export(path, STATISTICS, _rows(all_tables(k), k), actor=actor)


#: The progress charts a screen may ask for: name -> (table, y-axis label).
CHARTS = {"registration": (registration_table, "件数（行）"), "inquiry": (inquiry_table, "照会要求（件）")}


def view_tables(k: int = DEFAULT_K, *, actor: Actor) -> list[Table]:
    """:func:`all_tables` for a screen; the viewing is recorded (STATS_VIEW), as `jutaku stats` does."""
    require(actor, Permission.STATS_VIEW)
    tables = all_tables(k)
    with transaction.atomic():
        record(AuditEvent.STATS_VIEW, actor=actor, detail={"k": k})
    return tables


def chart(name: str, k: int = DEFAULT_K, *, actor: Actor) -> bytes:
    """One progress chart (:data:`CHARTS`) as SVG bytes, drawn from the suppressed table; recorded."""
    from jutaku.stats.plots import svg_bytes

    require(actor, Permission.STATS_VIEW)
    table_of, ylabel = CHARTS[name]
    svg = svg_bytes(table_of(k), k, ylabel=ylabel)
    with transaction.atomic():
        record(AuditEvent.STATS_VIEW, actor=actor, outcome="chart", detail={"k": k, "chart": name})
    return svg
