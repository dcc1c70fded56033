"""The statistics as a printable report (PDF, the Japanese font embedded): the tables and the charts.

The same suppressed tables as the screen, `jutaku stats` and the CSV (:func:`jutaku.stats.service.all_tables`:
cells under k shown ``<k``, complementary cells ``x``), each with its totals, then the progress charts drawn
from the same tables as PNG images (:func:`jutaku.stats.plots.png_bytes`). Counts only: no person, no
number (ADR 0022).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from jutaku.accounts.actor import Actor
from jutaku.domain.disclosure_control import DEFAULT_K, Table
from jutaku.domain.jst import format_time
from jutaku.exchange.documents import write_document
from jutaku.reports.document import Chart, Document, Paragraph, Section, table

INTERFACE: Final = "statistics"
#: The charts of the report: (table of the service, y-axis label, caption).
CHART_CAPTIONS: Final = {"registration": "個人番号一括登録の進捗", "inquiry": "情報照会の進捗"}


def _section(t: Table, k: int) -> Section:
    if not t.rows or not t.cols:
        return Section(t.title, (Paragraph("該当なし"),))
    cols = [*t.cols, "合計"]
    rows = [[name, *(t.shown(i, j, k) for j in range(len(cols)))] for i, name in enumerate([*t.rows, "合計"])]
    return Section(t.title, (table(["", *cols], rows, numeric=range(1, len(cols) + 1)),))


def build_statistics(k: int = DEFAULT_K, *, now: datetime) -> Document:
    """The statistics document: every table, then every progress chart, suppressed with ``k``."""
    from jutaku.stats.plots import png_bytes
    from jutaku.stats.service import CHARTS, all_tables

    at = format_time(now)
    charts = tuple(Chart(png_bytes(table_of(k), k, ylabel=ylabel),
                         f"{CHART_CAPTIONS.get(name, name)}（{k}未満の値と相補秘匿の値は描いていません）")
                   for name, (table_of, ylabel) in CHARTS.items())
    return Document(
        title="統計（個人を特定しない集計）",
        lead=(Paragraph(f"作成日時: {at}　都営住宅マイナンバー管理システム。{k} 未満の値は「<{k}」、"
                        "引き算で分かってしまう値は「x」（相補秘匿）と表示しています。"),),
        sections=(*(_section(t, k) for t in all_tables(k)), Section("進捗の図", charts)),
        landscape=True, footer=f"統計（{k}未満秘匿）　{at} 作成", subject="個人を特定しない統計")


def write_pdf(path: Path, *, actor: Actor, k: int = DEFAULT_K) -> Path:
    """Write the statistics PDF as an output (0600, media ledger, expiry; no resident data: plain)."""
    target, _ = write_document(build_statistics(k, now=datetime.now(UTC)), path, fmt="pdf", interface=INTERFACE,
                               actor=actor)
    return target
