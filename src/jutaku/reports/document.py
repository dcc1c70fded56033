"""The report model every renderer reads: a document of sections of blocks, all text already in words.

A service turns its data into a :class:`Document` — codes already replaced by their labels, times already
in JST, numbers already masked — and each renderer only lays it out. :func:`texts` yields every string a
document holds, so that a writer can refuse a document holding a written My Number before it renders
anything (ADR 0020: writers refuse).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

#: What a table without rows says (a renderer never prints an empty grid).
NO_RECORDS: Final = "記録はありません。"


@dataclass(frozen=True)
class Paragraph:
    text: str
    small: bool = False


@dataclass(frozen=True)
class Table:
    """Rows of text under a header row. ``widths``: relative column widths (default: equal); ``flagged``:
    indexes of rows to highlight (the access review's 要確認); ``numeric``: columns aligned right."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()
    empty: str = NO_RECORDS
    flagged: frozenset[int] = frozenset()
    numeric: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.widths and len(self.widths) != len(self.headers):
            raise ValueError("one width per column")
        for n, row in enumerate(self.rows, 1):
            if len(row) != len(self.headers):
                raise ValueError(f"row {n}: {len(row)} cells for {len(self.headers)} columns")


@dataclass(frozen=True)
class Chart:
    """A chart drawn beforehand (PNG bytes) and what it shows, in words (for a reader without the image)."""

    png: bytes
    caption: str


@dataclass(frozen=True)
class SignOff:
    """Boxes for a reviewer's sign-off on paper (確認者・確認日・印)."""

    lines: tuple[str, ...]


Block = Paragraph | Table | Chart | SignOff


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """A report: its title, the lead paragraphs under it, its sections; ``landscape`` for wide tables."""

    title: str
    lead: tuple[Paragraph, ...] = ()
    sections: tuple[Section, ...] = ()
    landscape: bool = False
    #: Printed at the foot of every PDF page, beside the page number (who may read it).
    footer: str = ""
    subject: str = field(default="")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, widths: Sequence[float] = (),
          empty: str = NO_RECORDS, flagged: Sequence[int] = (), numeric: Sequence[int] = ()) -> Table:
    """A :class:`Table` from lists (the builders' convenience)."""
    return Table(tuple(headers), tuple(tuple(r) for r in rows), tuple(widths), empty, frozenset(flagged),
                 frozenset(numeric))


def texts(doc: Document) -> Iterator[str]:
    """Every string of ``doc``: title, footer, paragraphs, captions, headers, cells, sign-off lines."""
    yield from (doc.title, doc.footer, doc.subject)
    yield from (p.text for p in doc.lead)
    for section in doc.sections:
        yield section.title
        for block in section.blocks:
            if isinstance(block, Paragraph):
                yield block.text
            elif isinstance(block, Table):
                yield from block.headers
                yield block.empty
                for row in block.rows:
                    yield from row
            elif isinstance(block, Chart):
                yield block.caption
            else:
                yield from block.lines
