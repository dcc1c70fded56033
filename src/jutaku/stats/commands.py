"""`jutaku stats`: statistics without identifying individuals."""

from __future__ import annotations

from pathlib import Path

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, requires


@click.command(name="stats")
@click.option("--k", "k", type=click.IntRange(2, 1000), default=10, show_default=True,
              help="Cells under k are suppressed (shown <k); complementary cells are shown x.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Also write the tables as CSV (or, with --format pdf, the tables and charts as a PDF).")
@click.option("--format", "fmt", type=click.Choice(["csv", "pdf"]), default="csv", show_default=True,
              help="Format of --out: csv, or pdf to print (the Japanese font embedded, with the charts).")
@click.option("--plots", "plots", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also draw the progress plots (SVG) into this folder.")
@requires(Permission.STATS_VIEW)
def stats(k: int, out: Path | None, fmt: str, plots: Path | None) -> None:
    """個人を特定しない統計（小さい値の秘匿つき）."""
    from jutaku.stats.service import export, render, view_tables

    actor = current_actor()
    for table in view_tables(k, actor=actor):
        click.echo(render(table, k))
    if out is not None and fmt == "pdf":
        from jutaku.reports.fonts import FontMissing
        from jutaku.stats.report import write_pdf

        try:
            click.echo(f"統計: {write_pdf(out, actor=actor, k=k)}")
        except FontMissing as exc:
            raise Refused(str(exc)) from exc
    elif out is not None:
        path, info = export(out, actor=actor, k=k)
        click.echo(f"統計: {path} ({info.rows} cells)")
    if plots is not None:
        from jutaku.stats.plots import progress_plots

        for drawn in progress_plots(plots, k, actor=actor):
            click.echo(f"図: {drawn}")
