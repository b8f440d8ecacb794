"""A range broken down by model, project or API key: one row each, sortable by any
column with a click on its header or a key, chosen with a single click.

Where the full table does not fit (an 80-column terminal), it leaves out the
columns the others imply: cached input (the hit rate times the input) and the
share (the cost over the spend shown above it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from monitor_tui.analytics import BreakdownLine, Change
from monitor_tui.analytics.text import change_text, cost_text, count_text, rate_text
from monitor_tui.report_text import short_name

DIMENSION_TITLES = {
    "model": "Model",
    "project": "Project",
    "key": "API key",
    "label": "Label",
}

NAME_WIDTH = 30
"""The most a name takes; longer ones are shortened in the middle."""
WIDE_NAME_WIDTH = 20
"""A name may be shortened to this before the table leaves columns out."""
NARROW_NAME_WIDTH = 10
"""The least a name is shortened to; below it the table scrolls sideways."""
ROWS_SHOWN = 13
"""Rows shown below the header before the table scrolls."""


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
NARROW_LEFT_OUT = frozenset({"cached", "share"})
"""The columns a narrow table leaves out: the others imply them."""
NARROW_TITLES = {"requests": "Reqs"}


def _cells(line: BreakdownLine, comparable: bool) -> dict[str, str]:
    """A line's cells by column key; the name in full."""
    change = Change("cost", line.cost_usd, line.previous_cost_usd, money=True)
    return {
        "name": line.label,
        "input": count_text(line.input_tokens),
        "cached": count_text(line.cached_input_tokens),
        "output": count_text(line.output_tokens),
        "requests": count_text(line.requests),
        "cost": cost_text(line),
        "share": rate_text(line.share),
        "hit": rate_text(line.cache_hit_rate),
        "change": change_text(change) if comparable else "—",
    }


class BreakdownTable(DataTable[Text]):
    """The lines of one breakdown; each row's key is ``row:`` and the line's key."""

    DEFAULT_CSS = f"""
    BreakdownTable {{
        height: auto;
        max-height: {ROWS_SHOWN + 1};
    }}
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.sort_column = "cost"
        """The key of the column the rows are sorted by."""
        self.sort_reverse = True
        """True for largest (or Z) first."""
        self.shown: tuple[str, ...] = ()
        """The keys of the columns shown, in order."""
        self._lines: Sequence[BreakdownLine] = ()
        self._dimension = "model"
        self._comparable = False
        self._laid_out_for = 0

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
        """Sort by the next column shown."""
        keys = [key for key, _, _ in COLUMNS]
        shown = self.shown or tuple(keys)
        at = keys.index(self.sort_column)
        following = keys[at + 1 :] + keys[: at + 1]
        self.sort_by(next(key for key in following if key in shown))

    def reverse_sort(self) -> None:
        """Reverse the order."""
        self.sort_reverse = not self.sort_reverse
        self._draw()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def on_click(self, event: events.Click) -> None:
        # DataTable selects a row only when the cursor is on it already, so a
        # first click would only move the cursor. Moving it here, before
        # DataTable's own handler runs, makes that click select the row.
        row, column = event.style.meta.get("row"), event.style.meta.get("column")
        if isinstance(row, int) and isinstance(column, int) and row >= 0:
            self.cursor_coordinate = Coordinate(row, max(column, 0))

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_for:
            self._draw()

    def _title(self, key: str, title: str, narrow: bool) -> str:
        if key == "name":
            title = DIMENSION_TITLES[self._dimension]
        elif narrow:
            title = NARROW_TITLES.get(key, title)
        if key == self.sort_column:
            title += " ▼" if self.sort_reverse else " ▲"
        return title

    def _room(self) -> int | None:
        """The columns the table may fill; None before it has a size."""
        width = self.size.width
        if not width:
            return None
        if len(self._lines) > ROWS_SHOWN:
            width -= self.styles.scrollbar_size_vertical
        return width

    def _layout(
        self, rows: list[dict[str, str]]
    ) -> tuple[tuple[str, ...], dict[str, str], int]:
        """The columns to show, their titles and how wide a name may be: every
        column if names then keep ``WIDE_NAME_WIDTH``, else the narrow set."""
        room = self._room()
        self._laid_out_for = self.size.width
        longest = max((len(row["name"]) for row in rows), default=0)
        for narrow in (False, True):
            keys = tuple(
                key for key, _, _ in COLUMNS if not (narrow and key in NARROW_LEFT_OUT)
            )
            titles = {
                key: self._title(key, title, narrow)
                for key, title, _ in COLUMNS
                if key in keys
            }
            if room is None:
                return keys, titles, NAME_WIDTH
            figures = sum(
                max([len(titles[key]), *(len(row[key]) for row in rows)])
                for key in keys[1:]
            )
            name_room = room - figures - 2 * self.cell_padding * len(keys)
            if narrow or name_room >= min(longest, WIDE_NAME_WIDTH):
                break
        return keys, titles, max(NARROW_NAME_WIDTH, min(NAME_WIDTH, name_room))

    def _draw(self) -> None:
        # The line under the cursor stays under it after a new sort.
        chosen: str | None = None
        if self.row_count:
            chosen = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        lines = sorted(
            self._lines, key=SORT_KEYS[self.sort_column], reverse=self.sort_reverse
        )
        rows = [_cells(line, self._comparable) for line in lines]
        keys, titles, name_width = self._layout(rows)
        for row in rows:
            row["name"] = short_name(row["name"], name_width)
        if keys != self.shown:
            self.clear(columns=True)
            for key in keys:
                self.add_column(titles[key], key=key)
            self.shown = keys
        # The columns keep their place and get their final widths before the
        # rows come: a table whose columns move after it is drawn takes the
        # next click on a header for a click on another column.
        for key in keys:
            column = self.columns[ColumnKey(key)]
            column.label = Text(titles[key])
            column.content_width = max(len(cells[key]) for cells in [titles, *rows])
        self.clear()
        for line, cells in zip(lines, rows, strict=True):
            self.add_row(
                Text(cells["name"]),
                *(Text(cells[key], justify="right") for key in keys[1:]),
                key=f"row:{line.key}",
            )
        if chosen in self.rows:
            self.move_cursor(row=self.get_row_index(chosen), animate=False)
