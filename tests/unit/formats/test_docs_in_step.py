"""``docs/formats`` is generated from the layouts and must stay in step with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from jutaku.formats import docgen
from jutaku.formats.layouts import LAYOUTS
from jutaku.formats.validate import compile_layout

DOCS = Path(__file__).resolve().parents[3] / "docs" / "formats"


def test_committed_docs_equal_the_generated_docs(tmp_path: Path) -> None:
    assert docgen.main([str(tmp_path)]) == 0
    generated = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.md")}
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert sorted(committed) == sorted(generated), "run: python -m jutaku.formats.docgen docs/formats"
    for name, text in generated.items():
        assert committed[name] == text, f"docs/formats/{name} is stale: python -m jutaku.formats.docgen docs/formats"


def test_every_interface_has_a_page() -> None:
    assert set(docgen.render_all()) == {f"{name}.md" for name in LAYOUTS} | {"README.md"}


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
def test_samples_are_valid_rows(layout) -> None:  # type: ignore[no-untyped-def]
    row = docgen.sample_row(layout)
    assert compile_layout(layout)(list(row.values()))[1] == ()


def test_usage_error_without_a_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert docgen.main([]) == 2
    assert "usage" in capsys.readouterr().err
