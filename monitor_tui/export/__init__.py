"""Exports of the store's usage for a range: CSV and JSON grouped by hour, day,
model, project or API key, and a one-page Markdown report. The command line and
the app's dialog both go through ``export``, so they write the same files."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from filelock import Timeout

from monitor_tui.analytics import (
    RANGE_KINDS,
    Range,
    RangeError,
    compute_analytics,
    make_range,
    period_of,
)
from monitor_tui.config import Settings
from monitor_tui.export.csv_file import to_csv
from monitor_tui.export.files import (
    STDOUT,
    DestinationExists,
    ExportError,
    NotAFile,
    check_destination,
    default_file_name,
    destination_path,
    write_atomic,
)
from monitor_tui.export.json_file import export_object, to_json
from monitor_tui.export.markdown import to_markdown
from monitor_tui.export.table import ExportRow, ExportTable, build_table
from monitor_tui.export_choices import FORMATS, GROUPINGS
from monitor_tui.export_log import ExportRecord, add_export
from monitor_tui.snapshot import current_report, load_budget
from monitor_tui.store import Store

__all__ = [
    "FORMATS",
    "GROUPINGS",
    "ISO_DAY",
    "STDOUT",
    "DestinationExists",
    "ExportError",
    "ExportRequest",
    "ExportResult",
    "ExportRow",
    "ExportTable",
    "NotAFile",
    "check_destination",
    "default_file_name",
    "destination_path",
    "export",
    "export_object",
    "export_range",
    "initial_range",
    "reading_note",
    "render",
    "resolve_destination",
    "write_atomic",
]

log = logging.getLogger(__name__)


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
"""A date as exports take it: YYYY-MM-DD and nothing else. Python also reads
``20261201`` and ``2026-W49-1`` as dates, which a typo could turn into the wrong
range."""


@dataclass(frozen=True)
class ExportRequest:
    """What to export, and where to."""

    format: str = "csv"
    """One of ``FORMATS``."""
    kind: str = "period"
    """The range: one of the Analytics tab's ``RANGE_KINDS``."""
    dates: tuple[date, date] | None = None
    """The first and last local day of a ``custom`` range, both included."""
    group_by: str = "day"
    """One of ``GROUPINGS``; the Markdown report has its own layout."""
    destination: str = ""
    """A file or directory; empty for the default name in the current directory;
    ``-`` for standard output."""
    force: bool = False
    """Replace a file that exists (only ever a regular file)."""
    zone: ZoneInfo | None = None
    """The zone the screen shows times in (the app's ``u`` shows UTC): days and
    hours are grouped in it, custom dates are its local days, and it names the
    default file. None for the configured zone. The billing period never moves
    with it."""
    project: str | None = None
    """Export only this project's usage (``""``: usage without a project), as
    the Analytics tab's filter shows it; None for every project."""

    def display_zone(self, settings: Settings) -> ZoneInfo:
        """The zone days and times are shown in."""
        return settings.zone if self.zone is None else self.zone


@dataclass(frozen=True)
class ExportResult:
    """An export made: its text, and the file it went to."""

    text: str
    path: Path | None
    """The file written; None when the text went to standard output."""
    table: ExportTable
    rows: int
    """The rows of a CSV or JSON export; 0 for the Markdown report."""
    bytes: int
    """The size of the file written (0 for standard output)."""


def export_range(
    settings: Settings,
    kind: str,
    dates: tuple[date, date] | None,
    now: datetime,
    zone: ZoneInfo | None = None,
) -> Range:
    """The range of ``kind``, as the Analytics tab makes it.

    The billing period is the budget's, or without a budget the calendar month
    in the configured zone; custom dates are local days of ``zone``, the zone
    the screen shows (None: the configured one).

    Raises:
        ExportError: an unknown kind, or custom dates that are in the wrong
            order, in the future or too far apart.
        StoreError: the stored budget, which sets the billing period, is damaged.
    """
    if kind not in RANGE_KINDS:
        raise ExportError(f"{kind!r} is not a range; give one of {RANGE_KINDS}")
    period = period_of(load_budget(Store(settings.data_dir)), settings.zone, now)
    shown = settings.zone if zone is None else zone
    try:
        return make_range(kind, now, period=period, zone=shown, dates=dates)
    except RangeError as exc:
        raise ExportError(str(exc)) from None


