"""Reading back what the report writers made: a PDF's text and fonts (pypdf), a workbook's parts.

A PDF's text is stored as glyph ids in compressed streams and a workbook is a ZIP: a byte scan of either
finds nothing, whatever they hold. So the leak checks run on what a reader sees — the PDF's extracted text,
the workbook's uncompressed XML parts — with the project's scanner (:mod:`jutaku.domain.leakscan`).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from pypdf import PdfReader

from jutaku.domain import leakscan


@dataclass(frozen=True)
class PdfFont:
    name: str
    subtype: str
    embedded: bool


def pdf_text(data: bytes) -> str:
    """The text of every page, as a viewer copies it (wrapped cells come back in pieces)."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    """Text with its line breaks taken out (a phrase wrapped in a cell is found whole)."""
    return text.replace("\n", "")


def pdf_fonts(data: bytes) -> list[PdfFont]:
    """Every font the pages use, with whether its program is embedded in the file (FontFile, FontFile2 or
    FontFile3 in its descriptor — that of its descendant CID font for a Type0 font)."""
    found: dict[str, PdfFont] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            subtype = str(font.get("/Subtype"))
            descriptor_of = font["/DescendantFonts"][0].get_object() if subtype == "/Type0" else font
            descriptor = descriptor_of.get("/FontDescriptor")
            keys = set(descriptor.get_object().keys()) if descriptor is not None else set()
            name = str(font.get("/BaseFont"))
            found[name] = PdfFont(name, str(descriptor_of.get("/Subtype")),
                                  bool(keys & {"/FontFile", "/FontFile2", "/FontFile3"}))
    return list(found.values())


def assert_japanese_font_embedded(data: bytes) -> None:
    """The PDF uses the packaged IPAex Gothic, embedded as a subset (``ABCDEF+`` prefix), and no font that
    is not embedded."""
    fonts = pdf_fonts(data)
    assert fonts, "no font"
    assert all(f.embedded for f in fonts), fonts
    assert any(f.name.endswith("+IPAexGothic") and len(f.name.split("+")[0]) == 7 for f in fonts), fonts


def workbook_xml(data: bytes) -> bytes:
    """Every part of a workbook (a ZIP of XML), uncompressed and joined."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return b"\n".join(book.read(name) for name in book.namelist())


def numbers_in(text: str | bytes) -> list[leakscan.Finding]:
    return list(leakscan.scan(text.encode("utf-8") if isinstance(text, str) else text))
