"""Disclosure control of published tables: exact outputs on hand-built tables and brute-force invariants."""
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.stats import disclosure
from app.stats.disclosure import COMPLEMENTARY, NOTE_ES, PRIMARY, THRESHOLD, protect


def table_of(cells, n_cols=None):
    n_cols = len(cells[0]) if cells else n_cols
    return protect("Tabla", "Fila", [f"f{i}" for i in range(len(cells))], [f"c{j}" for j in range(n_cols)], cells)


def hidden_of(table):
    return {(i, j): reason for i, row in enumerate(table.reasons) for j, reason in enumerate(row) if reason}


def sets_of(n_rows, n_cols):
    """Every row with its row total and every column with its column total (the total row and column too)."""
    return [[(i, j) for j in range(n_cols)] for i in range(n_rows)] + [
        [(i, j) for i in range(n_rows)] for j in range(n_cols)
    ]


# --- independent checkers ---------------------------------------------------------------------------------


def assert_consistent(table, cells):
    """Totals are right, 1..4 is always primary, marks match reasons, visible cells show the real number."""
    n_rows, n_cols = len(cells) + 1, len(table.col_labels)
    assert len(table.values) == n_rows and all(len(row) == n_cols for row in table.values)
    for i, row in enumerate(cells):
        assert table.values[i][:-1] == row
        assert table.values[i][-1] == sum(row)
    for j in range(n_cols):
        assert table.values[-1][j] == sum(table.values[i][j] for i in range(n_rows - 1))
    for i in range(n_rows):
        for j in range(n_cols):
            value, shown, reason = table.values[i][j], table.shown[i][j], table.reasons[i][j]
            if 0 < value < THRESHOLD:
                assert (shown, reason) == ("<5", PRIMARY)
            elif reason is None:
                assert shown == str(value)
            else:
                assert (shown, reason) == ("*", COMPLEMENTARY)


def assert_no_single_subtraction(table):
    """No row or column (with its total) holds exactly one hidden cell: none is one subtraction away."""
    hidden = hidden_of(table)
    for cells in sets_of(len(table.values), len(table.values[0])):
        assert sum(cell in hidden for cell in cells) != 1, cells


def _rank(matrix):
    rows = [[Fraction(v) for v in row] for row in matrix]
    rank, n_cols = 0, len(rows[0]) if rows else 0
    for col in range(n_cols):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col]:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def linearly_determined(values, hidden):
    """Hidden cells whose value follows from the published figures by any combination of rows and columns.

    A hidden cell is determined exactly when its column in the system (hidden unknowns only) is not a
    combination of the other columns, i.e. when dropping it lowers the rank.
    """
    n_rows, n_cols = len(values), len(values[0])
    unknowns = sorted(hidden)
    matrix = [
        [(-1 if cell == cells[-1] else 1) if cell in cells else 0 for cell in unknowns]
        for cells in sets_of(n_rows, n_cols)
    ]
    full = _rank(matrix)
    return {
        cell for k, cell in enumerate(unknowns) if _rank([row[:k] + row[k + 1 :] for row in matrix]) < full
    }


class _Search:
    """Every table a reader could believe, given what is shown (the hidden inner cells enumerated)."""

    def __init__(self, table, budget):
        self.values, self.hidden, self.budget = table.values, hidden_of(table), budget
        self.n_rows, self.n_cols = len(self.values) - 1, len(self.values[0]) - 1
        grand = self.values[-1][-1]
        self.cap = grand if (self.n_rows, self.n_cols) not in self.hidden else 2 * grand + 10
        self.inner_hidden = [(i, j) for i in range(self.n_rows) for j in range(self.n_cols) if (i, j) in self.hidden]
        self.seen = {cell: set() for cell, reason in self.hidden.items() if reason == PRIMARY}
        self.grid = [row[:-1] for row in self.values[:-1]]  # hidden inner cells are overwritten while searching

    def domain(self, cell):
        if self.hidden[cell] == PRIMARY:
            return range(1, THRESHOLD)
        rest = range(THRESHOLD, self.cap + 1)
        return rest if self.values[cell[0]][cell[1]] else [0, *rest]

    def allowed(self, cell, value):
        if cell not in self.hidden:
            return value == self.values[cell[0]][cell[1]]
        return value in self.domain(cell)

    def limit(self, cell):
        return self.values[cell[0]][cell[1]] if cell not in self.hidden else self.cap

    def record(self):
        full = [[*row, sum(row)] for row in self.grid]
        full.append([sum(row[j] for row in full) for j in range(self.n_cols + 1)])
        cells = [(i, j) for i in range(self.n_rows + 1) for j in range(self.n_cols + 1)]
        if all(self.allowed(cell, full[cell[0]][cell[1]]) for cell in cells):
            for cell, found in self.seen.items():
                found.add(full[cell[0]][cell[1]])

    def run(self, k=0):
        self.budget -= 1
        if self.budget < 0:
            raise TimeoutError
        if all(len(found) > 1 for found in self.seen.values()):
            return
        if k == len(self.inner_hidden):
            self.record()
            return
        i, j = self.inner_hidden[k]
        for value in self.domain((i, j)):
            self.grid[i][j] = value
            if sum(self.grid[i][: j + 1]) > self.limit((i, self.n_cols)):
                break
            if sum(self.grid[r][j] for r in range(i + 1)) > self.limit((self.n_rows, j)):
                break
            self.run(k + 1)
        self.grid[i][j] = self.values[i][j]


