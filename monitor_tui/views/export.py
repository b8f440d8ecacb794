"""Export from the app: the dialog that `e` opens over any tab, and the Export tab
with the same form and the list of recent exports. Both export in the zone the app
shows; the dialog also in the project the Analytics tab is limited to."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from monitor_tui.analytics import Range
from monitor_tui.config import Settings
from monitor_tui.export import FORMATS
from monitor_tui.export_log import ExportRecord, recent_exports
from monitor_tui.report_text import SOURCE_LABELS, printable
from monitor_tui.views.export_form import GROUPING_LABELS, Clock, ExportForm

__all__ = ["ExportDialog", "ExportForm", "ExportView"]

RECENT_SHOWN = 10
"""The recent exports the tab lists."""


class ExportDialog(ModalScreen[Path | None]):
    """The export form over any tab; Escape closes it. Dismissed with the file
    written, or None.

    Args:
        settings: where the store is, and the configured zone.
        clock: the current moment.
        default_range: the range the form starts with: the Analytics tab's
            range, a kind of range, or None for the billing period.
        zone: the zone the app shows times in (UTC after `u`); None for the
            configured one. The billing period never moves with it.
        project: the project the Analytics tab is limited to (``""``: usage
            without a project); None for every project. The form names it and
            can clear it.
    """

    DEFAULT_CSS = """
    ExportDialog {
        align: center middle;

        #export-dialog {
            width: 84;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        #export-title {
            text-style: bold;
            margin-bottom: 1;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="close-export"),
    ]

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        default_range: Range | str | None = None,
        *,
        zone: ZoneInfo | None = None,
        project: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock
        self.default_range = default_range
        self.zone = zone
        self.project = project

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="export-dialog"):
            yield Label("Export  ·  Esc closes", id="export-title")
            yield ExportForm(
                self.settings,
                self.clock,
                self.default_range,
                cancel=True,
                zone=self.zone,
                project=self.project,
            )

    def on_mount(self) -> None:
        self.query_one("#format-choice").focus()

    def action_close(self) -> None:
        """Close without exporting."""
        self.dismiss(None)

    def on_export_form_cancelled(self) -> None:
        self.dismiss(None)

    def on_export_form_exported(self, message: ExportForm.Exported) -> None:
        # The message goes on to the app, which names the file in a toast.
        self.dismiss(message.path)


class ExportView(VerticalScroll):
    """The Export tab: the form, and the files exported lately."""

    DEFAULT_CSS = """
    ExportView {
        padding: 0 1;

        .section-title {
            text-style: bold;
            margin: 1 0;
        }
        #recent-exports {
            height: auto;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    zone: reactive[ZoneInfo] = reactive(ZoneInfo("UTC"), init=False)
    """The zone the app shows times in; the form exports in it."""

    class _Loaded(Message, bubble=False):
        """The recent exports were read, or why they could not be."""

        def __init__(self, records: list[ExportRecord] | None, error: str) -> None:
            super().__init__()
            self.records = records
            self.error = error

    def __init__(self, settings: Settings, clock: Clock) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock
        self.set_reactive(ExportView.zone, settings.zone)
        self.records: list[ExportRecord] | None = None
        """The recent exports shown; None until they have been read."""

    def compose(self) -> ComposeResult:
        yield Label("Export", classes="section-title")
        yield ExportForm(self.settings, self.clock, id="export-form", zone=self.zone)
        yield Label("Recent exports", classes="section-title")
        yield Static(id="recent-exports")

    def on_mount(self) -> None:
        self._show()
        self.load_recent()

    def on_show(self) -> None:
        self.load_recent()

    def watch_zone(self, zone: ZoneInfo) -> None:
        if self.is_mounted:
            self.query_one(ExportForm).set_zone(zone)
            self._show()

    def action_leave_field(self) -> None:
        """Leave the field being edited, so the tab keys work again."""
        self.focus()

    def on_export_form_exported(self) -> None:
        self.load_recent()

    @work(thread=True, exclusive=True, group="recent-exports", exit_on_error=False)
    def load_recent(self) -> None:
        """Read the recent exports (in a thread: the file is on disk)."""
        try:
            records = recent_exports(self.settings.data_dir)
        except OSError as exc:
            self.post_message(self._Loaded(None, exc.strerror or str(exc)))
            return
        self.post_message(self._Loaded(records, ""))

    @on(_Loaded)
    def _loaded(self, message: _Loaded) -> None:
        self.records = message.records
        self._show(message.error)

    def _show(self, error: str = "") -> None:
        recent = self.query_one("#recent-exports", Static)
        if error:
            recent.update(Text(f"The recent exports cannot be read: {error}"))
        elif self.records is None:
            recent.update("Reading…")
        elif not self.records:
            recent.update(
                "Nothing exported yet. `monitor-tui export` writes the same files "
                "from the command line."
            )
        else:
            recent.update(self._table(self.records[:RECENT_SHOWN]))

    def _table(self, records: list[ExportRecord]) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column()
        table.add_row("When", "Data", "What", "File", style="dim")
        for record in records:
            when = datetime.fromtimestamp(record.at, UTC).astimezone(self.zone)
            what = FORMATS.get(record.format, record.format).split()[0]
            if record.format != "md":
                what += f" by {GROUPING_LABELS.get(record.group_by, '?').lower()}"
            source = SOURCE_LABELS.get(record.source, printable(record.source))
            table.add_row(
                f"{when:%d %b %H:%M}",
                Text(source, style="bold" if record.source == "demo" else ""),
                what,
                Text(printable(record.path), overflow="fold"),
            )
        return table
