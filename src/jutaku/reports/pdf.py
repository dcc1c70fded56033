"""A :class:`~jutaku.reports.document.Document` as a PDF (A4), the Japanese font embedded as a subset.

Rendered with fpdf2 (ADR 0022) in memory — no temporary file — with IPAex Gothic
(:mod:`jutaku.reports.fonts`) embedded as a TrueType subset (CID font, Identity-H, with a ToUnicode map so
that the text can be searched and copied). Tables are laid out here rather than by fpdf2's table helper:
cells wrap character by character, as Japanese is written (no spaces to break at), keep Latin words
whole when they can, follow the basic line-breaking rules (no 、。」 at the start of a line), repeat their
header row on every page, and cost a fraction of a millisecond per cell (a deletion record lists every
person deleted). Every page carries the document's footer and ``page / pages``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from fpdf import FPDF

from jutaku.reports import fonts
from jutaku.reports.document import Chart, Document, Paragraph, SignOff, Table

MARGIN: Final = 14.0  # mm
FOOTER_SPACE: Final = 10.0
PAD: Final = 1.2
TITLE_SIZE: Final = 15.0
SECTION_SIZE: Final = 11.5
TEXT_SIZE: Final = 9.0
TABLE_SIZE: Final = 8.0
SMALL_SIZE: Final = 7.5
LINE: Final = 1.38  # line height / font size
HEADER_FILL: Final = (230, 230, 230)
FLAG_FILL: Final = (255, 244, 224)
#: Characters that may not begin a line (行頭禁則), hung at the end of the line before instead.
NO_LINE_START: Final = frozenset("、。，．,.・：:；;？?！!）)」』】〕〉》］]｝}’”ーゝゞ々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ％%")
#: Characters that may not end a line (行末禁則): moved to the next line.
NO_LINE_END: Final = frozenset("（(「『【〔〈《［[｛{‘“〒")
_PT_TO_MM: Final = 25.4 / 72


class _Pdf(FPDF):
    def __init__(self, doc: Document) -> None:
        super().__init__(orientation="L" if doc.landscape else "P", unit="mm", format="A4")
        self.doc_footer = doc.footer

    def footer(self) -> None:  # fpdf2 calls it at the end of every page
        self.set_y(-MARGIN + 2)
        self.set_font(fonts.FAMILY, size=SMALL_SIZE)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, f"{self.doc_footer}　{self.page_no()} / {{nb}}".strip("　"), align="C")
        self.set_text_color(0, 0, 0)


class _Writer:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        pdf = _Pdf(doc)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(False)
        pdf.alias_nb_pages()
        pdf.add_font(fonts.FAMILY, fname=str(fonts.japanese_font()))
        pdf.set_font(fonts.FAMILY, size=TEXT_SIZE)
        pdf.c_margin = 0
        pdf.set_lang("ja")
        pdf.set_title(doc.title)
        if doc.subject:
            pdf.set_subject(doc.subject)
        pdf.set_creator("都営住宅マイナンバー管理システム (Jutaku)")
        self.pdf = pdf
        self.size = TEXT_SIZE
        self._widths: dict[tuple[str, float], float] = {}
        pdf.add_page()

    # --- text metrics and wrapping ---------------------------------------------------------------

    @property
    def body_width(self) -> float:
        return float(self.pdf.w) - 2 * MARGIN

    @property
    def bottom(self) -> float:
        return float(self.pdf.h) - MARGIN - FOOTER_SPACE

    def font(self, size: float) -> None:
        self.size = size
        self.pdf.set_font(fonts.FAMILY, size=size)

    def width(self, ch: str) -> float:
        key = (ch, self.size)
        w = self._widths.get(key)
        if w is None:
            w = self._widths[key] = float(self.pdf.get_string_width(ch))
        return w

    def text_width(self, text: str) -> float:
        return sum(self.width(ch) for ch in text)

    def wrap(self, text: str, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (line-breaking rules in the module doc)."""
        lines: list[str] = []
        for paragraph in text.replace("\r\n", "\n").split("\n"):
            lines.extend(self._wrap_one(paragraph, width))
        return lines or [""]

    def _wrap_one(self, text: str, width: float) -> list[str]:
        lines: list[str] = []
        line: list[str] = []
        used = 0.0
        for ch in text:
            w = self.width(ch)
            if line and used + w > width:
                if ch in NO_LINE_START:  # hang it at the end of this line
                    line.append(ch)
                    lines.append("".join(line))
                    line, used = [], 0.0
                    continue
                carry = _carry(line, ch)
                if len(carry) >= len(line) or sum(self.width(c) for c in carry) + w > width:
                    carry = []  # nothing would be left, or the word is wider than a line: cut it
                kept = line[:len(line) - len(carry)] if carry else line
                lines.append("".join(kept).rstrip(" "))
                line = carry
                used = sum(self.width(c) for c in line)
                if ch == " " and not line:
                    continue
            line.append(ch)
            used += w
        if line or not lines:
            lines.append("".join(line))
        return lines

    def line_height(self) -> float:
        return self.size * _PT_TO_MM * LINE

    # --- page flow ---------------------------------------------------------------------------------

    def room(self) -> float:
        return self.bottom - float(self.pdf.get_y())

    def new_page(self) -> None:
        self.pdf.add_page()

    def ensure(self, height: float) -> None:
        if height > self.room():
            self.new_page()

    def gap(self, height: float) -> None:
        if self.room() > height:
            self.pdf.set_y(float(self.pdf.get_y()) + height)
        else:
            self.new_page()

    def lines(self, text: str, size: float, *, color: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.font(size)
        h = self.line_height()
        self.pdf.set_text_color(*color)
        for line in self.wrap(text, self.body_width):
            self.ensure(h)
            self.pdf.set_x(MARGIN)
            self.pdf.cell(self.body_width, h, line)
            self.pdf.set_y(float(self.pdf.get_y()) + h)
        self.pdf.set_text_color(0, 0, 0)

    # --- blocks ------------------------------------------------------------------------------------

    def title(self) -> None:
        self.lines(self.doc.title, TITLE_SIZE)
        self.gap(1.5)
        for p in self.doc.lead:
            self.paragraph(p)
        self.gap(2)

    def section_title(self, title: str, first: object = None) -> None:
        self.font(SECTION_SIZE)
        # a heading is not left alone at the foot of a page: it goes with the start of its first block
        self.ensure(self.line_height() * 2 + (self.chart_height(first) + 8 if isinstance(first, Chart) else 12))
        self.lines(title, SECTION_SIZE)
        y = float(self.pdf.get_y()) + 0.4
        self.pdf.set_draw_color(120, 120, 120)
        self.pdf.line(MARGIN, y, MARGIN + self.body_width, y)
        self.pdf.set_draw_color(0, 0, 0)
        self.gap(2)

    def paragraph(self, p: Paragraph) -> None:
        self.lines(p.text, SMALL_SIZE if p.small else TEXT_SIZE, color=(70, 70, 70) if p.small else (0, 0, 0))
        self.gap(1)

    def table(self, t: Table) -> None:
        if not t.rows:
            self.paragraph(Paragraph(t.empty))
            return
        self.font(TABLE_SIZE if len(t.headers) <= 8 else SMALL_SIZE)
        widths = self.column_widths(t)
        header = [self.wrap(h, w - 2 * PAD) for h, w in zip(t.headers, widths, strict=True)]
        header_h = self.row_height(header)
        self.ensure(header_h + self.row_height([self.wrap(c, w - 2 * PAD) for c, w in
                                                zip(t.rows[0], widths, strict=True)]))
        self.row(header, widths, fill=HEADER_FILL, numeric=frozenset())
        for n, cells in enumerate(t.rows):
            wrapped = [self.wrap(c, w - 2 * PAD) for c, w in zip(cells, widths, strict=True)]
            wrapped = self.fit(wrapped, header_h)
            if self.row_height(wrapped) > self.room():
                self.new_page()
                self.row(header, widths, fill=HEADER_FILL, numeric=frozenset())
            self.row(wrapped, widths, fill=FLAG_FILL if n in t.flagged else None, numeric=t.numeric)
        self.gap(3)

    def fit(self, wrapped: list[list[str]], header_h: float) -> list[list[str]]:
        """A row taller than a page is cut to what a page can hold (the rest marked …)."""
        most = int((self.bottom - MARGIN - header_h - 2 * PAD) // self.line_height())
        return [cell if len(cell) <= most else [*cell[:most - 1], cell[most - 1] + "…"] for cell in wrapped]

    def row_height(self, wrapped: Sequence[Sequence[str]]) -> float:
        return max(len(cell) for cell in wrapped) * self.line_height() + 2 * PAD

    def row(self, wrapped: Sequence[Sequence[str]], widths: Sequence[float], *, fill: tuple[int, int, int] | None,
            numeric: frozenset[int]) -> None:
        pdf, h, lh = self.pdf, self.row_height(wrapped), self.line_height()
        x, y = MARGIN, float(pdf.get_y())
        if fill is not None:
            pdf.set_fill_color(*fill)
        for i, (cell, w) in enumerate(zip(wrapped, widths, strict=True)):
            pdf.rect(x, y, w, h, style="DF" if fill is not None else "D")
            for j, line in enumerate(cell):
                pdf.set_xy(x + PAD, y + PAD + j * lh)
                pdf.cell(w - 2 * PAD, lh, line, align="R" if i in numeric else "L")
            x += w
        pdf.set_xy(MARGIN, y + h)

    def column_widths(self, t: Table) -> list[float]:
        """Explicit relative widths, or each column's natural width (header and the first rows), kept
        between a minimum and a maximum, scaled to the page's width."""
        if t.widths:
            weights = list(t.widths)
        else:
            sample = t.rows[:200]
            weights = []
            for i, head in enumerate(t.headers):
                longest = max([self.text_width(head) * 0.8, *(self.text_width(row[i]) for row in sample)])
                weights.append(min(max(longest + 2 * PAD + 0.5, 12.0), 75.0))
        total = sum(weights)
        return [self.body_width * w / total for w in weights]

    def chart_width(self) -> float:
        return min(self.body_width, 175.0)

    def chart_height(self, c: Chart) -> float:
        from PIL import Image

        with Image.open(io.BytesIO(c.png)) as image:
            px_w, px_h = image.size
        return float(self.chart_width() * px_h / px_w)

    def chart(self, c: Chart) -> None:
        w, h = self.chart_width(), self.chart_height(c)
        self.ensure(h + 8)
        self.pdf.image(io.BytesIO(c.png), x=MARGIN, y=float(self.pdf.get_y()), w=w, h=h, alt_text=c.caption)
        self.pdf.set_y(float(self.pdf.get_y()) + h + 1)
        self.paragraph(Paragraph(c.caption, small=True))
        self.gap(2)

    def sign_off(self, s: SignOff) -> None:
        self.font(TEXT_SIZE)
        lh = self.line_height() * 2.2
        h = lh * len(s.lines) + 2 * PAD
        w = min(self.body_width, 110.0)
        self.ensure(h + 4)
        self.gap(3)
        y = float(self.pdf.get_y())
        self.pdf.rect(MARGIN, y, w, h)
        for i, line in enumerate(s.lines):
            self.pdf.set_xy(MARGIN + 2 * PAD, y + PAD + i * lh)
            self.pdf.cell(w - 4 * PAD, lh, line)
        self.pdf.set_xy(MARGIN, y + h)
        self.gap(3)

    def render(self, created: datetime | None) -> bytes:
        self.title()
        for section in self.doc.sections:
            self.section_title(section.title, section.blocks[0] if section.blocks else None)
            for block in section.blocks:
                draw: Any = {Paragraph: self.paragraph, Table: self.table, Chart: self.chart,
                             SignOff: self.sign_off}[type(block)]
                draw(block)
        if created is not None:
            self.pdf.set_creation_date(created)
        return bytes(self.pdf.output())


def _carry(line: list[str], ch: str) -> list[str]:
    """The tail of ``line`` that moves to the next line with ``ch``: a Latin word cut in two (back to the
    last space, when the word is shorter than the line), or an opening bracket (行末禁則)."""
    if line and line[-1] in NO_LINE_END:
        return line[-1:]
    if not (_latin(ch) and _latin(line[-1])):
        return []
    for i in range(len(line) - 1, max(len(line) - 24, 0) - 1, -1):
        if line[i] in " \u3000":
            return line[i + 1:]
        if not _latin(line[i]):
            return line[i + 1:] if i + 1 < len(line) and i > 0 else []
    return []


def _latin(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "._-@/:#")


def render(doc: Document, *, created: datetime | None = None) -> bytes:
    """The PDF of ``doc`` (bytes). ``created``: the creation date recorded in the file (default: fpdf2's
    clock)."""
    return _Writer(doc).render(created)