def brute_force_pinned(table, budget=200_000):
    """Primary cells a reader can pin to one value, by trying every table consistent with what is shown.

    The reader knows visible figures, that "<5" is 1..4 and that "*" is not 1..4 (assumed >= 5 when it
    really is, the same reader the implementation guards against). Returns None when the search is too big.
    """
    search = _Search(table, budget)
    try:
        search.run()
    except TimeoutError:
        return None
    return {cell for cell, found in search.seen.items() if len(found) == 1}


def assert_protected(table, cells):
    assert_consistent(table, cells)
    assert_no_single_subtraction(table)
    hidden = hidden_of(table)
    assert all(table.values[i][j] for i, j in hidden), "zero is never hidden"
    primary = {cell for cell, reason in hidden.items() if reason == PRIMARY}
    assert not (linearly_determined(table.values, hidden) & primary)


# --- hand-built tables ------------------------------------------------------------------------------------


def test_two_by_two_with_one_small_cell():
    table = table_of([[3, 10], [12, 20]])
    assert table.values == [[3, 10, 13], [12, 20, 32], [15, 30, 45]]
    assert table.shown == [["<5", "*", "13"], ["*", "*", "32"], ["15", "30", "45"]]
    assert table.reasons == [
        [PRIMARY, COMPLEMENTARY, None],
        [COMPLEMENTARY, COMPLEMENTARY, None],
        [None, None, None],
    ]
    assert table.row_labels == ["f0", "f1", "Total"] and table.col_labels == ["c0", "c1", "Total"]
    assert table.exposed == []
    assert_protected(table, [[3, 10], [12, 20]])
    assert brute_force_pinned(table) == set()


def test_rows_are_ready_for_csv():
    table = table_of([[3, 10], [12, 20]])
    assert list(table.rows()) == [
        ["Fila", "c0", "c1", "Total"],
        ["f0", "<5", "*", "13"],
        ["f1", "*", "*", "32"],
        ["Total", "15", "30", "45"],
    ]


def test_small_row_total_is_suppressed_too():
    table = table_of([[1, 2], [10, 20]])
    assert table.values[0][2] == 3 and table.reasons[0][2] == PRIMARY
    assert table.shown == [["<5", "<5", "<5"], ["*", "*", "*"], ["11", "22", "33"]]
    assert_protected(table, [[1, 2], [10, 20]])


def test_row_of_zeros_but_one_two():
    cells = [[0, 2, 0], [7, 8, 9]]
    table = table_of(cells)
    # the row itself holds two primary cells (the 2 and its total): nothing more is needed there
    assert table.reasons[0] == [None, PRIMARY, None, PRIMARY]
    # the 2's column gets a complement; the ones it triggers elsewhere follow (a column 0, 7 | 7 must hide
    # its total, since the total would equal the hidden 7)
    assert table.shown == [["0", "<5", "0", "<5"], ["*", "*", "*", "*"], ["*", "10", "*", "26"]]
    assert_protected(table, cells)
    assert brute_force_pinned(table) == set()


def test_lonely_small_cell_hides_the_total_when_the_rest_is_zero():
    cells = [[2, 0], [0, 0]]
    table = table_of(cells)
    assert table.shown == [["<5", "0", "<5"], ["0", "0", "0"], ["<5", "0", "<5"]]
    assert_protected(table, cells)


def test_table_without_small_cells_is_unchanged():
    cells = [[5, 10], [7, 0]]
    table = table_of(cells)
    assert table.shown == [["5", "10", "15"], ["7", "0", "7"], ["12", "10", "22"]]
    assert all(reason is None for row in table.reasons for reason in row)


def test_all_zero_table():
    table = table_of([[0, 0], [0, 0]])
    assert table.values == [[0, 0, 0]] * 3
    assert table.shown == [["0", "0", "0"]] * 3
    assert all(reason is None for row in table.reasons for reason in row)