def initial_range(
    default: Range | str | None, zone: ZoneInfo
) -> tuple[str, tuple[date, date] | None]:
    """The range kind, and a custom range's first and last local day in
    ``zone``, that an export form starts with: the billing period (None), a
    kind, or the range a tab shows."""
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


def resolve_destination(
    settings: Settings, request: ExportRequest, now: datetime, cwd: Path | None = None
) -> Path | None:
    """The file ``request`` writes to; None for standard output. The default
    name is stamped with ``now``, the moment of the export."""
    if request.destination.strip() == STDOUT:
        return None
    name = default_file_name(
        now,
        request.display_zone(settings),
        request.format,
        request.group_by,
        source=settings.origin,
    )
    return destination_path(request.destination, name, cwd)


def reading_note(table: ExportTable) -> str | None:
    """What a person must know about the history behind ``table``: that nothing
    has been read yet, or where the history read begins when the range starts
    before it; None when the range lies in what was read."""
    if table.nothing_read:
        return "no data has been read yet"
    unread = table.unread_before
    if unread is None:
        return None
    local = unread.astimezone(table.zone)
    return f"usage before {local:%Y-%m-%d %H:%M} {table.zone.key} has not been read"


def _check(request: ExportRequest) -> None:
    if request.format not in FORMATS:
        raise ExportError(
            f"{request.format!r} is not a format; give one of {', '.join(FORMATS)}"
        )
    if request.group_by not in GROUPINGS:
        raise ExportError(
            f"{request.group_by!r} is not a grouping; give one of "
            f"{', '.join(GROUPINGS)}"
        )


def render(
    settings: Settings, request: ExportRequest, span: Range, now: datetime
) -> tuple[str, ExportTable]:
    """The text of the export of ``span``, and the table it was made from."""
    store = Store(settings.store_dir)
    zone = request.display_zone(settings)
    table = build_table(
        store,
        settings.origin,
        span,
        zone,
        request.group_by,
        now,
        project=request.project,
    )
    if request.format == "csv":
        return to_csv(table), table
    if request.format == "json":
        return to_json(table), table
    budget = load_budget(Store(settings.data_dir))
    analytics = compute_analytics(
        store, settings.origin, span, zone, budget, now, request.project
    )
    # The billing period's own figures: the configured zone's, never the view's.
    report = current_report(store, settings.origin, budget, settings.zone, now)
    return to_markdown(table, analytics, report), table


def _remember(settings: Settings, request: ExportRequest, result: ExportResult) -> None:
    assert result.path is not None
    span = result.table.range
    record = ExportRecord(
        at=int(result.table.generated_at.timestamp()),
        path=str(result.path),
        format=request.format,
        group_by=request.group_by,
        range_label=span.label,
        range_start=span.epochs[0],
        range_end=span.epochs[1],
        rows=result.rows,
        bytes=result.bytes,
        source=settings.origin,
        project=request.project,
    )
    try:
        add_export(settings.data_dir, record)
    except (OSError, Timeout) as exc:
        # The file is written; only the list of recent exports misses it.
        log.warning("the export was not added to the recent exports: %s", exc)


def export(
    settings: Settings, request: ExportRequest, now: datetime, cwd: Path | None = None
) -> ExportResult:
    """Make the export ``request`` asks for and write it to its file.

    Everything that can be refused (the format, grouping, range and
    destination) is checked before the store is read, and nothing is written
    when anything fails. Standard output is left to the caller: the result's
    ``path`` is then None and its ``text`` is the export.

    Raises:
        ExportError: the request cannot be carried out; the message says why.
        StoreError: the store cannot be read.
    """
    _check(request)
    span = export_range(
        settings, request.kind, request.dates, now, request.display_zone(settings)
    )
    path = resolve_destination(settings, request, now, cwd)
    if path is not None:
        # A link to a regular file is written through: the target is the file.
        path = check_destination(path, force=request.force)
    text, table = render(settings, request, span, now)
    rows = 0 if request.format == "md" else len(table.rows)
    if path is None:
        return ExportResult(text, None, table, rows, 0)
    size = write_atomic(path, text, force=request.force)
    result = ExportResult(text, path, table, rows, size)
    _remember(settings, request, result)
    return result
