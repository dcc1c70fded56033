"""The PDF renderer (ADR 0022): Japanese text that a reader can extract, the Japanese font embedded as a
subset, tables that wrap Japanese by character and follow the line-breaking rules, a header on every page."""

from __future__ import annotations

import io
from typing import ClassVar

import pytest
from pypdf import PdfReader

from jutaku.reports import fonts, html, pdf
from jutaku.reports.document import Chart, Document, Paragraph, Section, SignOff, table
from tests.reports_support import assert_japanese_font_embedded, flat, pdf_fonts, pdf_text

ADDRESS = "〒160-0023 東京都新宿区西新宿二丁目８番１号 都営西新宿アパート１号棟１０１号室、とても長い住所の例。"


def _doc(rows: int = 3) -> Document:
    body = [[f"{1000000000 + i:010d}", "退去", "高橋 洋子（takahashi.y）", ADDRESS] for i in range(rows)]
    return Document(
        title="保有個人情報開示書（特定個人情報）",
        lead=(Paragraph("作成日時: 2026-04-01 09:30　番号は下4桁のみ表示しています。"),),
        sections=(Section("1. 本人に関する情報", (table(["個人ID", "削除理由", "利用者", "住所"], body, flagged=[1]),)),
                  Section("2. 確認", (SignOff(("確認者（所属・氏名）:", "確認日:　　年　　月　　日")),
                                      table(["項目"], [], empty="記録はありません。")))),
        footer="開示書　個人ID 1000000001")


def test_the_text_is_japanese_and_extractable() -> None:
    text = pdf_text(pdf.render(_doc()))
    assert "保有個人情報開示書（特定個人情報）" in text and "1. 本人に関する情報" in text
    assert "高橋 洋子（takahashi.y）" in text and "1000000002" in text and "記録はありません。" in text
    assert "確認者（所属・氏名）" in text and "開示書　個人ID 1000000001" in text and "1 / 1" in text
    assert ADDRESS.replace(" ", "") in flat(text).replace(" ", "")  # wrapped, but whole


def test_the_japanese_font_is_embedded_as_a_truetype_subset_and_nothing_else_is_used() -> None:
    data = pdf.render(_doc())
    assert_japanese_font_embedded(data)
    assert [f.subtype for f in pdf_fonts(data)] == ["/CIDFontType2"]  # TrueType outlines, Identity-H
    # A subset: a few hundred glyphs, not the whole 6 MB font.
    assert len(data) < 200_000 < fonts.japanese_font().stat().st_size


def test_a_long_table_repeats_its_header_on_every_page_and_numbers_the_pages() -> None:
    reader = PdfReader(io.BytesIO(pdf.render(_doc(rows=120))))
    assert len(reader.pages) > 2
    for n, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        assert "個人ID" in text and "削除理由" in text and f"{n} / {len(reader.pages)}" in text
    every = "".join(p.extract_text() for p in reader.pages)
    assert all(f"{1000000000 + i:010d}" in every for i in range(120))


class TestWrapping:
    writer: ClassVar[pdf._Writer]

    @classmethod
    def setup_class(cls) -> None:
        cls.writer = pdf._Writer(Document(title="t"))
        cls.writer.font(pdf.TABLE_SIZE)

    def test_lines_fit_and_no_line_starts_with_a_closing_mark(self) -> None:
        text = "個人番号（暗号文・検索索引）、団体内統合利用番号、情報照会・住基ネット照会の要求と結果。手続（不開示希望を含む）、状態の履歴。" * 3
        for width in (20.0, 33.3, 47.0, 80.0):
            lines = self.writer.wrap(text, width)
            assert "".join(lines) == text
            assert all(line[:1] not in pdf.NO_LINE_START for line in lines[1:]), lines
            assert all(line[-1:] not in pdf.NO_LINE_END for line in lines), lines
            mark = max(self.writer.width(c) for c in pdf.NO_LINE_START)  # a hung mark may stick out
            assert all(self.writer.text_width(line) <= width + mark for line in lines), lines

    def test_a_latin_word_is_kept_whole_when_it_fits_on_a_line(self) -> None:
        lines = self.writer.wrap("承認者 高橋 洋子 takahashi.yoko 確認済み", 30.0)
        assert any("takahashi.yoko" in line for line in lines), lines

    def test_a_word_wider_than_the_column_is_cut_not_overflowing(self) -> None:
        word = "x" * 80
        lines = self.writer.wrap(word, 15.0)
        assert "".join(lines) == word and len(lines) > 1
        assert all(self.writer.text_width(line) <= 15.0 for line in lines)

    def test_line_breaks_in_the_text_are_kept(self) -> None:
        assert self.writer.wrap("一行目\n二行目", 100.0) == ["一行目", "二行目"]


def test_a_chart_is_placed_as_an_image_with_its_caption() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (300, 150), (40, 90, 200)).save(buffer, format="PNG")
    doc = Document(title="統計", sections=(Section("進捗の図", (Chart(buffer.getvalue(), "情報照会の進捗"),)),))
    data = pdf.render(doc)
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert len(page.images) == 1 and "情報照会の進捗" in page.extract_text()


def test_the_html_rendering_of_the_same_document_escapes_and_marks_flagged_rows() -> None:
    doc = Document(title="<題>", sections=(Section("表", (table(["a", "b"], [["<script>", "1"], ["x", "2"]],
                                                                  flagged=[1], numeric=[1]),)),))
    page = html.render(doc)
    assert "&lt;script&gt;" in page and "<script>" not in page and "&lt;題&gt;" in page
    assert '<tr class="flag"><td>x</td><td class="num">2</td></tr>' in page


def test_a_table_row_must_have_one_cell_per_column() -> None:
    with pytest.raises(ValueError, match="row 1"):
        table(["a", "b"], [["only one"]])
