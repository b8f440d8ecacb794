"""``monitor-tui export``: the export dialog's files, from the command line.

Dates are local days in the display zone, both included; without them the
export covers the billing period so far. Exit codes: 0 written (a store that
has read nothing yet is said on standard error); 2 bad arguments, a file that
exists (without ``--force``), a destination that is not a regular file, or a
directory that cannot be written, and then nothing is written.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from monitor_tui.export_choices import FORMATS, GROUPINGS

# The export code is loaded when an export runs: the parser is built for every
# command, the app included, and must stay light.
if TYPE_CHECKING:
    from monitor_tui.config import Settings
    from monitor_tui.export import ExportRequest, ExportResult

EXIT_OK, EXIT_USAGE = 0, 2

DEFAULT_GROUPING = "day"

ORIGINS = ("openai", "tracked", "demo")
"""The origins an export can select with ``--origin``."""


def add_export_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to ``monitor-tui``'s subcommands."""
    parser = subparsers.add_parser(
        "export",
        help="write usage as CSV, JSON or a Markdown report",
        description="Write a range's usage as CSV or JSON (grouped by hour, day, "
        "model, project or API key) or as a one-page Markdown report. Without "
        "dates: the billing period so far. Only a regular file (or a link to "
        "one) is ever written; devices, pipes and sockets are refused: give "
        "--out - and redirect standard output to write to those.",
    )
    parser.add_argument(
        "--format", choices=list(FORMATS), default="csv", help="default: csv"
    )
    parser.add_argument(
        "--from",
        dest="first",
        metavar="DATE",
        help="first day, YYYY-MM-DD in the display zone (default: the billing "
        "period's first day)",
    )
    parser.add_argument(
        "--to",
        dest="last",
        metavar="DATE",
        help="last day, YYYY-MM-DD, included (default: today); --to alone "
        "runs from the billing period's first day",
    )
    parser.add_argument(
        "--group-by",
        choices=list(GROUPINGS),
        default=None,
        help=f"default: {DEFAULT_GROUPING}; the Markdown report ignores it",
    )
    parser.add_argument(
        "--project",
        metavar="ID",
        default=None,
        help='only this project\'s usage (--project "" for usage without a '
        "project); default: every project",
    )
    parser.add_argument(
        "--origin",
        choices=ORIGINS,
        default=None,
        help="whose usage: openai (the organization's, as synced), tracked (the "
        "calls recorded on this machine with track()) or demo; default: the data "
        "the app shows",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        default="",
        help="the file, or a directory (existing) for the default name; - for "
        "standard output (default: monitor-tui-DATE-TIME-by-GROUP.FORMAT here, "
        "monitor-tui-demo-... for demo data)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the file if it exists (a link to a file: the file it "
        "leads to, keeping the link and the file's permissions)",
    )
    return parser


def _day(option: str, text: str) -> date:
    from monitor_tui.export import ISO_DAY, ExportError

    text = text.strip()
    try:
        if not ISO_DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ExportError(f"{option} {text!r} is not a date; give YYYY-MM-DD") from None


def _dates(
    args: argparse.Namespace, today: date, period_first_day: date
) -> tuple[date, date] | None:
    from monitor_tui.export import ExportError

    if args.first is None and args.last is None:
        return None
    last = today if args.last is None else _day("--to", args.last)
    if args.first is None:
        if last < period_first_day:
            raise ExportError(
                f"--to {last} is before the billing period's first day "
                f"({period_first_day}); give --from too"
            )
        return period_first_day, last
    first = _day("--from", args.first)
    if first > today:
        raise ExportError(
            f"--from {first} is after today ({today}); there is no usage yet"
        )
    if args.last is not None and first > last:
        raise ExportError(f"--from {first} is after --to {last}")
    return first, last


def request_from(
    args: argparse.Namespace, today: date, period_first_day: date
) -> ExportRequest:
    """The export the command line asks for.

    Args:
        args: the parsed command line.
        today: the local date now, in the display zone.
        period_first_day: the local date the billing period starts on, where
            ``--to`` alone starts.

    Raises:
        ExportError: a date is not a YYYY-MM-DD date, the dates are in the
            wrong order, ``--from`` is in the future, or ``--to`` alone comes
            before the billing period.
    """
    from monitor_tui.export import ExportRequest

    dates = _dates(args, today, period_first_day)
    return ExportRequest(
        format=args.format,
        kind="period" if dates is None else "custom",
        dates=dates,
        group_by=args.group_by or DEFAULT_GROUPING,
        destination=args.out,
        force=args.force,
        project=args.project,
    )


def _written(result: ExportResult, fmt: str) -> str:
    table = result.table
    count = result.rows
    what = "the report" if fmt == "md" else f"{count} row{'s' * (count != 1)}"
    return (
        f"exported {what} ({table.range.label}, {table.data_state} data) to "
        f"{result.path} ({result.bytes:,} bytes)"
    )


def _warnings(args: argparse.Namespace, result: ExportResult) -> list[str]:
    """What the user is told on standard error about a finished export."""
    from monitor_tui.export import reading_note

    table = result.table
    warnings = []
    if args.format == "md" and args.group_by is not None:
        warnings.append("the Markdown report ignores --group-by: it has its own layout")
    note = reading_note(table)
    if table.nothing_read:
        warnings.append(f"{note}; run `monitor-tui sync` first")
    elif note is not None:
        warnings.append(
            f"{note}: the range's time before it is missing, not zero; raise "
            "history_days and run `monitor-tui sync` to read it"
        )
    elif table.data_state == "empty":
        warnings.append(
            "the store has no usage in this range; run `monitor-tui sync` "
            "first if that is unexpected"
        )
    return warnings


def _period_first_day(settings: Settings, now: datetime) -> date:
    from monitor_tui.analytics import period_of
    from monitor_tui.snapshot import load_budget
    from monitor_tui.store import Store

    period = period_of(load_budget(Store(settings.data_dir)), settings.zone, now)
    return period.start.astimezone(settings.zone).date()


def run_export(
    args: argparse.Namespace,
    settings: Settings,
    clock: Callable[[], datetime],
    out: TextIO,
    err: TextIO,
) -> int:
    """Run ``monitor-tui export`` and return its exit code.

    Store problems are left to the caller, which reports them for every command.
    """
    from monitor_tui.export import DestinationExists, ExportError, NotAFile, export
    from monitor_tui.store import Store
    from monitor_tui.sync import reprice_if_changed

    now = clock()
    today = now.astimezone(settings.zone).date()
    reprice_if_changed(Store(settings.store_dir), settings.price_overrides)
    try:
        request = request_from(args, today, _period_first_day(settings, now))
        result = export(settings, request, now)
    except DestinationExists as exc:
        print(f"monitor-tui export: {exc}; add --force to replace it", file=err)
        return EXIT_USAGE
    except NotAFile as exc:
        print(
            f"monitor-tui export: {exc}; to write to standard output, give --out -",
            file=err,
        )
        return EXIT_USAGE
    except ExportError as exc:
        print(f"monitor-tui export: {exc}", file=err)
        return EXIT_USAGE
    if result.path is None:
        out.write(result.text)
    else:
        print(_written(result, request.format), file=out)
    for warning in _warnings(args, result):
        print(f"monitor-tui export: {warning}", file=err)
    return EXIT_OK
