"""One immutable picture of the billing period, built from the store after each
sync, that the app's views draw from and never compute themselves."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor_tui.alerts import (
    MIN_BASELINE_HOURS,
    Alert,
    alert_log,
    due_alerts,
    fire_due_alerts,
    fired_keys,
)
from monitor_tui.budget import Budget, BudgetError
from monitor_tui.gc_pause import collector_paused
from monitor_tui.period import billing_period
from monitor_tui.report import ModelLine, Report, build_report
from monitor_tui.store import Store, StoreError
from monitor_tui.tracked_calls import TRACKED, tracked_rows
from monitor_tui.usage import UsageRow, align

CHART_HOURS = 24
"""The hours of spend the Live tab charts, the current one last."""

BASELINE_HOURS = 7 * 24
"""The trailing window whose average spend per hour is "the usual pace"."""


def load_budget(store: Store) -> Budget | None:
    """The budget kept in ``store``, or None when none is set.

    Raises:
        StoreError: the stored budget is damaged; the message says how to fix it.
    """
    record = store.budget()
    if record is None:
        return None
    try:
        return Budget.from_record(record)
    except BudgetError as exc:
        raise StoreError(str(exc)) from None


def current_report(
    store: Store,
    origin: str,
    budget: Budget | None,
    zone: ZoneInfo,
    now: datetime,
    calls_store: Store | None = None,
) -> Report:
    """The report of the billing period containing ``now``: the budget's period,
    or the calendar month in ``zone`` when no budget is set.

    Args:
        calls_store: the store of the calls recorded with ``track`` (the main
            data directory's, even when the report is of demo data); their
            spend is added as the report's tracked figures.
    """
    if budget is None:
        report = build_report(store, origin, billing_period(now, 1, zone), now, None)
    else:
        report = build_report(store, origin, budget.period(now), now, budget.amount_usd)
    if calls_store is None:
        return report
    from monitor_tui.tracked_calls import tracked_totals

    period = report.period
    totals = tracked_totals(
        calls_store, int(period.start.timestamp()), int(period.end.timestamp())
    )
    return replace(
        report, tracked_spend_usd=totals.spend_usd, tracked_calls=totals.calls
    )


@dataclass(frozen=True)
class HourSpend:
    """The estimated spend of one clock hour."""

    start: datetime
    spend_usd: Decimal


@dataclass(frozen=True)
class SyncStatus:
    """How fresh the data is: the last good sync and, if the last one failed, why."""

    last_ok_at: datetime | None
    error: str | None
    """The reason the last finished sync failed; None when it succeeded."""


@dataclass(frozen=True)
class Snapshot:
    """Everything the Live tab shows, as it stood at ``report.now``."""

    report: Report
    budget: Budget | None
    hourly_spend: tuple[HourSpend, ...]
    """Spend per hour over the last ``CHART_HOURS`` hours, the current one last."""
    sync: SyncStatus
    zone: ZoneInfo
    """The display zone."""
    hourly_average_usd: Decimal | None = None
    """Average spend per hour over the trailing 7 days (the hours read of them);
    None with less than a day of history."""
    alerts: tuple[Alert, ...] = ()
    """The alert log, newest first."""
    fired: frozenset[str] = field(default_factory=frozenset)
    """Keys of the alerts fired in this billing period."""
    new_alerts: tuple[Alert, ...] = ()
    """The alerts that fired while this snapshot was built."""

    @property
    def now(self) -> datetime:
        """The moment the snapshot describes."""
        return self.report.now

    @property
    def busiest_model(self) -> ModelLine | None:
        """The model with the highest spend in the period (most tokens if none
        is priced)."""
        lines = self.report.models
        if not lines:
            return None
        return max(
            lines,
            key=lambda line: (
                line.cost_usd or Decimal(0),
                line.input_tokens + line.output_tokens,
            ),
        )

    @property
    def spend_share(self) -> Decimal | None:
        """Spend as a percentage of the budget; None without a budget."""
        if self.budget is None:
            return None
        return self.report.spend_usd / self.budget.amount_usd * 100

    @property
    def period_share(self) -> Decimal:
        """How much of the billing period has passed, in percent."""
        period = self.report.period
        elapsed = min(max(self.now - period.start, timedelta(0)), period.length)
        return Decimal(elapsed.total_seconds() * 100 / period.length.total_seconds())


def _hour_rows(store: Store, origin: str, start: int, end: int) -> list[UsageRow]:
    """The rows whose spend is counted by the hour in [start, end): hourly
    buckets, or for tracked data the calls, each in the hour it was made."""
    if origin == TRACKED:
        return tracked_rows(store, start, end)
    return store.usage_rows(origin, "1h", start, end)


def _hourly_spend(store: Store, origin: str, now: datetime) -> tuple[HourSpend, ...]:
    current = align(int(now.timestamp()), "1h")
    first = current - (CHART_HOURS - 1) * 3600
    spend = dict.fromkeys(range(first, current + 1, 3600), Decimal(0))
    for row in _hour_rows(store, origin, first, current + 3600):
        hour = align(row["start"], "1h")
        if row.get("cost_usd") is not None and hour in spend:
            spend[hour] += Decimal(row["cost_usd"])
    return tuple(
        HourSpend(datetime.fromtimestamp(start, UTC), usd)
        for start, usd in spend.items()
    )


def _hourly_average(store: Store, origin: str, now: datetime) -> Decimal | None:
    """Average spend per hour over the last 7 days before the current hour.

    Only hours that have been read count, so a store synced for two days is
    averaged over two days, not diluted over seven.
    """
    current = align(int(now.timestamp()), "1h")
    since = current - BASELINE_HOURS * 3600
    if origin == TRACKED:
        # TODO: when recording began is not kept, so the first call of the 7
        # days stands for it; calls stopped for days read as a short history.
        rows = tracked_rows(store, since, current)
        if not rows:
            return None
        read_from = min(row["start"] for row in rows)
    else:
        mark = store.watermark(origin, "completions", "1h")
        if mark is None:
            return None
        read_from = mark["synced_from"]
    since = max(since, align(read_from, "1h"))
    hours = (current - since) // 3600
    if hours < MIN_BASELINE_HOURS:
        return None
    rows = _hour_rows(store, origin, since, current)
    spend = sum(
        (Decimal(r["cost_usd"]) for r in rows if r.get("cost_usd") is not None),
        Decimal(0),
    )
    return spend / hours


def _sync_status(store: Store, origin: str) -> SyncStatus:
    record = store.last_sync(origin) or {}
    last_ok = record.get("last_ok_at")  # the store gives an int or None
    failed = record.get("ok") is False
    return SyncStatus(
        last_ok_at=None if last_ok is None else datetime.fromtimestamp(last_ok, UTC),
        error=str(record.get("error") or "the sync failed") if failed else None,
    )


# TODO: the Live tab waits for this read of every row of the period (0.19 s for
# a month of a busy organization); per-day summaries kept in the store would let
# it paint sooner.
# Reading makes tens of thousands of rows beside those already cached: the cycle
# collector is paused meanwhile, so it does not walk them all (gc_pause).
@collector_paused()
def build_snapshot(
    store: Store,
    origin: str,
    budget: Budget | None,
    zone: ZoneInfo,
    now: datetime,
    *,
    burn_multiple: Decimal | None = None,
    fire_alerts: bool = False,
    calls_store: Store | None = None,
) -> Snapshot:
    """Read the store once and build what the tabs show at ``now``.

    Args:
        burn_multiple: the burn-rate alert's multiple of the usual pace; None or
            0 turns it off.
        fire_alerts: also fire (record in the store) the alerts now due; the
            snapshot's ``new_alerts`` are then the ones to deliver.
    """
    report = current_report(store, origin, budget, zone, now, calls_store)
    average = _hourly_average(store, origin, now)
    fired_now: list[Alert] = []
    if fire_alerts:
        due = due_alerts(
            report, budget, dict(report.project_spend), average, burn_multiple
        )
        fired_now = fire_due_alerts(store, origin, due, report, budget)
    return Snapshot(
        report=report,
        budget=budget,
        hourly_spend=_hourly_spend(store, origin, now),
        sync=_sync_status(store, origin),
        zone=zone,
        hourly_average_usd=average,
        alerts=alert_log(store, origin),
        fired=fired_keys(store, origin, report),
        new_alerts=tuple(fired_now),
    )
