"""The export form: format, range, grouping and file, checked before anything is
written, with what is wrong said next to its field, a second press to replace a
file, and the write in a thread worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from monitor_tui.analytics import Range, RangeError, custom_range, parse_dates
from monitor_tui.config import Settings
from monitor_tui.export import (
    FORMATS,
    STDOUT,
    DestinationExists,
    ExportError,
    ExportRequest,
    ExportResult,
    check_destination,
    default_file_name,
    destination_path,
    export,
)
from monitor_tui.report_text import printable

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

RANGE_CHOICES = {
    "24h": "24h",
    "7d": "7d",
    "30d": "30d",
    "90d": "90d",
    "period": "Period",
    "custom": "Custom",
}
"""The ranges offered, as on the Analytics tab."""
GROUPING_LABELS = {
    "hour": "Hour",
    "day": "Day",
    "model": "Model",
    "project": "Project",
    "api_key": "API key",
}
"""What the form calls each of ``GROUPINGS``."""

LABEL_WIDTH = 10


def initial_range(
    default: Range | str | None, zone: ZoneInfo
) -> tuple[str, tuple[date, date] | None]:
    """The range kind, and a custom range's first and last day, that a form
    starts with: the billing period, a kind, or what a tab shows."""
    if default is None:
        return "period", None
    if isinstance(default, str):
        return default, None
    if default.kind != "custom":
        return default.kind, None
    last = default.end - timedelta(microseconds=1)
    return "custom", (
        default.start.astimezone(zone).date(),
        last.astimezone(zone).date(),
    )


@dataclass(frozen=True)
class _Job:
    """One export the form started."""

    request: ExportRequest
    now: datetime
    cwd: Path


class ExportForm(Vertical):
    """Choose a format, range, grouping and file, and export."""

    DEFAULT_CSS = f"""
    ExportForm {{
        height: auto;

        .field {{
            height: auto;
            margin-bottom: 1;
        }}
        .field-label {{
            width: {LABEL_WIDTH};
            text-style: bold;
        }}
        RadioSet {{
            layout: horizontal;
            width: 1fr;
            height: auto;
            & > RadioButton {{
                width: auto;
                margin-right: 2;
            }}
            /* Only the chosen option is marked until the set has focus; the
               cursor of a set without focus looked like a second choice. */
            &:blur > RadioButton.-selected > .toggle--label {{
                background: transparent;
            }}
        }}
        .field Input {{
            width: 1fr;
            max-width: 60;
        }}
        .field-error, .field-note {{
            margin-left: {LABEL_WIDTH};
            margin-top: -1;
            margin-bottom: 1;
        }}
        .field-error {{
            color: $error;
        }}
        .field-note {{
            color: $text-muted;
        }}
        #export-buttons {{
            height: auto;
            Button {{
                margin-right: 2;
            }}
        }}
        #export-status {{
            margin-top: 1;
            &.problem {{
                color: $error;
            }}
        }}
    }}
    """

    class Exported(Message):
        """A file was written; the app names it in a toast."""

        def __init__(self, path: Path, rows: int, size: int, what: str) -> None:
            super().__init__()
            self.path = path
            """The file written."""
            self.rows = rows
            """How many rows it has (0 for the Markdown report)."""
            self.size = size
            """Its size in bytes."""
            self.what = what
            """What it holds, for a person: ``CSV by day, this billing period``."""

    class Cancelled(Message):
        """The Cancel button was pressed: the dialog closes."""

    class _Finished(Message, bubble=False):
        """The worker finished: the result, or why there is none."""

        def __init__(
            self, job: _Job, result: ExportResult | None, error: Exception | None
        ) -> None:
            super().__init__()
            self.job = job
            self.result = result
            self.error = error

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        default_range: Range | str | None = None,
        *,
        cancel: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.settings = settings
        self.clock = clock
        self.kind, self.dates = initial_range(default_range, settings.zone)
        self.format = "csv"
        self.group_by = "day"
        self.cancel = cancel
        """Show a Cancel button (in the dialog)."""
        self.busy = False
        """True while the worker writes."""
        self._auto_path = ""
        """The default name the path field was last filled with."""
        self._confirm: Path | None = None
        """The existing file a second press of Export replaces."""

    # Layout

    def _choices(
        self, field: str, title: str, labels: dict[str, str], chosen: str
    ) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label(title, classes="field-label")
            with RadioSet(id=f"{field}-choice", compact=True):
                for key, label in labels.items():
                    yield RadioButton(
                        label, value=key == chosen, name=key, id=f"export-{field}-{key}"
                    )

    def compose(self) -> ComposeResult:
        yield from self._choices("format", "Format", FORMATS, self.format)
        yield from self._choices("range", "Range", RANGE_CHOICES, self.kind)
        with Horizontal(classes="field", id="dates-field"):
            yield Label("Dates", classes="field-label")
            yield Input(
                placeholder="YYYY-MM-DD YYYY-MM-DD (first and last day)",
                id="export-dates",
                compact=True,
            )
        yield Static(id="dates-error", classes="field-error", markup=False)
        yield from self._choices("group-by", "Group by", GROUPING_LABELS, self.group_by)
        yield Static(
            "The Markdown report has its own layout.",
            id="group-note",
            classes="field-note",
        )
        with Horizontal(classes="field"):
            yield Label("Save to", classes="field-label")
            yield Input(id="export-path", compact=True)
        yield Static(id="path-error", classes="field-error", markup=False)
        yield Static(id="path-note", classes="field-note", markup=False)
        with Horizontal(id="export-buttons"):
            yield Button("Export", id="export-now", variant="primary", compact=True)
            if self.cancel:
                yield Button("Cancel", id="export-cancel", compact=True)
        yield Static(id="export-status", markup=False)

    def on_mount(self) -> None:
        if self.dates is not None:
            first, last = self.dates
            self.query_one("#export-dates", Input).value = f"{first} {last}"
        self._fill_path()
        self._show_errors({})
        self._say("")
        self._show_fields()

    # Reading the fields

    def _path_input(self) -> Input:
        return self.query_one("#export-path", Input)

    def _default_name(self) -> str:
        return default_file_name(
            self.clock(), self.settings.zone, self.format, self.group_by
        )

    def _fill_path(self) -> None:
        """Put the default name in the path field, unless the user typed one."""
        field = self._path_input()
        if field.value in ("", self._auto_path):
            self._auto_path = self._default_name()
            with self.prevent(Input.Changed):
                field.value = self._auto_path
        self._show_target()

    def _target(self) -> Path | None:
        text = self._path_input().value
        if text.strip() == STDOUT:
            return None
        return destination_path(text, self._default_name(), Path.cwd())

    def _show_target(self) -> None:
        note = self.query_one("#path-note", Static)
        target = self._target()
        note.update("" if target is None else f"→ {target}")
        note.display = target is not None

    def _show_fields(self) -> None:
        self.query_one("#dates-field").display = self.kind == "custom"
        if self.kind != "custom":
            self.query_one("#dates-error").display = False
        self.query_one("#group-by-choice").disabled = self.format == "md"
        self.query_one("#group-note").display = self.format == "md"

    def _show_errors(self, errors: dict[str, str]) -> None:
        for name in ("dates", "path"):
            box = self.query_one(f"#{name}-error", Static)
            box.display = name in errors
            box.update(f"✗ {printable(errors.get(name, ''))}")
            self.query_one(f"#export-{name}", Input).set_class(
                name in errors, "-invalid"
            )

    def _say(self, text: str, *, problem: bool = False) -> None:
        status = self.query_one("#export-status", Static)
        status.set_class(problem, "problem")
        status.display = bool(text)
        status.update(printable(text))

    def _dates(self) -> tuple[date, date]:
        """The custom range's dates, checked as the Analytics tab checks them.

        Raises:
            RangeError: not two dates, in the wrong order, or in the future.
        """
        dates = parse_dates(self.query_one("#export-dates", Input).value)
        custom_range(*dates, self.settings.zone, self.clock())
        return dates

    # Changes

    @on(RadioSet.Changed)
    def _chosen(self, event: RadioSet.Changed) -> None:
        value = event.pressed.name or ""
        which = event.radio_set.id
        if which == "format-choice":
            self.format = value
        elif which == "range-choice":
            self.kind = value
            if value == "custom":
                self.call_after_refresh(self.query_one("#export-dates").focus)
        elif which == "group-by-choice":
            self.group_by = value
        self._confirm = None
        self._fill_path()
        self._show_fields()
        # A refusal of the name the choice just replaced no longer holds.
        self.query_one("#path-error").display = False
        self._path_input().remove_class("-invalid")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self._confirm = None
        if event.input.id == "export-path":
            self._show_target()
        name = (event.input.id or "").removeprefix("export-")
        self.query_one(f"#{name}-error").display = False
        event.input.remove_class("-invalid")

    @on(Button.Pressed, "#export-cancel")
    def _cancel(self) -> None:
        self.post_message(self.Cancelled())

    # Exporting

    def _check(self) -> tuple[ExportRequest | None, dict[str, str]]:
        """The request the fields make, or the error of each field that is
        wrong; a file that exists is an error unless Export was pressed for it
        already."""
        errors: dict[str, str] = {}
        dates = None
        if self.kind == "custom":
            try:
                dates = self._dates()
            except RangeError as exc:
                errors["dates"] = str(exc)
        target = self._target()
        confirmed, self._confirm = self._confirm, None
        if target is None:
            errors["path"] = "the app cannot write to standard output; give a file"
        else:
            try:
                check_destination(target, force=target == confirmed)
            except DestinationExists:
                errors["path"] = (
                    f"{target.name} exists: press Export again to replace it"
                )
                if len(errors) == 1:
                    self._confirm = target
            except ExportError as exc:
                errors["path"] = str(exc)
        if errors or target is None:
            return None, errors
        request = ExportRequest(
            format=self.format,
            kind=self.kind,
            dates=dates,
            group_by=self.group_by,
            destination=str(target),
            force=target == confirmed,
        )
        return request, {}

    @on(Input.Submitted)
    @on(Button.Pressed, "#export-now")
    def start_export(self) -> None:
        """Check the fields and export; a file that exists is replaced only on a
        second press."""
        if self.busy:
            return
        request, errors = self._check()
        self._show_errors(errors)
        if request is None:
            self._say("Nothing was written.", problem=True)
            return
        self.busy = True
        self.query_one("#export-now", Button).disabled = True
        self._say(f"Writing {Path(request.destination).name}…")
        self._write(_Job(request, self.clock(), Path.cwd()))

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _write(self, job: _Job) -> None:
        # Every failure becomes a message: the form says what went wrong.
        try:
            result = export(self.settings, job.request, job.now, job.cwd)
        except Exception as exc:
            if not isinstance(exc, ExportError):
                log.exception("the export failed")
            self.post_message(self._Finished(job, None, exc))
            return
        self.post_message(self._Finished(job, result, None))

    @on(_Finished)
    def _finished(self, message: _Finished) -> None:
        self.busy = False
        self.query_one("#export-now", Button).disabled = False
        result = message.result
        if result is None or result.path is None:
            error = message.error
            reason = str(error) or type(error).__name__
            if isinstance(error, OSError):
                reason = error.strerror or reason
            if isinstance(error, ExportError):
                self._show_errors({"path": reason})
            self._say(f"Nothing was written: {reason}", problem=True)
            return
        request = message.job.request
        what = FORMATS[request.format]
        if request.format != "md":
            what += f" by {GROUPING_LABELS[request.group_by].lower()}"
        what += f", {result.table.range.label}"
        self._say(f"Wrote {result.path} ({what}, {result.bytes:,} bytes).")
        # The next export gets a name of its own, not this file's.
        self._path_input().value = ""
        self._fill_path()
        self.post_message(self.Exported(result.path, result.rows, result.bytes, what))
