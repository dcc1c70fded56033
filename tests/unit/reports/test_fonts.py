"""The Japanese font comes with the Python install (a wheel), is TrueType, and its absence is said clearly."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from jutaku.reports import fonts


def test_the_packaged_font_is_a_truetype_ipaex_gothic_from_the_python_install() -> None:
    path = fonts.japanese_font()
    assert path.name == "ipaexg.ttf" and path.stat().st_size > 1_000_000
    assert path.read_bytes()[:4] == b"\x00\x01\x00\x00"
    assert "site-packages" in path.parts  # no system font package needed


def test_a_missing_package_is_refused_in_japanese_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    fonts.japanese_font.cache_clear()
    monkeypatch.setattr(fonts.metadata, "distribution", missing)
    try:
        with pytest.raises(fonts.FontMissing, match=r"日本語フォント.*make install"):
            fonts.japanese_font()
    finally:
        fonts.japanese_font.cache_clear()


def test_a_font_that_is_not_truetype_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cff = tmp_path / "fonts" / "ipaexg.ttf"
    cff.parent.mkdir()
    cff.write_bytes(b"OTTO" + b"\0" * 64)  # CFF outlines

    class Fake:
        def locate_file(self, name: str) -> Path:
            return cff

    fonts.japanese_font.cache_clear()
    monkeypatch.setattr(fonts.metadata, "distribution", lambda name: Fake())
    try:
        with pytest.raises(fonts.FontMissing, match="TrueType"):
            fonts.japanese_font()
    finally:
        fonts.japanese_font.cache_clear()
