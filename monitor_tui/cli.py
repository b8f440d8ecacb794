"""The ``monitor-tui`` command: the app, and headless subcommands for scripts
and cron.

Exit codes: 0 success; 1 the command ran and found a problem it reports (a failed
sync); 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from filelock import Timeout

from monitor_tui import __version__
from monitor_tui.budget import (
    DEFAULT_THRESHOLDS,
    Budget,
    BudgetError,
    check_start_day,
    check_zone,
    parse_amount,
    parse_project_budgets,
    parse_thresholds,
    resolve_project_names,
)
from monitor_tui.config import (
    ConfigError,
    Settings,
    default_config_path,
    load_settings,
    write_config_template,
)
from monitor_tui.export_cli import add_export_parser
from monitor_tui.logfile import log_to_file
from monitor_tui.price_overrides import PriceOverride, override_for
from monitor_tui.store import Store, StoreError, data_dir_problem

if TYPE_CHECKING:
    from monitor_tui.report import Report
    from monitor_tui.sync import SyncResult

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2

LOGGED_COMMANDS = ("sync", "report", "prune", "reset")
"""Commands that may sync or delete, and so leave a record in the log file."""
TOTALS_COMMANDS = ("sync", "report", "export")
"""Commands that read the data shown: without an admin key, the recorded calls
once there are some, as the app shows them."""

Clock = Callable[[], datetime]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code is 2 too
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _argument(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """Turn a core check's BudgetError into argparse's message and exit code 2."""

    def convert(text: str) -> Any:
        try:
            return check(text)
        except BudgetError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = check.__name__
    return convert


def _start_day(text: str) -> int:
    if not text.strip().isdigit():
        raise BudgetError(f"{text!r} is not a day from 1 to 28")
    return check_start_day(int(text))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(
        prog="monitor-tui",
        description="Watch what your OpenAI organization spends.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--data-dir", help="where the store lives")
    parser.add_argument("--config", help="the TOML config file to read")
    parser.add_argument(
        "--demo", action="store_true", help="use built-in demo data, not the API"
    )
    parser.add_argument("--timezone", help="display zone, an IANA name such as UTC")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sync = commands.add_parser("sync", help="read usage and costs into the store once")
    sync.add_argument("--json", action="store_true", help="print the outcome as JSON")

    report = commands.add_parser("report", help="the billing period so far")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.add_argument(
        "--sync",
        action="store_true",
        help="sync first; after a failed sync, report the last good data and exit 1",
    )

    budget = commands.add_parser("budget", help="set or show the monthly budget")
    budget_commands = budget.add_subparsers(dest="budget_command", metavar="ACTION")
    budget_commands.required = True
    budget_set = budget_commands.add_parser("set", help="set the monthly budget")
    budget_set.add_argument(
        "amount", type=_argument(parse_amount), help="US dollars a month"
    )
    budget_set.add_argument(
        "--start-day",
        type=_argument(_start_day),
        help="day of the month the period starts (1-28)",
    )
    budget_set.add_argument(
        "--timezone",
        dest="budget_timezone",
        type=_argument(check_zone),
        help="the zone whose midnight starts the period (default: the display zone)",
    )
    budget_set.add_argument(
        "--thresholds",
        type=_argument(parse_thresholds),
        help="alert at these percentages of the budget (default 50,75,90)",
    )
    budget_set.add_argument(
        "--projects",
        type=_argument(parse_project_budgets),
        help=(
            "budgets of single projects: PROJECT=AMOUNT,... by id or name ('' for none)"
        ),
    )
    budget_commands.add_parser("show", help="show the budget")
    budget_commands.add_parser("clear", help="remove the budget")
    check = budget_commands.add_parser(
        "check",
        help="one status line and a monitoring-plugin exit code (0 OK, 1 WARNING, "
        "2 CRITICAL, 3 UNKNOWN), for cron, Nagios or Icinga",
    )
    check.add_argument("--sync", action="store_true", help="sync first")

    config = commands.add_parser("config", help="the config file")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION")
    config_commands.required = True
    init = config_commands.add_parser(
        "init", help="write a commented config file, readable by you alone"
    )
    init.add_argument("--force", action="store_true", help="replace an existing one")
    config_commands.add_parser("path", help="print where the config file is")

    commands.add_parser("doctor", help="check the configuration, the store and the key")
    add_export_parser(commands)
    prune = commands.add_parser("prune", help="delete stored rows older than DAYS")
    prune.add_argument(
        "--older-than",
        metavar="DAYS",
        type=_argument(_days),
        required=True,
        help="whole days; at least history_days",
    )
    prune.add_argument("--yes", action="store_true", help="do not ask first")
    reset = commands.add_parser(
        "reset", help="empty the store of the active source (asks first)"
    )
    reset.add_argument("--yes", action="store_true", help="do not ask first")
    return parser


def _days(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 36500:
        raise BudgetError(f"{text!r} is not a number of days from 1 to 36500")
    return int(text)


def _is_budget_check(argv: Sequence[str]) -> bool:
    """True when the command line asks for ``budget check``, however badly."""
    words = [word for word in argv if not word.startswith("-")]
    return any(
        first == "budget" and second == "check"
        for first, second in itertools.pairwise(words)
    )


def _now() -> datetime:
    return datetime.now(UTC)


def settings_from(args: argparse.Namespace, env: Mapping[str, str] | None) -> Settings:
    """The settings the global flags, the environment and the config file give.

    Raises:
        ConfigError: a value is unusable.
    """
    return load_settings(
        env=env,
        config_path=args.config,
        data_dir=args.data_dir,
        demo=args.demo,
        timezone=args.timezone,
    )


@contextmanager
def warnings_to(err: TextIO) -> Iterator[None]:
    """Show this package's warnings (a damaged store file set aside, rows the API
    sent that could not be read) on ``err`` while a command runs."""
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("monitor-tui: %(message)s"))
    logger = logging.getLogger("monitor_tui")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _sync(settings: Settings, clock: Clock) -> SyncResult:
    from monitor_tui.sync import open_syncer

    syncer = open_syncer(settings, lambda: int(clock().timestamp()))
    try:
        return syncer.sync()
    finally:
        syncer.close()


def _report(settings: Settings, store: Store, clock: Clock) -> Report:
    from monitor_tui.snapshot import current_report
    from monitor_tui.spool import ingest
    from monitor_tui.sync import reprice_if_changed

    # Calls recorded by the user's programs count in every total read.
    calls_store = Store(settings.data_dir)
    ingest(calls_store, settings.data_dir, price_overrides=settings.price_overrides)
    for priced in {store.data_dir: store, calls_store.data_dir: calls_store}.values():
        # Edited [prices] or a new price data release apply to stored rows too.
        reprice_if_changed(priced, settings.price_overrides)
    return current_report(
        store,
        settings.origin,
        _stored_budget(settings),
        settings.zone,
        clock(),
        calls_store=calls_store,
    )


def unused_overrides(
    overrides: Mapping[str, PriceOverride], report: Report
) -> list[str]:
    """The ``[prices]`` entries that priced none of the period's usage (a typo,
    a model not used this period, or one it cannot price without an output
    rate), so the user can tell a silent no-op."""
    if not report.models:
        return []
    priced = [line.model for line in report.models if line.price_state == "override"]
    return sorted(
        name
        for name, override in overrides.items()
        if not any(override_for({name: override}, model) for model in priced)
    )


def _project_ids(
    projects: tuple[tuple[str, Decimal], ...], settings: Settings
) -> tuple[tuple[str, Decimal], ...]:
    """``--projects`` with projects given by name turned into their ids, by the
    names the last sync read.

    Raises:
        BudgetError: a name matches no known project, or several.
    """
    from monitor_tui.names import read_names

    names = read_names(Store(settings.store_dir), settings.origin)
    return resolve_project_names(
        projects, {project_id: p.name for project_id, p in names.projects.items()}
    )


def _stored_budget(settings: Settings) -> Budget | None:
    from monitor_tui.snapshot import load_budget

    # The budget is the user's, kept in the main data dir even in demo mode.
    return load_budget(Store(settings.data_dir))


def _with_source(
    args: argparse.Namespace, settings: Settings, clock: Clock
) -> Settings:
    """The settings with the data a command reads: ``export --origin`` when
    given, else the recorded calls without an admin key once there are some.

    Calls still in the spool are stored first, since every total counts them;
    for tracked data that read is recorded as its sync, so the data's age is
    the age of that read."""
    from monitor_tui.tracked_source import choose_source

    origin = getattr(args, "origin", None)
    if origin is None:
        settings = choose_source(settings)
    else:
        settings = dataclasses.replace(settings, chosen_origin=origin)
    if settings.origin == "tracked" and args.command != "sync":
        result = _sync(settings, clock)
        if not result.ok:
            raise StoreError(result.error or "the recorded calls could not be read")
    return settings


def _print_demo_note(settings: Settings, err: TextIO) -> None:
    if settings.origin == "tracked" and not settings.admin_key:
        print(
            "TRACKED data: no admin key is configured, so these are the calls\n"
            "recorded on this machine with track(), not the organization's usage.",
            file=err,
        )
    if settings.use_demo and not settings.demo:
        print(
            "DEMO data: no admin key is configured. To read your organization, set\n"
            "OPENAI_ADMIN_KEY (or admin_key in the config file).",
            file=err,
        )


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    clock: Clock = _now,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command and return its exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    argv = sys.argv[1:] if argv is None else list(argv)
    if _is_budget_check(argv):
        from monitor_tui.budget_check import main as check_main

        # A monitoring plugin says UNKNOWN (3) for any trouble of its own,
        # bad arguments included, never 2, which means CRITICAL.
        return check_main(argv, build_parser(), env=env, clock=clock, out=out)
    args = build_parser().parse_args(argv)
    if args.command == "config":
        return _config(args, os.environ if env is None else env, out, err)
    try:
        settings = settings_from(args, env)
    except ConfigError as exc:
        print(f"monitor-tui: {exc}", file=err)
        return EXIT_USAGE
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        print(
            f"monitor-tui: cannot use the data directory {settings.data_dir}: it is "
            "not a directory",
            file=err,
        )
        return EXIT_USAGE
    if args.command is None:
        return _run_app(settings, clock, out, err)
    handler = log_to_file(settings) if args.command in LOGGED_COMMANDS else None
    try:
        with warnings_to(err):
            return _run_command(args, settings, clock, out, err)
    except StoreError as exc:
        print(f"monitor-tui: {exc}", file=err)
        return EXIT_PROBLEM
    except Timeout as exc:
        print(
            f"monitor-tui: another monitor-tui process holds {exc.lock_file}; "
            "try again in a moment",
            file=err,
        )
        return EXIT_PROBLEM
    except OSError as exc:
        if exc.filename is None:
            raise
        print(f"monitor-tui: {data_dir_problem(exc, settings.data_dir)}", file=err)
        return EXIT_USAGE
    finally:
        if handler is not None:
            logging.getLogger("monitor_tui").removeHandler(handler)
            handler.close()


def _run_command(
    args: argparse.Namespace,
    settings: Settings,
    clock: Clock,
    out: TextIO,
    err: TextIO,
) -> int:
    if args.command in TOTALS_COMMANDS:
        if args.demo and getattr(args, "origin", None) not in (None, "demo"):
            print(
                f"monitor-tui: --demo and --origin {args.origin} contradict each "
                "other; give one",
                file=err,
            )
            return EXIT_USAGE
        settings = _with_source(args, settings, clock)
    store = Store(settings.store_dir)
    from monitor_tui.report_text import format_report, format_sync

    for warning in settings.warnings:
        print(f"monitor-tui: warning: {warning}", file=err)
    if args.command == "budget":
        try:
            return _budget(args, settings, Store(settings.data_dir), out)
        except BudgetError as exc:  # a project named that no sync has read
            print(f"monitor-tui: --projects: {exc}", file=err)
            return EXIT_USAGE
    if args.command in ("doctor", "prune", "reset"):
        return _upkeep(args, settings, clock, out, err)

    _print_demo_note(settings, err)
    if args.command == "export":
        from monitor_tui.export_cli import run_export

        return run_export(args, settings, clock, out, err)
    code = EXIT_OK
    if args.command == "sync" or args.sync:
        result = _sync(settings, clock)
        code = EXIT_OK if result.ok else EXIT_PROBLEM
        if args.command == "sync":
            if args.json:
                print(json.dumps(_sync_json(result), indent=2), file=out)
            else:
                print(format_sync(result), file=out if result.ok else err)
            return code
        # Before a report, stdout holds the report alone, so --json parses; after
        # a failed sync the report still shows the last good data.
        print(format_sync(result), file=err if args.json or not result.ok else out)
        if result.ok and not args.json:
            print(file=out)

    report = _report(settings, store, clock)
    if report.last_sync_at is None and store.last_sync(settings.origin) is None:
        # A mistyped --data-dir must not read as a month without spend.
        print(
            f"monitor-tui: nothing has been synced into {settings.store_dir} yet; "
            "run `monitor-tui sync` first",
            file=err,
        )
    for entry in unused_overrides(settings.price_overrides, report):
        print(
            f'monitor-tui: [prices."{entry}"] priced none of this period\'s '
            "usage; check the name against `monitor-tui report`, and give an "
            "output rate for a model the price data does not know",
            file=err,
        )
    if getattr(args, "json", False):
        print(json.dumps(report.to_json(), indent=2), file=out)
    else:
        print(format_report(report), file=out)
    return code


def _run_app(settings: Settings, clock: Clock, out: TextIO, err: TextIO) -> int:
    if not out.isatty():
        print(
            "monitor-tui: the app needs a terminal; in scripts use "
            "`monitor-tui report` or `monitor-tui sync`",
            file=err,
        )
        return EXIT_USAGE
    from monitor_tui.app import run_app
    from monitor_tui.tracked_source import choose_source

    # A listing or two: the app ingests the spool itself within a second.
    return run_app(choose_source(settings), clock=clock)


def _upkeep(
    args: argparse.Namespace,
    settings: Settings,
    clock: Clock,
    out: TextIO,
    err: TextIO,
) -> int:
    from monitor_tui import upkeep

    if args.command == "doctor":
        checks = upkeep.doctor(settings, clock())
        for check in checks:
            print(check, file=out)
        return EXIT_OK if all(check.ok for check in checks) else EXIT_PROBLEM

    if not args.yes and not upkeep.can_ask():
        print(
            f"monitor-tui: {args.command} deletes data and asks first; without a "
            "terminal to ask on, add --yes",
            file=err,
        )
        return EXIT_USAGE
    ask = (lambda question: True) if args.yes else upkeep.tty_ask
    try:
        if args.command == "prune":
            said = upkeep.prune(settings, args.older_than, clock(), ask)
        else:
            said = upkeep.reset(settings, ask)
    except ValueError as exc:
        print(f"monitor-tui: {exc}", file=err)
        return EXIT_USAGE
    print(said, file=out)
    return EXIT_OK


def _config(
    args: argparse.Namespace, env: Mapping[str, str], out: TextIO, err: TextIO
) -> int:
    """``config init`` and ``config path``, which work before any config is read
    (a config file named with --config may not exist yet)."""
    named = args.config or env.get("MONITOR_TUI_CONFIG")
    path = Path(named).expanduser() if named else default_config_path()
    if args.config_command == "path":
        print(path, file=out)
        return EXIT_OK
    try:
        write_config_template(path, force=args.force)
    except ConfigError as exc:
        print(f"monitor-tui: {exc}", file=err)
        return EXIT_USAGE
    print(f"wrote {path} (readable by you alone); edit it to set the key", file=out)
    return EXIT_OK


def _sync_json(result: SyncResult) -> dict[str, Any]:
    return {
        "source": result.origin,
        "ok": result.ok,
        "error": result.error,
        "pages": result.pages,
        "buckets": result.buckets,
        "rows": result.rows,
        "seconds": round(result.seconds, 3),
        "windows": [
            {
                "endpoint": w.window.endpoint,
                "width": w.window.width,
                "start": datetime.fromtimestamp(w.window.start, UTC).isoformat(),
                "end": datetime.fromtimestamp(w.window.end, UTC).isoformat(),
                "pages": w.pages,
                "buckets": w.buckets,
                "rows": w.rows,
            }
            for w in result.windows
        ],
        "names": None
        if result.names is None
        else {
            "read": result.names.read,
            "projects": result.names.projects,
            "api_keys": result.names.keys,
            "error": result.names.error,
        },
    }


def _budget(
    args: argparse.Namespace, settings: Settings, store: Store, out: TextIO
) -> int:
    if args.budget_command == "set":
        current = _stored_budget(settings)
        budget = Budget(
            amount_usd=args.amount,
            start_day=args.start_day or (current.start_day if current else 1),
            # The zone is fixed when the budget is set, so a later --timezone
            # changes what is shown, never the billing period.
            timezone=args.budget_timezone
            or (current.timezone if current else settings.timezone),
            thresholds=args.thresholds
            or (current.thresholds if current else DEFAULT_THRESHOLDS),
            projects=(current.projects if current else ())
            if args.projects is None
            else _project_ids(args.projects, settings),
        )
        store.set_budget(budget.to_record())
        print(f"budget set: {budget.describe()}", file=out)
        return EXIT_OK
    if args.budget_command == "clear":
        if _stored_budget(settings) is None:
            print("no budget was set; nothing to remove", file=out)
            return EXIT_OK
        store.clear_budget()
        print("budget removed; no alerts fire until one is set again", file=out)
        return EXIT_OK
    budget = _stored_budget(settings)
    if budget is None:
        print("no budget set; set one with: monitor-tui budget set AMOUNT", file=out)
    else:
        print(f"budget: {budget.describe()}", file=out)
    return EXIT_OK


def run() -> None:
    """The console script's entry point."""
    try:
        code = main()
    except BrokenPipeError:
        # The reader (`| head`) has gone; say nothing more, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    except KeyboardInterrupt:
        # A sync stopped here is read again from the same place next time.
        print("monitor-tui: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
