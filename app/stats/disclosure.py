"""Statistical disclosure control for published count tables.

A table of counts (rows x columns) is published with a "Total" column and a "Total" row. The rule:

1. Primary suppression. Every cell (inner cells and totals alike) whose count is 1, 2, 3 or 4 is hidden
   and shown as "<5". Zero is not sensitive and is shown as "0".

2. Complementary suppression. Every row, taken together with its row total, and every column, taken
   together with its column total, forms a set whose inner cells add up to its total (the total row and
   the total column are sets too: the column totals add up to the grand total, and so do the row totals).
   If a set contains exactly one hidden cell, that cell could be recomputed by a single subtraction, so one
   more cell of the set is hidden: among the cells of the set not yet hidden, the one with the smallest
   non-zero count, inner cells before totals when counts are equal, then the first by position. This is
   repeated (rows first, then columns, from the top each time) until no set has exactly one hidden cell.
   When the hidden cell is an inner cell and every other inner cell of its set is zero, the total equals
   the hidden count, and the total is then the only non-zero cell left: it is the one hidden.

3. Check of what a reader can still deduce. Step 2 alone is not enough: a reader knows that a "<5" cell is
   between 1 and 4, that a "*" cell is at least 5 (1 to 4 would show "<5"), and that every row and column
   adds up. With that, a "<5" cell may have only one possible value although its row and column hold two
   or more hidden cells: in a row [4, 4 | 8] both cells must be 4; in a row [1, 5 | 6] with the 5 shown as
   "*", the "*" must be 5 and the "<5" is 1; adding and subtracting several rows and columns can pin a cell
   too. Each "<5" cell is checked exactly (can another table consistent with everything shown give it a
   different value?). When one is pinned (the first by position), the fewest visible non-zero cells whose
   hiding lets it take another value are hidden, and among equally few, those with the smallest sum of
   counts. Steps 2 and 3 are repeated (step 2 first) until no "<5" cell is pinned.

Primary cells are shown as "<5"; complementary cells as "*" (they are not small: showing "<5" for them
would be false). `ProtectedTable.reasons` records "primaria" or "complementaria" per cell. Zero is never
hidden. If a "<5" cell remains pinned because nothing visible can protect it (a single row [1, 1, 1, 1]:
its hidden total can only be 4, so every cell is 1), it is listed in `ProtectedTable.exposed`, so that the
caller can refuse to publish the table.

Each table is protected on its own. Two published tables that share a margin (the same totals by sex
in two tables of the same cases) can give away, through one, a figure the other hides; such tables must
be protected together or published with the shared margin hidden in the same places.

How step 3 works: the table with its totals is a circulation (source -> row i: row total; row i -> column
j: inner cell; column j -> sink: column total; sink -> source: grand total). Visible cells are fixed,
"<5" cells lie in [1, 4], "*" cells in [5, infinity). Such networks have integral vertices, so a "<5" cell
can take another value if and only if, starting from the true table, one unit can be pushed around a
cycle through it within those bounds; that is a reachability search in the residual graph.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

THRESHOLD = 5
TOTAL_LABEL = "Total"
PRIMARY_MARK = "<5"
COMPLEMENTARY_MARK = "*"
PRIMARY = "primaria"
COMPLEMENTARY = "complementaria"
NOTE_ES = (
    "Las cifras de 1 a 4 se muestran como «<5». "
    "«*»: cifra ocultada para que no pueda recalcularse una cifra «<5» a partir de los totales."
)

Cell = tuple[int, int]
Node = tuple[str, int]


@dataclass
class ProtectedTable:
    title: str
    row_header: str
    row_labels: list[str]
    col_labels: list[str]
    values: list[list[int]]
    shown: list[list[str]]
    reasons: list[list[str | None]]
    exposed: list[Cell] = field(default_factory=list)  # "<5" cells a reader could still pin (see module doc)

    def rows(self) -> Iterator[list[str]]:
        """The header row, then one list per row: label followed by the shown cells (CSV/XLSX ready)."""
        yield [self.row_header, *self.col_labels]
        for label, shown in zip(self.row_labels, self.shown, strict=True):
            yield [label, *shown]


@dataclass
class SummaryTable:
    """A published table of medians and percentages, not of additive counts: no totals, no complementary
    suppression; each figure is shown only when the counts it is computed from are not small (`median_cell`,
    `share_cell`). Same interface as ProtectedTable for the exports (title, rows(), exposed)."""

    title: str
    header: list[str]
    body: list[list[str]]
    note: str | None = None
    exposed: list[Cell] = field(default_factory=list)  # always empty: a hidden figure cannot be recomputed

    def rows(self) -> Iterator[list[str]]:
        yield list(self.header)
        yield from (list(row) for row in self.body)
        if self.note:
            yield [self.note]


SUMMARY_NOTE_ES = (
    "«<5»: cifra calculada sobre menos de 5 remisiones, o que permitiría deducir un número de 1 a 4 "
    "remisiones; no se publica. «—»: sin remisiones que contar."
)
NO_DATA_MARK = "—"


def _figure(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def median_cell(n: int, median) -> str:
    """A median over n units, shown only when n is 0 (nothing to show) or at least THRESHOLD."""
    if not n or median is None:
        return NO_DATA_MARK
    if n < THRESHOLD:
        return PRIMARY_MARK
    return _figure(median)


def share_cell(part: int, whole: int) -> str:
    """part / whole as a percentage, hidden when whole, part or whole - part is a count from 1 to THRESHOLD - 1
    (with the denominator known from other tables, the percentage would give the small count away)."""
    if not whole:
        return NO_DATA_MARK
    if any(0 < count < THRESHOLD for count in (whole, part, whole - part)):
        return PRIMARY_MARK
    return _figure(round(100 * part / whole, 1))


def protect(
    title: str, row_header: str, row_labels: list[str], col_labels: list[str], cells: list[list[int]]
) -> ProtectedTable:
    """Add totals to a table of counts and hide the cells that would disclose a count from 1 to 4."""
    _validate(row_labels, col_labels, cells)
    values = _with_totals(cells, len(col_labels))
    hidden = _suppress(values)
    reasons: list[list[str | None]] = [[hidden.get((i, j)) for j in range(len(row))] for i, row in enumerate(values)]
    shown = [
        [_shown(value, reason) for value, reason in zip(row, reason_row, strict=True)]
        for row, reason_row in zip(values, reasons, strict=True)
    ]
    return ProtectedTable(
        title=title,
        row_header=row_header,
        row_labels=[*row_labels, TOTAL_LABEL],
        col_labels=[*col_labels, TOTAL_LABEL],
        values=values,
        shown=shown,
        reasons=reasons,
        exposed=[cell for cell in _primary_cells(hidden) if _is_pinned(values, hidden, cell)],
    )


def _validate(row_labels: list[str], col_labels: list[str], cells: list[list[int]]) -> None:
    if len(cells) != len(row_labels):
        raise ValueError(f"{len(row_labels)} row labels for {len(cells)} rows")
    for row in cells:
        if len(row) != len(col_labels):
            raise ValueError(f"{len(col_labels)} column labels for a row of {len(row)} cells")
        for value in row:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"counts must be non-negative integers, got {value!r}")


def _with_totals(cells: list[list[int]], n_cols: int) -> list[list[int]]:
    values = [[*row, sum(row)] for row in cells]
    values.append([sum(row[j] for row in values) for j in range(n_cols + 1)])
    return values


def _shown(value: int, reason: str | None) -> str:
    if reason == PRIMARY:
        return PRIMARY_MARK
    if reason == COMPLEMENTARY:
        return COMPLEMENTARY_MARK
    return str(value)


# --- steps 1 and 2 ----------------------------------------------------------------------------------------
#
# The table with totals is (R+1) x (C+1): index R is the total row, index C the total column.


def _sets(n_rows: int, n_cols: int) -> list[list[Cell]]:
    """Rows top to bottom, then columns left to right; each set lists its cells, its total last."""
    rows = [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    cols = [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    return rows + cols


def _suppress(values: list[list[int]]) -> dict[Cell, str]:
    n_rows, n_cols = len(values), len(values[0])
    sets = _sets(n_rows, n_cols)
    hidden: dict[Cell, str] = {
        (i, j): PRIMARY for i in range(n_rows) for j in range(n_cols) if 0 < values[i][j] < THRESHOLD
    }
    # hiding more cells only ever frees cells: a cell found free stays free, a hopeless one stays hopeless
    free: set[Cell] = set()
    hopeless: set[Cell] = set()
    while True:
        candidates = _single_subtraction(sets, hidden)
        if candidates:
            hidden[_choose(values, candidates)] = COMPLEMENTARY
            continue
        protection = _step_three(values, hidden, free, hopeless)
        if not protection:
            return hidden
        hidden.update(dict.fromkeys(protection, COMPLEMENTARY))


def _single_subtraction(sets: list[list[Cell]], hidden: dict[Cell, str]) -> list[Cell]:
    """Step 2: the visible cells of the first set holding exactly one hidden cell ([] if none)."""
    for cells in sets:
        if sum(cell in hidden for cell in cells) == 1:
            return [cell for cell in cells if cell not in hidden]
    return []


def _choose(values: list[list[int]], candidates: list[Cell]) -> Cell:
    """Smallest non-zero count, inner cells before totals, then first by position.

    Zero is chosen only when no candidate is non-zero, which cannot happen: a set with exactly one hidden
    (non-zero) cell always has a visible non-zero cell (step 3 never hides zeros either).
    """
    n_rows, n_cols = len(values), len(values[0])

    def key(cell: Cell):
        i, j = cell
        return (values[i][j] == 0, values[i][j], i == n_rows - 1 or j == n_cols - 1, i, j)

    return min(candidates, key=key)


def _primary_cells(hidden: dict[Cell, str]) -> list[Cell]:
    return sorted(cell for cell, reason in hidden.items() if reason == PRIMARY)


# --- step 3: the residual graph of the table seen as a circulation ---------------------------------------


def _arc(cell: Cell, n_rows: int, n_cols: int) -> tuple[Node, Node]:
    """The edge (tail, head) carrying a cell: source -> row -> column -> sink -> source."""
    i, j = cell
    row_total, col_total = i == n_rows - 1, j == n_cols - 1
    if row_total and col_total:
        return ("sink", 0), ("source", 0)
    if col_total:
        return ("source", 0), ("row", i)
    if row_total:
        return ("col", j), ("sink", 0)
    return ("row", i), ("col", j)


def _bounds(value: int, reason: str | None) -> tuple[float, float]:
    """What a reader knows of a cell: visible cells are fixed, "<5" is 1..4, "*" is at least 5."""
    if reason == PRIMARY:
        return 1, THRESHOLD - 1
    if reason == COMPLEMENTARY and value:
        return THRESHOLD, math.inf
    return value, value


def _residual(values, hidden) -> dict[Node, list[tuple[Node, Cell]]]:
    """Arcs along which one unit can move from the true table, each with the cell it belongs to."""
    n_rows, n_cols = len(values), len(values[0])
    graph: dict[Node, list[tuple[Node, Cell]]] = {}
    for cell, reason in hidden.items():
        value = values[cell[0]][cell[1]]
        low, high = _bounds(value, reason)
        tail, head = _arc(cell, n_rows, n_cols)
        if value < high:
            graph.setdefault(tail, []).append((head, cell))
        if value > low:
            graph.setdefault(head, []).append((tail, cell))
    return graph


def _moves(values, hidden, cell: Cell) -> list[tuple[Node, Node]]:
    """For each direction the cell may move in (up, then down), the (start, end) of the path it needs back."""
    value = values[cell[0]][cell[1]]
    low, high = _bounds(value, hidden[cell])
    tail, head = _arc(cell, len(values), len(values[0]))
    moves = []
    if value < high:  # one more unit on tail -> head, returning through head ~> tail
        moves.append((head, tail))
    if value > low:  # one unit less: a unit on head -> tail, returning through tail ~> head
        moves.append((tail, head))
    return moves


def _reach(graph: dict[Node, list[tuple[Node, Cell]]], start: Node, skip: Cell) -> set[Node]:
    seen, stack = {start}, [start]
    while stack:
        for node, cell in graph.get(stack.pop(), ()):
            if cell != skip and node not in seen:
                seen.add(node)
                stack.append(node)
    return seen


def _is_pinned(values, hidden, cell: Cell, graph=None) -> bool:
    graph = _residual(values, hidden) if graph is None else graph
    return not any(end in _reach(graph, start, cell) for start, end in _moves(values, hidden, cell))


def _step_three(values, hidden, free: set[Cell], hopeless: set[Cell]) -> list[Cell]:
    """The cells to hide to free the first pinned "<5" cell that can be freed ([] when none is pinned)."""
    graph = _residual(values, hidden)
    for cell in _primary_cells(hidden):
        if cell in free or cell in hopeless:
            continue
        if not _is_pinned(values, hidden, cell, graph):
            free.add(cell)
            continue
        protection = _cheapest_protection(values, hidden, cell, graph)
        if protection:
            return protection
        hopeless.add(cell)
    return []


def _cheapest_protection(values, hidden, cell: Cell, graph) -> list[Cell]:
    """The visible cells to hide so that the pinned cell can move: fewest cells, then smallest sum ([] if none).

    A visible non-zero cell, once shown as "*", may move up freely and down to 5: it offers the arc
    tail -> head, and head -> tail when above 5. Dijkstra over arcs of the residual graph (cost 0) and such
    offered arcs (cost: one cell and its count) finds the cheapest path for a move in either direction.
    """
    n_rows, n_cols = len(values), len(values[0])
    offers: dict[Node, list[tuple[Node, Cell]]] = {}
    for i in range(n_rows):
        for j in range(n_cols):
            value = values[i][j]
            if (i, j) in hidden or not value:
                continue
            tail, head = _arc((i, j), n_rows, n_cols)
            offers.setdefault(tail, []).append((head, (i, j)))
            if value > THRESHOLD:
                offers.setdefault(head, []).append((tail, (i, j)))
    best: tuple | None = None
    for start, end in _moves(values, hidden, cell):
        found = _dijkstra(values, graph, offers, cell, start, end)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    return best[1] if best else []


def _dijkstra(values, graph, offers, skip: Cell, start: Node, end: Node):
    """(cost, visible cells on the path) of the cheapest path from start to end, or None."""
    costs: dict[Node, tuple[int, int]] = {start: (0, 0)}
    back: dict[Node, tuple[Node, Cell, bool]] = {}
    queue = [((0, 0), start)]
    done: set[Node] = set()
    while queue:
        cost, node = heapq.heappop(queue)
        if node in done:
            continue
        done.add(node)
        if node == end:
            path, current = [], end
            while current != start:
                current, via, offered = back[current]
                if offered:
                    path.append(via)
            return cost, sorted(path)
        steps = [(nxt, via, False) for nxt, via in graph.get(node, ()) if via != skip]
        steps += [(nxt, via, True) for nxt, via in offers.get(node, ())]
        for nxt, via, offered in steps:
            new = (cost[0] + 1, cost[1] + values[via[0]][via[1]]) if offered else cost
            if nxt not in costs or new < costs[nxt]:
                costs[nxt], back[nxt] = new, (node, via, offered)
                heapq.heappush(queue, (new, nxt))
    return None
