"""A :class:`~jutaku.reports.document.Document` as one self-contained Japanese HTML page.

The page has no script and no external resource (a chart is inlined as a ``data:`` PNG); every string is
escaped. It reads like the PDF, in the viewer's fonts.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Final

from jutaku.reports.document import Chart, Document, Paragraph, SignOff, Table

STYLE: Final = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
                "td,th{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#eee}"
                "td.num{text-align:right}tr.flag td{background:#fff4e0}p.small{font-size:85%;color:#444}"
                ".sign{margin-top:2em;border:1px solid #000;padding:1em;width:24em}")


def _paragraph(p: Paragraph) -> str:
    return f'<p class="small">{escape(p.text)}</p>' if p.small else f"<p>{escape(p.text)}</p>"


def _table(t: Table) -> str:
    if not t.rows:
        return f"<p>{escape(t.empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in t.headers)
    body = "".join(
        ('<tr class="flag">' if n in t.flagged else "<tr>")
        + "".join(f'<td class="num">{escape(c)}</td>' if i in t.numeric else f"<td>{escape(c)}</td>"
                  for i, c in enumerate(row))
        + "</tr>" for n, row in enumerate(t.rows))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(c: Chart) -> str:
    data = base64.b64encode(c.png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(c.caption)}" style="max-width:100%">'
            f"<figcaption>{escape(c.caption)}</figcaption></figure>")


def _sign_off(s: SignOff) -> str:
    return '<div class="sign">' + "<br><br>".join(escape(line) for line in s.lines) + "</div>"


def render(doc: Document) -> str:
    """The HTML page of ``doc``."""
    blocks = {Paragraph: _paragraph, Table: _table, Chart: _chart, SignOff: _sign_off}
    body = "".join(f"<h2>{escape(s.title)}</h2>" + "".join(blocks[type(b)](b) for b in s.blocks)  # type: ignore[operator]
                   for s in doc.sections)
    lead = "".join(_paragraph(p) for p in doc.lead)
    return (f'<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8"><title>{escape(doc.title)}</title>'
            f"<style>{STYLE}</style></head><body>\n<h1>{escape(doc.title)}</h1>\n{lead}\n{body}\n</body></html>\n")
