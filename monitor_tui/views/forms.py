"""What the app's forms share: the mark beside a field that is wrong, and the
status line under the form."""

from __future__ import annotations

from textual.widgets import Input, Static

from monitor_tui.report_text import printable


def mark_field(box: Static, field: Input, error: str | None) -> None:
    """Show ``error`` beside ``field`` in ``box``, or clear both when None."""
    box.display = error is not None
    box.update(f"✗ {printable(error or '')}")
    field.set_class(error is not None, "-invalid")


def say(status: Static, text: str, *, problem: bool = False) -> None:
    """Put ``text`` in a form's status line; an empty text hides the line."""
    status.set_class(problem, "problem")
    status.display = bool(text)
    status.update(printable(text))
