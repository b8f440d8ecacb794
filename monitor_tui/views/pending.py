"""A tab whose content is still to come: one line saying what it will hold."""

from __future__ import annotations

from textual.widgets import Static


class PendingView(Static):
    """Says in one line what a tab will hold, and shows no numbers."""

    DEFAULT_CSS = """
    PendingView {
        padding: 1 2;
        color: $text-muted;
    }
    """

    def __init__(self, promise: str) -> None:
        super().__init__(f"Coming to this tab: {promise}", markup=False)
