"""Every listing command prints one kind of table (issue 14 item 4): Japanese headers, columns aligned by
display width — a full-width character takes two terminal columns — and nothing but plain text."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from jutaku.clikit import echo_table, format_table, text_width


@pytest.mark.parametrize(("text", "width"), [
    ("", 0), ("abc", 3), ("個人番号", 8), ("ｱｲｳ", 3), ("ＡＢ１", 6), ("カﾞ", 3), ("が", 2),
    ("e\u0301", 1), ("R_HEADER 拒否", 13), ("・", 2), ("—", 1),
])
def test_text_width_counts_full_width_characters_twice(text: str, width: int) -> None:
    assert text_width(text) == width


def starts(line: str, cells: list[str]) -> list[int]:
    """The display column at which each cell begins in ``line``."""
    found, at, rest = [], 0, line
    for cell in cells:
        skipped = len(rest) - len(rest.lstrip(" "))
        at += skipped
        rest = rest[skipped:]
        assert rest.startswith(cell), (line, cell)
        found.append(at)
        at += text_width(cell)
        rest = rest[len(cell):]
    return found


def test_columns_line_up_whatever_the_width_of_the_characters() -> None:
    headers = ["番号", "種類", "依頼者", "内容"]
    rows = [["#1", "役割付与（セキュリティ管理者・責任者）", "sato.k", "利用者: tanaka.h、付与する役割: 責任者"],
            ["#12", "個人番号の一括削除", "ｻﾄｳ", "対象: 1,234 人"],
            ["#123", "export", "佐藤　健", "-"]]
    lines = format_table(headers, rows)
    assert lines[1].replace(" ", "").strip("-") == ""  # a rule of ASCII hyphens under the header
    columns = [starts(lines[0], headers), *(starts(line, row) for line, row in zip(lines[2:], rows, strict=True))]
    assert all(c == columns[0] for c in columns), columns
    assert columns[0][1] == text_width("#123") + 2  # two spaces between columns
    assert not any(line.endswith(" ") for line in lines)


def test_numbers_are_right_aligned_and_empty_cells_and_line_breaks_stay_on_one_line() -> None:
    lines = format_table(["結果コード", "件数", "内容"], [["OK", "1,200", "登録しました"], ["E03", "7", None],
                                                  ["", "3", "行1\n行2\t列"]], right={1})
    assert lines[2].endswith("登録しました") and lines[3].endswith(" -") and lines[4].endswith("行1 行2 列")
    assert lines[4].startswith("-")  # the empty code cell
    ends = {text_width(line[:line.index(n) + len(n)]) for line, n in zip(lines[2:], ["1,200", "7", "3"], strict=True)}
    assert len(ends) == 1  # the counts end in the same column
    assert len(lines) == 5


def test_a_row_with_a_missing_cell_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="one cell per header"):
        format_table(["a", "b"], [["only one"]])


def test_the_table_is_plain_text_even_on_a_terminal() -> None:
    @click.command()
    def listing() -> None:
        echo_table(["利用者", "役割"], [["sato.k", "セキュリティ管理者"]])

    @click.command()
    def nothing() -> None:
        echo_table(["利用者"], [], empty="利用者はいません。")

    shown = CliRunner().invoke(listing, [], color=True).output
    assert "\x1b" not in shown and not any(ch in shown for ch in "│─┃━┌└")
    assert shown.splitlines()[0] == "利用者  役割"
    assert CliRunner().invoke(nothing, []).output == "利用者はいません。\n"
