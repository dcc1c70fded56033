"""The statistics charts are drawn without a word about fonts, with or without a Japanese font on the machine
(issue 14 item 13: `make demo` printed font warnings). Warnings are errors in this test run (pyproject), and
matplotlib's log records are captured here."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from jutaku.domain.disclosure_control import PRIMARY, Table
from jutaku.stats import plots

TABLE = Table("個人番号の登録状況", ("都営住宅", "福祉住宅", "引揚者住宅"), ("登録済み", "未登録"),
              ((120, 30, 150), (40, 3, 43), (12, 15, 27), (172, 48, 220)),
              (("", "", ""), ("", PRIMARY, ""), ("", "", ""), ("", "", "")))


@pytest.fixture
def fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """matplotlib's font list and settings as each test leaves them, restored afterwards."""
    import matplotlib
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager.fontManager, "ttflist", list(font_manager.fontManager.ttflist))
    monkeypatch.setitem(matplotlib.rcParams, "font.family", list(matplotlib.rcParams["font.family"]))
    monkeypatch.setattr(plots, "_READY", {})  # choose the fonts again
    yield monkeypatch


def _no_packaged_font(fonts: pytest.MonkeyPatch) -> None:
    """As if the Japanese font that comes with the Python install (ADR 0022) were missing too."""
    from jutaku.reports import fonts as packaged

    def missing() -> Path:
        raise packaged.FontMissing("matplotlib-fontja がインストールされていません")

    fonts.setattr(packaged, "japanese_font", missing)


def _draw_quietly(caplog: pytest.LogCaptureFixture) -> str:
    caplog.set_level(logging.DEBUG)
    svg = plots.svg_bytes(TABLE, 10, ylabel="件数（行）").decode("utf-8")
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert said == [], [r.getMessage() for r in said]
    assert "個人番号の登録状況" in svg and "都営住宅" in svg and "件数（行）" in svg  # the text stays Japanese
    assert "10未満の値と相補秘匿の値（1件）は描いていません" in svg
    return svg


def test_charts_are_drawn_quietly_on_a_machine_without_a_japanese_font(
        fonts: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import matplotlib
    from matplotlib import font_manager

    latin = [f for f in font_manager.fontManager.ttflist if f.name.startswith("DejaVu")]
    assert latin, "matplotlib ships DejaVu"
    fonts.setattr(font_manager.fontManager, "ttflist", latin)  # the font lookup finds no CJK font
    _no_packaged_font(fonts)
    _draw_quietly(caplog)
    assert matplotlib.rcParams["font.family"] == ["sans-serif"]


def test_without_a_system_japanese_font_the_packaged_one_draws_the_charts(
        fonts: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import matplotlib
    from matplotlib import font_manager

    latin = [f for f in font_manager.fontManager.ttflist if f.name.startswith("DejaVu")]
    fonts.setattr(font_manager.fontManager, "ttflist", latin)
    _draw_quietly(caplog)
    assert matplotlib.rcParams["font.family"] == ["IPAexGothic", "sans-serif"]


def test_charts_use_a_japanese_font_the_machine_has(fonts: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    import matplotlib
    from matplotlib import font_manager

    if not {f.name for f in font_manager.fontManager.ttflist} & set(plots._JAPANESE_FONTS):
        pytest.skip("no Japanese font on this machine (apt-get install fonts-noto-cjk)")
    _draw_quietly(caplog)
    assert matplotlib.rcParams["font.family"][0] in plots._JAPANESE_FONTS


def test_a_japanese_font_removed_since_matplotlibs_cache_was_written_is_not_asked_for(
        fonts: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """A font the cache lists but the machine no longer has (fonts-noto-cjk removed, a copied home): asking
    for it makes matplotlib rebuild its font cache and say so; the charts fall back without asking."""
    import matplotlib
    from matplotlib import font_manager

    latin = [f for f in font_manager.fontManager.ttflist if f.name.startswith("DejaVu")]
    gone = dataclasses.replace(latin[0], fname=str(tmp_path / "NotoSansCJK-Regular.ttc"), name="Noto Sans CJK JP")
    fonts.setattr(font_manager.fontManager, "ttflist", [*latin, gone])

    def rebuild(**_: object) -> None:
        raise AssertionError("the font cache was rebuilt")

    fonts.setattr(font_manager, "_load_fontmanager", rebuild)
    _no_packaged_font(fonts)
    _draw_quietly(caplog)
    assert matplotlib.rcParams["font.family"] == ["sans-serif"]
