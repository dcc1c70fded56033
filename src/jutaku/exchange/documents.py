"""Writing a printable report (HTML or PDF) or a workbook (xlsx) as an output, like every other file.

A service builds its :class:`~jutaku.reports.document.Document` (or its sheets) once; these functions
render it in the format asked for and hand the bytes to :func:`jutaku.exchange.outbound.write_output`:
encrypted into ``<out>.enc`` when the interface holds specific personal information unless ``plain``
(audited), 0600, on the media ledger (audited ``media:write``) and expiring with the outputs (ADR 0017).
Before anything is rendered, every string of the document is checked: one holding a written My Number
refuses the whole report (ADR 0020: writers refuse), and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from jutaku.accounts.actor import Actor
from jutaku.domain.free_text import contains_my_number
from jutaku.exchange.models import MediaLedgerEntry
from jutaku.exchange.outbound import write_output
from jutaku.reports.document import Document, texts

if TYPE_CHECKING:
    from jutaku.reports.xlsx import Sheet

#: The formats of a printable report; ``html`` is the screen-like page, ``pdf`` the one to print and file.
FORMATS: Final = ("html", "pdf")
#: Format name -> its Japanese name (screens, messages).
FORMAT_LABELS: Final = {"html": "HTML", "pdf": "PDF", "csv": "CSV", "xlsx": "Excel"}


class DocumentRefused(ValueError):
    """The report was not written (message in Japanese, never a value)."""


def check(doc: Document) -> None:
    for text in texts(doc):
        if text and contains_my_number(text):
            raise DocumentRefused(f"「{doc.title}」に個人番号の形の数字が含まれるため、作成しませんでした。")


def render(doc: Document, fmt: str, *, created: datetime | None = None) -> bytes:
    """``doc`` in ``fmt`` (:data:`FORMATS`), after :func:`check`."""
    check(doc)
    if fmt == "html":
        from jutaku.reports import html

        return html.render(doc).encode("utf-8")
    if fmt == "pdf":
        from jutaku.reports import pdf

        return pdf.render(doc, created=created or datetime.now(UTC))
    raise ValueError(f"unknown report format {fmt!r}")


def write_document(doc: Document, path: Path, *, fmt: str, interface: str, actor: Actor, records: int | None = None,
                   recipient: str = "", plain: bool = False) -> tuple[Path, MediaLedgerEntry]:
    """Render ``doc`` and write it as an output of ``interface`` (module doc). Returns the file written
    (``path`` or ``path.enc``) and its ledger row."""
    data = render(doc, fmt)
    return write_output(path, data, interface=interface, actor=actor, records=records, recipient=recipient,
                        plain=plain)


def write_workbook(path: Path, sheets: Sequence[Sheet], *, title: str, interface: str, actor: Actor,
                   plain: bool = False) -> tuple[Path, MediaLedgerEntry, int]:
    """Write the sheets (:class:`jutaku.reports.xlsx.Sheet`) as an Excel workbook output of ``interface``;
    returns the file, its ledger row and the number of rows. A cell holding a written My Number, or more rows
    than a workbook takes, refuses the whole file (:class:`jutaku.reports.xlsx.WorkbookRefused`)."""
    from jutaku.reports import xlsx

    data, rows = xlsx.render(sheets, title=title, created=datetime.now(UTC))
    target, entry = write_output(path, data, interface=interface, actor=actor, records=rows, plain=plain)
    return target, entry, rows
