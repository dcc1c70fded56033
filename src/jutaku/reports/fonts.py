"""The Japanese font every PDF embeds: IPAex Gothic, a TrueType font shipped inside a Python wheel.

The font comes with the Python install (ADR 0022): the ``matplotlib-fontja`` package carries
``ipaexg.ttf`` (IPAexゴシック, IPA Font License v1.0), so ``make install`` / ``pip install`` is all a
machine needs — no Debian font package, no download at run time. Its outlines are TrueType (``glyf``),
which every PDF library and viewer can embed as a subset; Debian's Noto CJK fonts are CFF collections
(``.ttc``), and ReportLab's built-in Japanese CID fonts are not embedded at all.

The file is located through the package's installed metadata, without importing the package (importing it
would change matplotlib's global font settings).
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Final

#: The family name the renderers register the font under.
FAMILY: Final = "IPAexGothic"
DISTRIBUTION: Final = "matplotlib-fontja"
FILE: Final = "matplotlib_fontja/fonts/ipaexg.ttf"
#: First four bytes of a font with TrueType outlines (version 1.0 or Apple's 'true').
_TRUETYPE: Final = (b"\x00\x01\x00\x00", b"true")


class FontMissing(RuntimeError):
    """The Japanese font is not installed (message in Japanese, with what to do)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "PDF に埋め込む日本語フォント（IPAexゴシック: Python パッケージ matplotlib-fontja）が見つかりません"
            f"（{detail}）。インストールをやり直してください（make install、または pip install -e .）。")


@cache
def japanese_font() -> Path:
    """The path of the TrueType Japanese font, or :class:`FontMissing`."""
    try:
        located = metadata.distribution(DISTRIBUTION).locate_file(FILE)
    except metadata.PackageNotFoundError:
        raise FontMissing(f"{DISTRIBUTION} がインストールされていません") from None
    path = Path(str(located))
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError:
        raise FontMissing(f"{path} を読めません") from None
    if head not in _TRUETYPE:
        raise FontMissing(f"{path.name} は TrueType フォントではありません")
    return path
