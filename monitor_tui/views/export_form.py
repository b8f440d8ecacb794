"""The export form: format, range, grouping and file, checked before anything is
written, with what is wrong said next to its field, a second press to replace a
file, and the write in a thread worker. It exports what the screen shows: days
in the zone the app shows, and the project the Analytics tab is limited to."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from monitor_tui.analytics import Range, RangeError, custom_range, parse_dates
from monitor_tui.config import Settings
from monitor_tui.export import (
    FORMATS,
    ISO_DAY,
    STDOUT,
    DestinationExists,
    ExportError,
    ExportRequest,
    ExportResult,
    check_destination,
    default_file_name,
    destination_path,
    export,
    initial_range,
    reading_note,
)
from monitor_tui.report_text import short_name
from monitor_tui.views.forms import mark_field, say

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

PROJECT_SHOWN = 40
"""The characters of a project id the form shows; long ids lose their middle."""


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
        #project-text {{
            width: auto;
            margin-right: 2;
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

        def __init__(
            self, path: Path, rows: int, size: int, what: str, notice: str = ""
        ) -> None:
            super().__init__()
            self.path = path
            """The file written."""
            self.rows = rows
            """How many rows it has (0 for the Markdown report)."""
            self.size = size
            """Its size in bytes."""
            self.what = what
            """What it holds, for a person: ``CSV by day, this billing period``."""
            self.notice = notice
            """What the figures lack, for a person (``no data has been read
            yet``); empty when the range was read whole."""

        @property
        def title(self) -> str:
            """The toast's title: ``Exported``, with the notice if there is one."""
            return f"Exported: {self.notice}" if self.notice else "Exported"

        @property
        def severity(self) -> SeverityLevel:
            """The toast's severity: a warning when the figures lack something."""
            return "warning" if self.notice else "information"

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
        zone: ZoneInfo | None = None,
        project: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.settings = settings
        self.clock = clock
        self.zone = settings.zone if zone is None else zone
        """The zone the screen shows: days, hours and the default name use it."""
        self.project = project
        """The project exported alone (``""``: usage without a project); None
        for every project."""
        self._project_given = project is not None
        """The form was opened limited to a project: its line stays, cleared."""
        self.kind, self.dates = initial_range(default_range, self.zone)
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
        with Horizontal(classes="field", id="project-field"):
            yield Label("Project", classes="field-label")
            yield Static(id="project-text", markup=False)
            yield Button("All projects", id="export-all-projects", compact=True)
        with Horizontal(classes="field"):
            yield Label("Save to", classes="field-label")
            yield Input(id="export-path", compact=True)
        yield Static(id="path-error", classes="field-error", markup=False)
        yield Static(id="path-note", classes="field-note", markup=False)
        yield Static(id="zone-note", classes="field-note", markup=False)
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
        self._show_project()
        self.show_zone()

    # Reading the fields

    def _path_input(self) -> Input:
        return self.query_one("#export-path", Input)

    def _default_name(self, now: datetime | None = None) -> str:
        return default_file_name(
            self.clock() if now is None else now,
            self.zone,
            self.format,
            self.group_by,
            source=self.settings.origin,
        )

    def _fill_path(self, now: datetime | None = None) -> None:
        """Put the default name (stamped ``now``) in the path field, unless the
        user typed one."""
        field = self._path_input()
        if field.value in ("", self._auto_path):
            self._auto_path = self._default_name(now)
            with self.prevent(Input.Changed):
                field.value = self._auto_path
        self._show_target(now)

    def _target(self, now: datetime | None = None) -> Path | None:
        text = self._path_input().value
        if text.strip() == STDOUT:
            return None
        return destination_path(text, self._default_name(now), Path.cwd())

    def _show_target(self, now: datetime | None = None) -> None:
        note = self.query_one("#path-note", Static)
        target = self._target(now)
        note.update("" if target is None else f"→ {target}")
        note.display = target is not None

    def show_zone(self) -> None:
        """Say which zone days are in, when it is not the configured one."""
        note = self.query_one("#zone-note", Static)
        note.display = self.zone != self.settings.zone
        note.update(
            f"Days and hours in {self.zone.key}, as shown; the billing period "
            "stays as configured."
        )

    def set_zone(self, zone: ZoneInfo) -> None:
        """Export in ``zone`` from now on (the app switched the zone it shows)."""
        self.zone = zone
        self._confirm = None
        self._fill_path()
        self.show_zone()

    def _show_project(self) -> None:
        field = self.query_one("#project-field")
        field.display = self._project_given
        text = self.query_one("#project-text", Static)
        if self.project is None:
            text.update("all projects")
        elif not self.project:
            text.update("only usage without a project")
        else:
            text.update(f"only {short_name(self.project, PROJECT_SHOWN)}")
        self.query_one("#export-all-projects").display = self.project is not None

    def _show_fields(self) -> None:
        self.query_one("#dates-field").display = self.kind == "custom"
        if self.kind != "custom":
            self.query_one("#dates-error").display = False
        self.query_one("#group-by-choice").disabled = self.format == "md"
        self.query_one("#group-note").display = self.format == "md"

    def _show_errors(self, errors: dict[str, str]) -> None:
        for name in ("dates", "path"):
            mark_field(
                self.query_one(f"#{name}-error", Static),
                self.query_one(f"#export-{name}", Input),
                errors.get(name),
            )

    def _say(self, text: str, *, problem: bool = False) -> None:
        say(self.query_one("#export-status", Static), text, problem=problem)

    def _dates(self) -> tuple[date, date]:
        """The custom range's dates, checked as the Analytics tab checks them.

        Raises:
            RangeError: not two dates, in the wrong order, or in the future.
        """
        text = self.query_one("#export-dates", Input).value
        if not all(ISO_DAY.fullmatch(part) for part in text.replace(",", " ").split()):
            raise RangeError(
                f"{text.strip()!r} is not a date range; give YYYY-MM-DD YYYY-MM-DD"
            )
        dates = parse_dates(text)
        custom_range(*dates, self.zone, self.clock())
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

    @on(Button.Pressed, "#export-all-projects")
    def _all_projects(self) -> None:
        self.project = None
        self._show_project()
        self.query_one("#export-now").focus()

    # Exporting

    def _check(self, now: datetime) -> tuple[ExportRequest | None, dict[str, str]]:
        """The request the fields make at ``now``, or the error of each field
        that is wrong; a file that exists is an error unless Export was pressed
        for it already."""
        errors: dict[str, str] = {}
        dates = None
        if self.kind == "custom":
            try:
                dates = self._dates()
            except RangeError as exc:
                errors["dates"] = str(exc)
        # The default name is stamped when the export runs, not when the form
        # was opened.
        self._fill_path(now)
        target = self._target(now)
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
            zone=self.zone,
            project=self.project,
        )
        return request, {}

    @on(Input.Submitted)
    @on(Button.Pressed, "#export-now")
    def start_export(self) -> None:
        """Check the fields and export; a file that exists is replaced only on a
        second press."""
        if self.busy:
            return
        now = self.clock()
        request, errors = self._check(now)
        self._show_errors(errors)
        if request is None:
            self._say("Nothing was written.", problem=True)
            return
        self.busy = True
        self.query_one("#export-now", Button).disabled = True
        self._say(f"Writing {Path(request.destination).name}…")
        self._write(_Job(request, now, Path.cwd()))

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
        if request.project is not None:
            what += (
                f", project {request.project}"
                if request.project
                else ", usage without a project"
            )
        notice = reading_note(result.table) or ""
        status = f"Wrote {result.path} ({what}, {result.bytes:,} bytes)."
        if notice:
            status += f" Note: {notice}."
        self._say(status)
        # The next export gets a name of its own, not this file's.
        self._path_input().value = ""
        self._fill_path()
        self.post_message(
            self.Exported(result.path, result.rows, result.bytes, what, notice)
        )
