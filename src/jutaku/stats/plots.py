"""Progress plots (SVG) of registration and inquiries: counts only, through the same suppression.

Drawn with matplotlib (Agg) as SVG with text kept as text (``svg.fonttype = none``), so the Japanese
labels are rendered by the viewer's fonts, or as PNG for the printed statistics (ADR 0022), whose labels
are drawn with the Japanese font that comes with the Python install (:mod:`jutaku.reports.fonts`). Bars
come from the suppressed tables of :mod:`jutaku.stats.service`: a hidden cell is not drawn, and the chart
says so.
Without any Japanese font the charts are drawn quietly all the same: no "Glyph missing" warning, no
font-cache or findfont message on the terminal of `make demo` or `jutaku stats` (issue 14 item 13).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any, BinaryIO

from jutaku.accounts.actor import Actor
from jutaku.domain.disclosure_control import Table

CHART_INTERFACE = "statistics-chart"

#: matplotlib's global settings and font cache are shared by the threads of a web worker: one chart is
#: drawn at a time (a chart takes tens of milliseconds), with matplotlib's object API (no pyplot state).
_LOCK = threading.Lock()
_JAPANESE_FONTS = ("Noto Sans CJK JP", "IPAexGothic")
_READY: dict[str, Any] = {}


def _matplotlib() -> Any:
    if "figure" not in _READY:
        # Font messages are matplotlib's log records (building the font cache on a first run, a family not
        # found): nothing a user of the charts can act on, so they stay off the terminal.
        logging.getLogger("matplotlib").setLevel(logging.ERROR)
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams["svg.fonttype"] = "none"
        matplotlib.rcParams["svg.hashsalt"] = "jutaku"  # reproducible ids
        from matplotlib import font_manager
        from matplotlib.figure import Figure

        # The Japanese font of the Python install (PNG charts need its glyphs), then only the Japanese fonts
        # this machine has (asking for a missing one logs a warning per label); without any, the SVG's text
        # is still Japanese and the viewer's fonts render it.
        from jutaku.reports.fonts import FontMissing, japanese_font

        with contextlib.suppress(FontMissing):
            font_manager.fontManager.addfont(str(japanese_font()))
        # A font removed since matplotlib's cache was written is not asked for (it would rebuild the cache, loudly).
        known = {font.name for font in font_manager.fontManager.ttflist if os.path.isfile(font.fname)}
        matplotlib.rcParams["font.family"] = [f for f in _JAPANESE_FONTS if f in known] + ["sans-serif"]

        _READY["figure"] = Figure
    return _READY["figure"]


def svg_bytes(table: Table, k: int, *, ylabel: str) -> bytes:
    """One bar per row of ``table`` (its totals row excluded), stacked by column; hidden cells left out.
    Drawn in memory: a screen serves it, :func:`progress_plots` writes it as an output."""
    buffer = io.BytesIO()
    _draw(table, k, buffer, ylabel)
    return buffer.getvalue()


def png_bytes(table: Table, k: int, *, ylabel: str) -> bytes:
    """The same chart as a PNG image (for a PDF), its labels drawn with the packaged Japanese font."""
    buffer = io.BytesIO()
    _draw(table, k, buffer, ylabel, fmt="png")
    return buffer.getvalue()


def _draw(table: Table, k: int, target: BinaryIO, ylabel: str, fmt: str = "svg") -> None:
    # Under the lock, so that no other chart restores the warning filters while this one draws.
    with _LOCK, warnings.catch_warnings():
        # Glyph metrics of CJK text on a server without a CJK font: the viewer renders the text (module doc).
        warnings.simplefilter("ignore", UserWarning)
        _draw_locked(table, k, target, ylabel, fmt)


def _draw_locked(table: Table, k: int, target: BinaryIO, ylabel: str, fmt: str) -> None:
    fig = _matplotlib()(figsize=(9, 4.5))
    ax = fig.subplots()
    rows = list(table.rows)
    bottoms = [0] * len(rows)
    hidden = 0
    for j, col in enumerate(table.cols):
        values = []
        for i in range(len(rows)):
            if table.hidden[i][j]:
                hidden += 1
                values.append(0)
            else:
                values.append(table.cells[i][j])
        if any(values):
            ax.bar(rows, values, bottom=bottoms, label=col)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_title(table.title)
    ax.set_ylabel(ylabel)
    if hidden:
        ax.annotate(f"{k}未満の値と相補秘匿の値（{hidden}件）は描いていません", xy=(0, -0.18),
                    xycoords="axes fraction", fontsize=8)
    if rows:
        ax.legend(fontsize=8, ncols=2)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    if fmt == "png":
        fig.savefig(target, format="png", dpi=150, metadata={"Software": None})
    else:
        fig.savefig(target, format="svg", metadata={"Date": None})


def progress_plots(out_dir: Path, k: int, *, actor: Actor) -> list[Path]:
    """The registration and inquiry progress charts written into ``out_dir`` as outputs (0600, media
    ledger, retention: :func:`jutaku.exchange.outbound.write_output`)."""
    from jutaku.exchange.outbound import write_output
    from jutaku.stats.service import inquiry_table, registration_table

    drawn = []
    for name, table, ylabel in (("registration-progress.svg", registration_table(k), "件数（行）"),
                                ("inquiry-progress.svg", inquiry_table(k), "照会要求（件）")):
        write_output(out_dir / name, svg_bytes(table, k, ylabel=ylabel), interface=CHART_INTERFACE, actor=actor)
        drawn.append(out_dir / name)
    return drawn
