"""Statistics without identifying individuals (統計は個人を特定できない形で): small-cell suppression, pure.

A two-way table of counts is shown with its row and column totals. **Primary suppression**: every cell
(totals included) with ``0 < count < k`` is hidden and shown as ``<k``. **Complementary suppression**:
a hidden cell could be recovered by subtraction whenever it is the only hidden cell of its row or column
(the totals are shown), so the smallest other non-zero visible cell of that line is hidden too (shown
as ``x``), and the rule is applied again until every line of the table — the total row and column
included — holds either no hidden cell or at least two. Zeros stay visible: they identify nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

DEFAULT_K: Final = 10
PRIMARY: Final = "primary"
COMPLEMENTARY: Final = "complementary"


@dataclass(frozen=True)
class Table:
    """Counts with their totals: ``cells[i][j]``; row ``len(rows)`` and column ``len(cols)`` are totals."""

    title: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]
    hidden: tuple[tuple[str, ...], ...]  # "", PRIMARY or COMPLEMENTARY, same shape as ``cells``

    def shown(self, i: int, j: int, k: int) -> str:
        mark = self.hidden[i][j]
        if mark == PRIMARY:
            return f"<{k}"
        if mark == COMPLEMENTARY:
            return "x"
        return str(self.cells[i][j])


def with_totals(counts: Sequence[Sequence[int]], columns: int) -> list[list[int]]:
    """The table (``columns`` wide, maybe without rows) extended by a total column and a total row."""
    out = [[*row, sum(row)] for row in counts]
    out.append([sum(row[j] for row in out) for j in range(columns + 1)])
    return out


def suppress(title: str, rows: Sequence[str], cols: Sequence[str], counts: Sequence[Sequence[int]],
             k: int = DEFAULT_K) -> Table:
    """Apply primary and complementary suppression to ``counts`` (without totals; they are added)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if any(len(r) != len(cols) for r in counts) or len(counts) != len(rows):
        raise ValueError("counts must have one row per row label and one value per column label")
    if any(v < 0 for r in counts for v in r):
        raise ValueError("counts are never negative")
    cells = with_totals(counts, len(cols))
    hidden = [[PRIMARY if 0 < v < k else "" for v in row] for row in cells]
    changed = True
    while changed:
        changed = False
        lines = [[(i, j) for j in range(len(cells[0]))] for i in range(len(cells))]
        lines += [[(i, j) for i in range(len(cells))] for j in range(len(cells[0]))]
        for line in lines:
            if sum(1 for i, j in line if hidden[i][j]) != 1:
                continue
            open_cells = [(cells[i][j], i, j) for i, j in line if not hidden[i][j] and cells[i][j] > 0]
            if not open_cells:  # cannot happen: the line's total is non-zero whenever one of its cells is
                continue
            _, i, j = min(open_cells)
            hidden[i][j] = COMPLEMENTARY
            changed = True
    return Table(title, tuple(rows), tuple(cols), tuple(tuple(r) for r in cells), tuple(tuple(r) for r in hidden))


def single_hidden_lines(table: Table) -> list[tuple[str, int]]:
    """Lines (``("row", i)`` or ``("col", j)``) holding exactly one hidden cell next to a visible non-zero:
    what :func:`suppress` must never leave. Empty for every table it returns (a property test)."""
    found: list[tuple[str, int]] = []
    n, m = len(table.cells), len(table.cells[0])
    for i in range(n):
        if _single(table, [(i, j) for j in range(m)]):
            found.append(("row", i))
    for j in range(m):
        if _single(table, [(i, j) for i in range(n)]):
            found.append(("col", j))
    return found


def _single(table: Table, line: list[tuple[int, int]]) -> bool:
    hidden = [(i, j) for i, j in line if table.hidden[i][j]]
    return len(hidden) == 1 and any(not table.hidden[i][j] and table.cells[i][j] > 0 for i, j in line)
