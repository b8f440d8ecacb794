"""Where the money went over a range: by model, project and key, by hour of the day
and by day, against the span before, and what could have been saved.

``compute_analytics`` reads the store once for the range and once for the span it
is compared with, and returns one immutable ``Analytics`` that the tab draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from monitor_tui.analytics.labels import label_breakdown
from monitor_tui.analytics.patterns import (
    DailyTrend,
    DaySpend,
    HourlyPattern,
    HourSlot,
    daily_pace,
    daily_trend,
    hourly_pattern,
)
from monitor_tui.analytics.ranges import (
    RANGE_KINDS,
    ROLLING_DAYS,
    Range,
    RangeError,
    Span,
    custom_range,
    make_range,
    parse_dates,
    period_of,
    period_range,
    rolling_range,
)
from monitor_tui.analytics.savings import (
    MODEL_FAMILIES,
    Savings,
    Suggestion,
    cheaper_models,
    estimate_savings,
    model_family,
)
from monitor_tui.analytics.tally import (
    DIMENSIONS,
    BreakdownLine,
    Totals,
    breakdown,
    percent,
    tally,
    totals,
)
from monitor_tui.budget import Budget
from monitor_tui.gc_pause import collector_paused
from monitor_tui.names import Names, read_names
from monitor_tui.report import period_usage_rows
from monitor_tui.store import Store
from monitor_tui.tracked_calls import TRACKED, tracked_rows
from monitor_tui.usage import USAGE_ENDPOINTS, UsageRow

if TYPE_CHECKING:
    from monitor_tui.pricing import Pricer

__all__ = [
    "DIMENSIONS",
    "MODEL_FAMILIES",
    "RANGE_KINDS",
    "ROLLING_DAYS",
    "Analytics",
    "BreakdownLine",
    "Change",
    "DailyTrend",
    "DaySpend",
    "HourSlot",
    "HourlyPattern",
    "Range",
    "RangeError",
    "Savings",
    "Span",
    "Suggestion",
    "Totals",
    "cheaper_models",
    "compute_analytics",
    "custom_range",
    "make_range",
    "model_family",
    "parse_dates",
    "period_of",
    "period_range",
    "rolling_range",
]


@dataclass(frozen=True)
class Change:
    """One figure of the range beside the same figure of the span before."""

    name: str
    value: Decimal
    previous: Decimal
    money: bool = False
    """True for dollars, False for counts."""

    @property
    def percent(self) -> Decimal | None:
        """The change in percent; None when the figure was zero before."""
        return percent(self.value - self.previous, self.previous)


@dataclass(frozen=True)
class Analytics:
    """Everything the Analytics tab shows about one range."""

    range: Range
    zone: ZoneInfo
    """The display zone the hours and days are grouped in."""
    now: datetime
    project: str | None
    """The project the figures are limited to; None for every project."""
    totals: Totals
    previous: Totals
    """The totals of ``range.previous``."""
    by_model: tuple[BreakdownLine, ...]
    by_project: tuple[BreakdownLine, ...]
    by_key: tuple[BreakdownLine, ...]
    hourly: HourlyPattern
    daily: DailyTrend
    savings: Savings
    read_from: datetime | None
    """Where the usage read into the store begins; None if nothing was read."""
    names: Names = field(default_factory=Names)
    """The project and key names the lines are labelled with."""
    by_label: tuple[BreakdownLine, ...] = ()
    """The calls recorded with ``track`` in the range, by their label; empty
    when none was recorded (or the data is the demo's)."""

    @property
    def range_is_complete(self) -> bool:
        """True when the whole range lies in the usage read so far."""
        return self.read_from is not None and self.read_from <= self.range.start

    @property
    def nothing_read(self) -> bool:
        """True when no usage has been read into the store yet: the figures are
        unknown, not zero."""
        totals = self.totals
        return (
            self.read_from is None
            and not totals.requests
            and not totals.input_tokens
            and not totals.output_tokens
            and not totals.spend_is_lower_bound
        )

    @property
    def previous_is_complete(self) -> bool:
        """True when the whole span before lies in the usage read so far, so
        comparing with it means something."""
        start = self.range.previous.start
        return self.read_from is not None and self.read_from <= start

    def breakdown(self, dimension: str) -> tuple[BreakdownLine, ...]:
        """The lines of the ``model``, ``project``, ``key`` or ``label``
        breakdown."""
        return {
            "model": self.by_model,
            "project": self.by_project,
            "key": self.by_key,
            "label": self.by_label,
        }[dimension]

    @property
    def changes(self) -> tuple[Change, ...]:
        """Each total beside the span before's."""
        now, before = self.totals, self.previous
        return (
            Change("Spend", now.spend_usd, before.spend_usd, money=True),
            Change("Requests", Decimal(now.requests), Decimal(before.requests)),
            Change(
                "Input tokens", Decimal(now.input_tokens), Decimal(before.input_tokens)
            ),
            Change(
                "Cached input",
                Decimal(now.cached_input_tokens),
                Decimal(before.cached_input_tokens),
            ),
            Change(
                "Output tokens",
                Decimal(now.output_tokens),
                Decimal(before.output_tokens),
            ),
        )


def _read_from(store: Store, origin: str) -> tuple[int | None, int | None]:
    """Where the usage read so far begins, and where its hourly part begins
    (epoch seconds); None for what was never read."""
    if origin == TRACKED:
        # Each recorded call is stored whole, at its second: nothing before
        # the last read of the spool is missing.
        read = store.last_sync(TRACKED) is not None or store.holds_calls()
        return (0, 0) if read else (None, None)
    hourly = [store.watermark(origin, name, "1h") for name in USAGE_ENDPOINTS]
    daily = [store.watermark(origin, name, "1d") for name in USAGE_ENDPOINTS]
    hourly_from = min((m["synced_from"] for m in hourly if m), default=None)
    daily_from = min((m["synced_from"] for m in daily if m), default=None)
    starts = [start for start in (hourly_from, daily_from) if start is not None]
    return min(starts, default=None), hourly_from


_PRICER: Pricer | None = None


def _pricer() -> Pricer:
    # Imported here: loading the price data takes a noticeable moment, and only
    # the savings need it.
    from monitor_tui.pricing import Pricer

    global _PRICER
    if _PRICER is None:
        _PRICER = Pricer()
    return _PRICER


# Thousands of short-lived objects beside the store's cached rows: the cycle
# collector is paused meanwhile, so it does not walk them all (gc_pause).
@collector_paused()
def compute_analytics(
    store: Store,
    origin: str,
    range: Range,
    zone: ZoneInfo,
    budget: Budget | None,
    now: datetime,
    project: str | None = None,
    *,
    pricer: Pricer | None = None,
) -> Analytics:
    """Compute what the Analytics tab shows about ``range`` from the store.

    Args:
        store: the store of ``origin``'s rows.
        origin: ``openai``, ``demo``...
        range: the range, from ``make_range``.
        zone: the display zone; hours and days are grouped in it.
        budget: the budget, for the daily pace; None without one.
        now: the current moment.
        project: count only this project's rows (``""``: rows without a
            project); None counts every project.
        pricer: prices the savings estimates; by default one shared pricer,
            which loads the price data on first use.
    """
    current = tally(period_usage_rows(store, origin, *range.epochs), project)
    before = tally(period_usage_rows(store, origin, *range.previous.epochs), project)
    spend = totals(current)
    names = read_names(store, origin)
    lines = {
        dimension: breakdown(current, before, dimension, spend.spend_usd, names)
        for dimension in DIMENSIONS
    }
    pace = None if budget is None else daily_pace(budget, now)
    read_from, hourly_from = _read_from(store, origin)
    labels: tuple[BreakdownLine, ...] = ()
    if origin != "demo":
        # The store of the organization's rows holds the recorded calls too.
        labels = label_breakdown(
            _of_project(tracked_rows(store, *range.epochs), project),
            _of_project(tracked_rows(store, *range.previous.epochs), project),
        )
    start, end = range.epochs
    # Daily buckets cannot say their hour: the pattern averages hourly data only.
    hours_from = end if hourly_from is None else max(start, hourly_from)
    return Analytics(
        range=range,
        zone=zone,
        now=now,
        project=project,
        totals=spend,
        previous=totals(before),
        by_model=lines["model"],
        by_project=lines["project"],
        by_key=lines["key"],
        hourly=hourly_pattern(current, range, zone, hours_from),
        daily=daily_trend(current, range, zone, pace),
        savings=estimate_savings(current, pricer or _pricer()),
        read_from=None if read_from is None else datetime.fromtimestamp(read_from, UTC),
        names=names,
        by_label=labels,
    )


def _of_project(rows: list[UsageRow], project: str | None) -> list[UsageRow]:
    if project is None:
        return rows
    return [row for row in rows if (row.get("project_id") or "") == project]
