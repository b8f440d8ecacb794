"""A range broken down by model, project or API key: one row each, sortable by any
column with a click on its header or a key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from monitor_tui.analytics import BreakdownLine, Change
from monitor_tui.analytics.text import change_text, cost_text, count_text, rate_text
from monitor_tui.report_text import short_name

DIMENSION_TITLES = {"model": "Model", "project": "Project", "key": "API key"}

NAME_WIDTH = 30


def _sortable_change(change: Decimal | None) -> Decimal:
    # Something new (no cost before) is the largest rise of all.
    return Decimal("Infinity") if change is None else change


# (column key, title, value to sort by); names sort A to Z, figures largest first.
COLUMNS: tuple[tuple[str, str, Callable[[BreakdownLine], object]], ...] = (
    ("name", "Name", lambda line: line.label.lower()),
    ("input", "Input", lambda line: line.input_tokens),
    ("cached", "Cached", lambda line: line.cached_input_tokens),
    ("output", "Output", lambda line: line.output_tokens),
    ("requests", "Requests", lambda line: line.requests),
    ("cost", "Cost", lambda line: line.cost_usd),
    ("share", "Share", lambda line: line.share or 0),
    ("hit", "Hit", lambda line: line.cache_hit_rate or -1),
    ("change", "Change", lambda line: _sortable_change(line.cost_change)),
)
SORT_KEYS = {key: value for key, _, value in COLUMNS}


def _cells(line: BreakdownLine, comparable: bool) -> list[str]:
    change = Change("cost", line.cost_usd, line.previous_cost_usd, money=True)
    return [
        short_name(line.label, NAME_WIDTH),
        count_text(line.input_tokens),
        count_text(line.cached_input_tokens),
        count_text(line.output_tokens),
        count_text(line.requests),
        cost_text(line),
        rate_text(line.share),
        rate_text(line.cache_hit_rate),
        change_text(change) if comparable else "—",
    ]


class BreakdownTable(DataTable[Text]):
    """The lines of one breakdown; each row's key is ``row:`` and the line's key."""

    DEFAULT_CSS = """
    BreakdownTable {
        height: auto;
        max-height: 14;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.sort_column = "cost"
        """The key of the column the rows are sorted by."""
        self.sort_reverse = True
        """True for largest (or Z) first."""
        self._lines: Sequence[BreakdownLine] = ()
        self._dimension = "model"
        self._comparable = False

    def on_mount(self) -> None:
        for key, title, _ in COLUMNS:
            self.add_column(title, key=key)

    def show(
        self, lines: Sequence[BreakdownLine], dimension: str, comparable: bool
    ) -> None:
        """Show ``lines`` of the ``dimension`` breakdown, with their change since
        the span before when ``comparable``."""
        self._lines = lines
        self._dimension = dimension
        self._comparable = comparable
        self._draw()

    def sort_by(self, column: str) -> None:
        """Sort by ``column``: names A to Z, figures largest first; the column
        it is already sorted by is reversed."""
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = column
            self.sort_reverse = column != "name"
        self._draw()

    def next_sort(self) -> None:
        """Sort by the next column."""
        keys = [key for key, _, _ in COLUMNS]
        self.sort_by(keys[(keys.index(self.sort_column) + 1) % len(keys)])

    def reverse_sort(self) -> None:
        """Reverse the order."""
        self.sort_reverse = not self.sort_reverse
        self._draw()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def _title(self, key: str, title: str) -> str:
        if key == "name":
            title = DIMENSION_TITLES[self._dimension]
        if key == self.sort_column:
            title += " ▼" if self.sort_reverse else " ▲"
        return title

    def _draw(self) -> None:
        # The line under the cursor stays under it after a new sort.
        chosen: str | None = None
        if self.row_count:
            chosen = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        lines = sorted(
            self._lines, key=SORT_KEYS[self.sort_column], reverse=self.sort_reverse
        )
        rows = [_cells(line, self._comparable) for line in lines]
        titles = [self._title(key, title) for key, title, _ in COLUMNS]
        # The columns keep their place and get their final widths before the
        # rows come: a table whose columns move after it is drawn takes the
        # next click on a header for a click on another column.
        for position, (key, _, _) in enumerate(COLUMNS):
            column = self.columns[ColumnKey(key)]
            column.label = Text(titles[position])
            column.content_width = max(
                len(cells[position]) for cells in [titles, *rows]
            )
        self.clear()
        for line, cells in zip(lines, rows, strict=True):
            self.add_row(
                Text(cells[0]),
                *(Text(cell, justify="right") for cell in cells[1:]),
                key=f"row:{line.key}",
            )
        if chosen in self.rows:
            self.move_cursor(row=self.get_row_index(chosen), animate=False)
