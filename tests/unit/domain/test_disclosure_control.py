"""Small-cell suppression (jutaku.domain.disclosure_control): properties over random tables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.disclosure_control import COMPLEMENTARY, PRIMARY, single_hidden_lines, suppress

tables = st.integers(1, 6).flatmap(lambda w: st.lists(
    st.lists(st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 500)), min_size=w, max_size=w),
    min_size=1, max_size=6))


@given(tables, st.integers(2, 20))
def test_every_small_cell_is_hidden_and_no_line_holds_a_single_hidden_cell(counts: list[list[int]], k: int) -> None:
    t = suppress("t", [f"r{i}" for i in range(len(counts))], [f"c{j}" for j in range(len(counts[0]))], counts, k)
    for i, row in enumerate(t.cells):
        for j, v in enumerate(row):
            assert (t.hidden[i][j] == PRIMARY) == (0 < v < k)
            assert t.hidden[i][j] != COMPLEMENTARY or v > 0
    assert single_hidden_lines(t) == []
    # Totals are the sums of what they total, and zeros are never hidden.
    assert all(row[-1] == sum(row[:-1]) for row in t.cells)
    assert all(not t.hidden[i][j] for i, row in enumerate(t.cells) for j, v in enumerate(row) if v == 0)


def test_a_single_small_cell_takes_a_partner_in_its_row_and_column() -> None:
    t = suppress("t", ["a", "b"], ["x", "y"], [[3, 40], [50, 60]], k=10)
    assert [t.shown(i, j, 10) for i in range(3) for j in range(3)] == \
        ["<10", "x", "43", "x", "x", "110", "53", "100", "153"]  # 4 unknowns, 3 independent equations


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        suppress("t", ["a"], ["x"], [[-1]])
    with pytest.raises(ValueError):
        suppress("t", ["a"], ["x", "y"], [[1]])


def test_a_table_without_rows_still_has_its_total_row() -> None:
    t = suppress("t", [], ["x", "y"], [])
    assert t.cells == ((0, 0, 0),) and [t.shown(0, j, 10) for j in range(3)] == ["0", "0", "0"]
