"""``monitor-tui export``: the export dialog's files, from the command line.

Dates are local days in the display zone, both included; without them the
export covers the billing period so far. Exit codes: 0 written; 2 bad arguments,
a file that exists (without ``--force``) or a directory that cannot be written,
and then nothing is written.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TextIO

from monitor_tui.config import Settings
from monitor_tui.export import (
    FORMATS,
    GROUPINGS,
    DestinationExists,
    ExportError,
    ExportRequest,
    ExportResult,
    export,
)

EXIT_OK, EXIT_USAGE = 0, 2


def add_export_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to ``monitor-tui``'s subcommands."""
    parser = subparsers.add_parser(
        "export",
        help="write usage as CSV, JSON or a Markdown report",
        description="Write a range's usage as CSV or JSON (grouped by hour, day, "
        "model, project or API key) or as a one-page Markdown report. Without "
        "dates: the billing period so far.",
    )
    parser.add_argument(
        "--format", choices=list(FORMATS), default="csv", help="default: csv"
    )
    parser.add_argument(
        "--from",
        dest="first",
        metavar="DATE",
        help="first day, YYYY-MM-DD in the display zone (default: the billing "
        "period's start)",
    )
    parser.add_argument(
        "--to",
        dest="last",
        metavar="DATE",
        help="last day, included (default: today)",
    )
    parser.add_argument(
        "--group-by", choices=list(GROUPINGS), default="day", help="default: day"
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        default="",
        help="the file, or a directory for the default name; - for standard "
        "output (default: monitor-tui-DATE-TIME-by-GROUP.FORMAT here)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the file if it exists"
    )
    return parser


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(f"{option} {text!r} is not a date; give YYYY-MM-DD") from None


def request_from(args: argparse.Namespace, today: date) -> ExportRequest:
    """The export the command line asks for.

    Raises:
        ExportError: a date is not a date, or ``--to`` comes without ``--from``.
    """
    dates: tuple[date, date] | None = None
    if args.first is not None:
        first = _day("--from", args.first)
        if first > today:
            raise ExportError(
                f"--from {first} is after today ({today}); there is no usage yet"
            )
        last = today if args.last is None else _day("--to", args.last)
        dates = (first, last)
    elif args.last is not None:
        raise ExportError("--to needs --from: give the first day too")
    return ExportRequest(
        format=args.format,
        kind="period" if dates is None else "custom",
        dates=dates,
        group_by=args.group_by,
        destination=args.out,
        force=args.force,
    )


def _written(result: ExportResult, fmt: str) -> str:
    table = result.table
    count = result.rows
    what = "the report" if fmt == "md" else f"{count} row{'s' * (count != 1)}"
    return (
        f"exported {what} ({table.range.label}, {table.data_state} data) to "
        f"{result.path} ({result.bytes:,} bytes)"
    )


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
    now = clock()
    try:
        request = request_from(args, now.astimezone(settings.zone).date())
        result = export(settings, request, now)
    except DestinationExists as exc:
        print(f"monitor-tui export: {exc}; add --force to replace it", file=err)
        return EXIT_USAGE
    except ExportError as exc:
        print(f"monitor-tui export: {exc}", file=err)
        return EXIT_USAGE
    if result.path is None:
        out.write(result.text)
    else:
        print(_written(result, request.format), file=out)
    if result.table.data_state == "empty":
        print(
            "monitor-tui export: the store has no usage in this range; "
            "run `monitor-tui sync` first if that is unexpected",
            file=err,
        )
    return EXIT_OK
