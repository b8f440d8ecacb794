"""``monitor-tui budget check``: the budget's state as one line and an exit code
in the monitoring-plugin convention, so cron, Nagios or Icinga can run it as is."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import TextIO

from filelock import Timeout

from monitor_tui.budget import Budget
from monitor_tui.config import ConfigError, Settings
from monitor_tui.report import Report
from monitor_tui.store import Store, StoreError

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Verdict:
    """What the check found: the exit code and the one line it prints."""

    code: int
    line: str


def unknown(reason: str) -> Verdict:
    """The verdict when the check cannot judge the budget."""
    return Verdict(UNKNOWN, f"BUDGET UNKNOWN - {reason}")


def _plain(amount: Decimal, rounding: str) -> str:
    """Dollars for performance data: no separators."""
    return f"{amount.quantize(CENT, rounding=rounding)}"


def _shown(amount: Decimal, rounding: str) -> str:
    """Dollars for a person: ``1,250.50``."""
    return f"{amount.quantize(CENT, rounding=rounding):,}"


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def judge(
    report: Report, budget: Budget, now: datetime, stale_after_minutes: int
) -> Verdict:
    """Judge the period's estimated spend against the budget and its thresholds.

    A threshold is crossed when spend is at or above it; spend at or over the
    budget is critical. Data older than ``stale_after_minutes`` is not judged.
    """
    if report.last_sync_at is None:
        return unknown("no sync has finished yet; run `monitor-tui sync`")
    age = now - report.last_sync_at
    if age > timedelta(minutes=stale_after_minutes):
        return unknown(
            f"the last sync was {_age(age)} ago (stale after "
            f"{stale_after_minutes} min); check that syncing works"
        )

    code, text = _judge_one(report.spend_usd, budget.amount_usd, budget.thresholds)
    if report.spend_is_lower_bound:
        text = f"at least {text}"
    projects = dict(report.project_spend)
    for project, amount in budget.projects:
        spend = projects.get(project, Decimal(0))
        project_code, project_text = _judge_one(spend, amount, budget.thresholds)
        if project_code != OK:
            code = max(code, project_code)
            text += f"; project {project} {project_text}"
    warn = budget.threshold_usd(budget.thresholds[0])
    amount = budget.amount_usd
    perfdata = (
        f"spend={_plain(report.spend_usd, ROUND_DOWN)};{_plain(warn, ROUND_UP)};"
        f"{_plain(amount, ROUND_UP)};0;{_plain(amount, ROUND_UP)}"
    )
    return Verdict(code, f"BUDGET {STATES[code]} - {text} | {perfdata}")


def _judge_one(
    spend: Decimal, amount: Decimal, thresholds: tuple[int, ...]
) -> tuple[int, str]:
    """The state of one budget and its words: ``$12.84 of $100.00 (12.8%)``.

    Spend and its share are rounded down, so a budget not yet reached never
    reads as 100 %.
    """
    share = (spend / amount * 100).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    crossed = [p for p in thresholds if spend >= amount * p / 100]
    if spend >= amount:
        code, why = CRITICAL, ", the budget is spent"
    elif crossed:
        code, why = WARNING, f", past the {crossed[-1]}% threshold"
    else:
        code, why = OK, ""
    words = f"${_shown(spend, ROUND_DOWN)} of ${_shown(amount, ROUND_UP)} ({share}%)"
    return code, words + why


def _check(
    args: argparse.Namespace, env: Mapping[str, str] | None, clock: Callable
) -> Verdict:
    from monitor_tui.cli import settings_from

    try:
        settings = settings_from(args, env)
    except ConfigError as exc:
        return unknown(f"configuration: {exc}")
    if settings.demo:
        return unknown("--demo was given, and demo data is never judged")
    from monitor_tui.tracked_source import choose_source

    # Without an admin key, the calls recorded with track() are real spend.
    settings = choose_source(settings)
    if settings.use_demo:
        return unknown(
            "no admin key is configured, and demo data is never judged; set "
            "OPENAI_ADMIN_KEY"
        )
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        return unknown(
            f"cannot use the data directory {settings.data_dir}: not a directory"
        )
    # Recorded calls are read from the spool first, as every total reads them.
    return _check_store(settings, args.sync or settings.origin == "tracked", clock)


def _check_store(settings: Settings, sync: bool, clock: Callable) -> Verdict:
    from monitor_tui.snapshot import current_report, load_budget

    try:
        budget = load_budget(Store(settings.data_dir))
        if budget is None:
            return unknown(
                "no budget set; set one with `monitor-tui budget set AMOUNT`"
            )
        from monitor_tui.sync import reprice_if_changed

        if sync:
            from monitor_tui.sync import open_syncer

            syncer = open_syncer(settings, lambda: int(clock().timestamp()))
            try:
                result = syncer.sync()
            finally:
                syncer.close()
            if not result.ok:
                return unknown(f"the sync failed: {result.error}")
        now = clock()
        store = Store(settings.store_dir)
        reprice_if_changed(store, settings.price_overrides)
        report = current_report(store, settings.origin, budget, settings.zone, now)
    except (StoreError, Timeout) as exc:
        return unknown(str(exc))
    except OSError as exc:
        return unknown(f"cannot use the data directory: {exc.strerror}")
    return judge(report, budget, now, settings.stale_after_minutes)


def main(
    argv: Sequence[str],
    parser: argparse.ArgumentParser,
    *,
    env: Mapping[str, str] | None,
    clock: Callable[[], datetime],
    out: TextIO,
) -> int:
    """Run ``budget check``; print one line and return the plugin exit code."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the error
        if exc.code == 0:  # --help
            return OK
        print("BUDGET UNKNOWN - bad arguments; see the usage above", file=out)
        return UNKNOWN
    from monitor_tui.cli import warnings_to

    # Warnings go to stderr: stdout holds the one status line alone.
    with warnings_to(sys.stderr):
        verdict = _check(args, env, clock)
    # One line, whatever an error message held: a monitoring plugin's output
    # is read line by line.
    print(" ".join(verdict.line.split()), file=out)
    return verdict.code