def test_empty_table_has_only_the_total_row():
    table = table_of([], n_cols=2)
    assert table.values == [[0, 0, 0]]
    assert table.shown == [["0", "0", "0"]]
    assert list(table.rows()) == [["Fila", "c0", "c1", "Total"], ["Total", "0", "0", "0"]]


def test_two_fours_with_a_visible_total_are_protected():
    """Row [4, 4 | 8]: two hidden cells, yet both must be 4. Hiding the 8 alone would leave it the only
    hidden cell of the total column, so the 50 goes too."""
    cells = [[4, 4], [20, 30]]
    table = table_of(cells)
    assert table.shown == [["<5", "<5", "*"], ["*", "*", "*"], ["24", "34", "58"]]
    assert table.exposed == []
    assert_protected(table, cells)
    assert brute_force_pinned(table) == set()


def test_one_and_a_hidden_five_are_protected():
    """Row [1, 5 | 6] with the 5 as "*": a "*" is at least 5, so it would be 5 and the "<5" 1."""
    cells = [[1, 5], [20, 30]]
    table = table_of(cells)
    assert table.shown == [["<5", "*", "*"], ["*", "*", "*"], ["21", "35", "56"]]
    assert table.exposed == []
    assert_protected(table, cells)
    assert brute_force_pinned(table) == set()


def test_pin_through_the_total_row_is_protected():
    """With the column totals 8 and 8 hidden next to a visible 18 and 34, 8 + 8 = 34 - 18 would make every
    "<5" a 4; the cheapest fix hides the two 9s (and so the 18 they add up to)."""
    cells = [[4, 4, 9], [4, 4, 9]]
    table = table_of(cells)
    assert table.shown == [["<5", "<5", "*", "17"], ["<5", "<5", "*", "17"], ["*", "*", "*", "34"]]
    assert table.exposed == []
    assert_protected(table, cells)
    assert brute_force_pinned(table) == set()


def test_cell_joining_two_blocks_is_protected():
    """Every row and column has two or more hidden cells, yet the 1 at (0, 2) follows from adding and
    subtracting rows and columns: it lies on no cycle of hidden cells. More cells are hidden to protect it."""
    cells = [[1, 1, 1, 20], [1, 1, 30, 40], [50, 60, 1, 1], [70, 80, 1, 1]]
    table = table_of(cells)
    primary_only = {cell: PRIMARY for cell, reason in hidden_of(table).items() if reason == PRIMARY}
    assert linearly_determined(table.values, primary_only) == {(0, 2)}  # what step 2 alone would publish
    assert table.exposed == []
    assert len(hidden_of(table)) > len(primary_only)
    assert_protected(table, cells)


def test_unprotectable_table_is_reported():
    """One row [1, 1, 1, 1]: every cell and total is "<5", yet the total can only be 4 and each cell 1."""
    table = table_of([[1, 1, 1, 1]])
    assert all(shown == "<5" for row in table.shown for shown in row)
    assert set(table.exposed) == {(i, j) for i in range(2) for j in range(5)}
    assert brute_force_pinned(table) == set(table.exposed)


@pytest.mark.parametrize(
    ("row_labels", "col_labels", "cells"),
    [(["a"], ["x"], []), (["a"], ["x", "y"], [[1]]), (["a"], ["x"], [[-1]]), (["a"], ["x"], [[True]])],
)
def test_bad_input_is_rejected(row_labels, col_labels, cells):
    with pytest.raises(ValueError):
        protect("t", "h", row_labels, col_labels, cells)


def test_constants_and_note():
    assert THRESHOLD == 5
    assert "«<5»" in NOTE_ES and "«*»" in NOTE_ES
    assert "<5" in disclosure.__doc__ and "*" in disclosure.__doc__


# --- random tables ----------------------------------------------------------------------------------------


@st.composite
def count_tables(draw, max_side=5, max_count=30):
    n_rows = draw(st.integers(1, max_side))
    n_cols = draw(st.integers(1, max_side))
    row = st.lists(st.integers(0, max_count), min_size=n_cols, max_size=n_cols)
    return draw(st.lists(row, min_size=n_rows, max_size=n_rows))


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(count_tables())
def test_random_tables_are_protected(cells):
    table = table_of(cells)
    assert_protected(table, cells)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(count_tables(max_side=3, max_count=9))
def test_random_small_tables_pin_exactly_what_is_reported(cells):
    """The "<5" cells a brute-force reader can pin are exactly those reported in `exposed`."""
    table = table_of(cells)
    pinned = brute_force_pinned(table)
    if pinned is not None:
        assert pinned == set(table.exposed)
