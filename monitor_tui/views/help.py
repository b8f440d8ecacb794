"""The keys, in a dialog that `?` opens and Escape closes."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("1 2 3 4", "switch to Live, Analytics, Budget, Export (or click a tab)"),
    ("e", "export what the tab shows: CSV, JSON or a Markdown report"),
    ("r", "sync now instead of waiting for the next sync"),
    ("u", "show times in UTC, as OpenAI's dashboard does, or not"),
    ("?  F1", "show these keys"),
    ("q", "quit (Ctrl+Q works everywhere)"),
    ("Ctrl+P", "command palette: themes and more"),
    ("", ""),
    ("d w m n p", "Analytics: last 24 hours, 7, 30, 90 days, the billing period"),
    ("c", "Analytics: custom dates"),
    ("b  s  o", "Analytics: breakdown by model/project/key; sort; reverse"),
    ("Enter  x", "Analytics: only the selected project; all projects again"),
    ("Tab  Enter", "Budget and Export: move between fields; save or export"),
    ("Escape", "leave a field, so the keys above work again"),
)


class HelpScreen(ModalScreen[None]):
    """A list of the keys and what the Live tab's figures mean."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 1 2;
        border: round $primary;
        background: $surface;
    }
    """

    def on_mount(self) -> None:
        # Focused, so the arrows and PgDn scroll it where it does not fit.
        self.query_one(VerticalScroll).focus()

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold")
        keys.add_column()
        for key, meaning in KEYS:
            keys.add_row(key, meaning)
        # Scrolls in a short terminal (80x24), where it does not fit.
        with VerticalScroll():
            yield Static("[b]Keys[/b]")
            yield Static(keys)
            yield Static(
                "\nSpend is estimated from usage at the prices in force on each "
                "hour's date; the bill is OpenAI's daily costs, and Live says why "
                "they differ. * marks your \\[prices] rates.\n"
                "The forecast carries the period's average pace on to its end.\n"
                "The burn rate covers the 60 minutes before this one.\n"
                "Each alert threshold fires once per billing period (a new\n"
                "budget amount arms again those spend no longer reaches).\n\n"
                "[dim]Escape closes this.[/dim]"
            )
