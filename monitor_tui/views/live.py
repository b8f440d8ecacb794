"""The Live tab: where the billing period stands, how fast it burns, where it lands,
and how fresh that is."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar, Static

from monitor_tui.config import Settings
from monitor_tui.money import screen_money, screen_percent
from monitor_tui.report_text import compact_count, printable, short_name
from monitor_tui.snapshot import Snapshot
from monitor_tui.widgets.hourly_chart import HourlySpendChart

if TYPE_CHECKING:
    from monitor_tui.tracked_calls import TrackedCall


def span(delta: timedelta) -> str:
    """A duration for a person, to the two largest units: ``27d 8h``, ``5 min``."""
    seconds = max(int(delta.total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def demo_banner(settings: Settings) -> str:
    """Why the data is made up, and how to see the real organization instead."""
    if settings.demo:
        return (
            "DEMO: made-up data, because --demo was given. Run without --demo "
            "to watch your organization."
        )
    return (
        "DEMO: made-up data, because no admin key is configured. To watch your "
        "organization, set OPENAI_ADMIN_KEY to an admin key (or admin_key in the "
        "config file) and start monitor-tui again."
    )


TRACKED_BANNER = (
    "TRACKED: the calls recorded on this machine with track(), not the "
    "organization's usage, because no admin key is configured. To watch the "
    "organization, set OPENAI_ADMIN_KEY to an admin key and start monitor-tui again."
)

SOURCE_WORDS = {"demo": "DEMO", "tracked": "TRACKED"}
"""The freshness line's word for the data shown; the organization's is LIVE."""


def source_banner(settings: Settings) -> str | None:
    """What the data shown is when it is not the organization's; None when it
    is."""
    if settings.origin == "tracked":
        return TRACKED_BANNER
    if settings.use_demo:
        return demo_banner(settings)
    return None


class LiveView(VerticalScroll):
    """Spend against the budget, the period, forecast, burn rate and freshness."""

    snapshot: reactive[Snapshot | None] = reactive(None)
    """The figures to show; None until the store has been read."""
    syncing: reactive[bool] = reactive(False)
    """True while a sync runs."""
    problem: reactive[str | None] = reactive(None)
    """Why this session's last sync failed, if it did."""
    store_problem: reactive[str | None] = reactive(None)
    """Why the store or the budget could not be read, if they could not."""
    tracked_calls: reactive[tuple[TrackedCall, ...]] = reactive(())
    """The latest calls recorded with ``track`` on this machine, newest first."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock

    def compose(self) -> ComposeResult:
        banner = source_banner(self.settings)
        yield Static(banner or "", id="demo-banner", markup=False)
        yield Static(id="freshness")
        yield Static(id="problem")
        yield Static(id="store-problem")
        with Horizontal(classes="meter"):
            yield Label("Spend", classes="meter-label")
            yield ProgressBar(
                total=100, show_eta=False, show_percentage=False, id="spend-bar"
            )
            yield Label("no budget set", id="no-budget")
            yield Static(id="spend-text")
        with Horizontal(classes="meter"):
            yield Label("Period", classes="meter-label")
            yield ProgressBar(
                total=100, show_eta=False, show_percentage=False, id="period-bar"
            )
            yield Static(id="period-text")
        yield Static(id="crossing")
        yield Static(id="figures")
        yield Label("Calls recorded on this machine", id="calls-title")
        yield Static(id="calls")
        yield Label(id="chart-title")
        yield HourlySpendChart(id="hourly-chart")

    def on_mount(self) -> None:
        # Only the age of the data moves between syncs.
        self.set_interval(1, self._show_freshness)
        self.show_source()
        self._show_snapshot()

    def show_source(self) -> None:
        """Say what the data is: the demo's, the calls recorded on this
        machine, or (no banner) the organization's."""
        banner = source_banner(self.settings)
        box = self.query_one("#demo-banner", Static)
        box.display = banner is not None
        box.update(banner or "")
        self._show_freshness()

    def watch_snapshot(self) -> None:
        self._show_snapshot()

    def watch_syncing(self) -> None:
        self._show_freshness()

    def watch_problem(self) -> None:
        self._show_freshness()

    def watch_store_problem(self) -> None:
        self._show_snapshot()

    def watch_tracked_calls(self) -> None:
        self._show_calls()

    # Drawing

    def _show_snapshot(self) -> None:
        if not self.is_mounted:
            return
        self._show_freshness()
        snapshot = self.snapshot
        for meter in self.query(".meter"):
            meter.display = snapshot is not None
        self.query_one("#chart-title").display = snapshot is not None
        self.query_one(HourlySpendChart).display = snapshot is not None
        if snapshot is None:
            self.query_one("#figures", Static).update(
                "The store could not be read."
                if self.store_problem
                else "Reading the store…"
            )
            self.query_one("#crossing").display = False
            return
        self._show_spend(snapshot)
        self._show_period(snapshot)
        self._show_crossing(snapshot)
        self.query_one("#figures", Static).update(self._figures(snapshot))
        zone = snapshot.zone
        self.query_one("#chart-title", Label).update(
            f"Spend per hour, last {len(snapshot.hourly_spend)} hours ({zone.key})"
        )
        self.query_one(HourlySpendChart).show_hours(snapshot.hourly_spend, zone)
        self._show_calls()

    def _show_calls(self) -> None:
        """The feed of calls the user's programs recorded with ``track``."""
        if not self.is_mounted:
            return
        calls = self.tracked_calls
        self.query_one("#calls-title").display = bool(calls)
        box = self.query_one("#calls", Static)
        box.display = bool(calls)
        if not calls:
            return
        zone = self.snapshot.zone if self.snapshot else self.settings.zone
        table = Table.grid(padding=(0, 2))
        for justify in ("left", "left", "right", "right", "right", "left"):
            table.add_column(justify=justify, no_wrap=True)
        for call in calls:
            if call.usage_known:
                tokens_in = f"{compact_count(call.input_tokens)} in"
                tokens_out = f"{compact_count(call.output_tokens)} out"
            else:  # a stream stopped before its usage came
                tokens_in, tokens_out = "? in", "? out"
            if call.cost_usd is not None:
                cost = screen_money(call.cost_usd)
            else:
                cost = "no price" if call.usage_known else "stopped"
            table.add_row(
                f"{call.at.astimezone(zone):%H:%M:%S}",
                short_name(printable(call.model or "?"), 28),
                tokens_in,
                tokens_out,
                cost,
                short_name(printable(call.label or ""), 16),
            )
        box.update(table)

    def _show_spend(self, snapshot: Snapshot) -> None:
        report = snapshot.report
        bar = self.query_one("#spend-bar", ProgressBar)
        share = snapshot.spend_share
        bar.display = share is not None
        self.query_one("#no-budget").display = share is None
        text = self.query_one("#spend-text", Static)
        spend = screen_money(report.spend_usd)
        if snapshot.sync.last_ok_at is None and not report.requests:
            spend = "—"  # nothing read yet is not the same as nothing spent
        elif report.spend_is_lower_bound:
            spend = f"at least {spend}"
        if snapshot.budget is None or share is None:
            hint = "press 3 to set a budget"
            text.update(f"{spend} this period · {hint}")
            return
        bar.update(progress=float(min(share, Decimal(100))))
        bar.set_class(share >= 100, "over")
        bar.set_class(
            report.budget_crossing_at is not None and share < 100, "heading-over"
        )
        budget = screen_money(snapshot.budget.amount_usd)
        text.update(f"{spend} of {budget} · {screen_percent(share)}")

    def _show_period(self, snapshot: Snapshot) -> None:
        period = snapshot.report.period
        self.query_one("#period-bar", ProgressBar).update(
            progress=float(snapshot.period_share)
        )
        left = span(period.end - snapshot.now)
        # The period is the budget's: its days are those of the budget's zone.
        start, end = period.local(period.start), period.local(period.end)
        days = f"{start:%a %d %b} → {end:%a %d %b}"
        if period.zone.key != snapshot.zone.key:
            days += f" ({period.zone.key})"
        self.query_one("#period-text", Static).update(
            f"{days} · {screen_percent(snapshot.period_share)} passed · {left} left"
        )

    def _show_crossing(self, snapshot: Snapshot) -> None:
        report = snapshot.report
        crossing = self.query_one("#crossing", Static)
        crossing.display = report.budget_crossing_at is not None
        if report.budget_crossing_at is None or report.budget_usd is None:
            return
        budget = screen_money(report.budget_usd)
        if report.spend_usd >= report.budget_usd:
            crossing.update(
                f"⚠ Over budget: {screen_money(report.spend_usd)} spent of {budget}."
            )
        else:
            crossing.update(
                f"⚠ At this pace the {budget} budget is crossed "
                f"{self._moment(snapshot, report.budget_crossing_at)}, before the "
                "period ends."
            )

    def _figures(self, snapshot: Snapshot) -> Table:
        report = snapshot.report
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        if snapshot.sync.last_ok_at is None and not report.requests:
            grid.add_row("Forecast", "— (no usage has been read yet)")
        else:
            grid.add_row(
                "Forecast",
                f"{screen_money(report.forecast_usd)} at period end at the pace so "
                f"far · {screen_money(report.forecast_recent_usd)} at the last 24 "
                "hours' pace",
            )
        self._add_billed(grid, snapshot)
        if report.skipped_results:
            grid.add_row(
                Text("Skipped", style="bold"),
                Text(
                    f"the last sync could not read {report.skipped_results:,} "
                    "results the API sent; totals may be low (monitor-tui.log "
                    "says why)"
                ),
            )
        if report.burn_rate_tokens_per_min is None:
            burn = "— (no minute data in the last few minutes)"
        else:
            burn = (
                f"{report.burn_rate_tokens_per_min:,.0f} tokens/min · "
                f"{screen_money(report.burn_rate_usd_per_hour)}/hour (last 60 min)"
            )
        grid.add_row("Burn rate", burn)
        grid.add_row(
            "Tokens",
            f"{compact_count(report.input_tokens)} input "
            f"({compact_count(report.cached_input_tokens)} cached) · "
            f"{compact_count(report.output_tokens)} output",
        )
        grid.add_row("Requests", f"{report.requests:,}")
        if report.tracked_calls:
            share = (
                "the whole of the spend above"
                if report.source == "tracked"
                else "part of the spend above when it is the organization's"
            )
            grid.add_row(
                "Tracked",
                f"{screen_money(report.tracked_spend_usd)} in "
                f"{report.tracked_calls:,} calls recorded on this machine ({share})",
            )
        grid.add_row("Busiest", self._busiest(snapshot))
        grid.add_row(
            "Next reset",
            f"{self._moment(snapshot, report.period.end)}, in "
            f"{span(report.period.end - snapshot.now)}",
        )
        grid.add_row("Prices", self._prices(snapshot))
        if snapshot.report.usage_volume:
            grid.add_row("Other usage", self._other_usage(snapshot))
        grid.add_row("Data", self._data_state(snapshot))
        return grid

    @staticmethod
    def _add_billed(grid: Table, snapshot: Snapshot) -> None:
        """The bill beside the estimate, the difference, and why they differ."""
        report = snapshot.report
        gap = report.billed_gap
        if report.billed_usd is None and report.source == "tracked":
            grid.add_row("Billed", "— (OpenAI's daily costs need an admin key)")
            return
        if report.billed_usd is None:
            grid.add_row("Billed", "— (OpenAI's daily costs have not been read yet)")
            return
        billed = Text(screen_money(report.billed_usd))
        if gap is not None and gap.billed_through is not None:
            last_day = gap.billed_through - timedelta(days=1)
            billed.append(f" to {last_day:%a %d %b} (UTC days)")
        billed.append(f" · estimate {screen_money(report.spend_usd)}")
        if gap is not None and gap.difference_usd:
            side = "above" if gap.difference_usd > 0 else "below"
            billed.append(
                f" · bill {screen_money(abs(gap.difference_usd))} {side} it",
                style="bold",
            )
        grid.add_row("Billed", billed)
        if gap is not None and gap.reasons:
            grid.add_row(
                "Why",
                Text("\n".join(f"• {printable(reason)}" for reason in gap.reasons)),
            )

    @staticmethod
    def _prices(snapshot: Snapshot) -> Text:
        """How the period's models are priced, as plainly as the report says
        it."""
        report = snapshot.report
        if not report.models:
            return Text("— (no token usage this period)")
        text = _states((line.price_state, line.model) for line in report.models)
        if report.spend_is_lower_bound:
            text.append(" · spend is a lower bound")
        return text

    @staticmethod
    def _other_usage(snapshot: Snapshot) -> Text:
        """How the usage not counted in tokens (images, speech...) is priced."""
        return _states(
            (line.price_state, line.endpoint.replace("_", " "))
            for line in snapshot.report.usage_volume
        )

    @staticmethod
    def _data_state(snapshot: Snapshot) -> str:
        state = snapshot.report.data_state
        if state == "empty":
            return "empty: no usage in this period yet"
        if state == "complete":
            return "complete"
        if snapshot.sync.error:
            return "partial: the last sync did not finish"
        return "partial: the latest hours may still be revised by OpenAI"

    def _busiest(self, snapshot: Snapshot) -> Text:
        line = snapshot.busiest_model
        if line is None:
            return Text("— (no usage this period)")
        name = Text(short_name(line.model, 48))
        if line.cost_usd is None:
            return name + Text(" · no price")
        spend = snapshot.report.spend_usd
        share = (
            f", {screen_percent(line.cost_usd / spend * 100)} of spend" if spend else ""
        )
        return name + Text(f" · {screen_money(line.cost_usd)}{share}")

    def _show_freshness(self) -> None:
        if not self.is_mounted:
            return
        snapshot = self.snapshot
        now = self.clock()
        label = SOURCE_WORDS.get(self.settings.origin, "LIVE")
        line = Text.assemble((f" {label} ", "reverse bold"), " ")
        last_ok = snapshot.sync.last_ok_at if snapshot else None
        stale = False
        if snapshot is None:
            line.append(
                "cannot read the store" if self.store_problem else "reading the store"
            )
        elif last_ok is None:
            line.append("not synced yet")
        else:
            age = now - last_ok
            stale = age > timedelta(minutes=self.settings.stale_after_minutes)
            line.append(
                f"last good sync {self._clock_time(snapshot, last_ok)} "
                f"({span(age)} ago)"
            )
            if stale:
                line.append(" · STALE", style="bold")
        if self.syncing:
            line.append(" · syncing…")
        freshness = self.query_one("#freshness", Static)
        freshness.set_class(stale, "stale")
        freshness.update(line)

        store_box = self.query_one("#store-problem", Static)
        store_box.display = self.store_problem is not None
        if self.store_problem is not None:
            store_box.update(Text(f"✗ {printable(self.store_problem)}"))

        problem = self.problem or (snapshot.sync.error if snapshot else None)
        if problem and self.store_problem and str(self.settings.data_dir) in problem:
            problem = None  # a sync that failed on the store: its line says it
        box = self.query_one("#problem", Static)
        box.display = problem is not None
        if problem is not None:
            text = f"✗ Sync failed: {printable(problem)}"
            if snapshot is not None and last_ok is None:
                text += " · no data has been read yet"
            elif snapshot is not None and last_ok is not None:
                text += (
                    f" · showing the data of {self._clock_time(snapshot, last_ok)}, "
                    f"{span(now - last_ok)} old"
                )
            box.update(Text(text))

    # Times, in the display zone

    @staticmethod
    def _moment(snapshot: Snapshot, moment: datetime) -> str:
        return f"{moment.astimezone(snapshot.zone):%a %d %b %H:%M %Z}"

    @staticmethod
    def _clock_time(snapshot: Snapshot, moment: datetime) -> str:
        local = moment.astimezone(snapshot.zone)
        if local.date() == snapshot.now.astimezone(snapshot.zone).date():
            return f"{local:%H:%M:%S}"
        return f"{local:%d %b %H:%M}"


def _states(lines: Iterable[tuple[str, str]]) -> Text:
    """``3 priced · 1 unpriced (name)``: how many lines are in each price
    state, naming those at the user's rates or without a price."""
    by_state: dict[str, list[str]] = {}
    for state, name in lines:
        by_state.setdefault(state, []).append(name)
    text = Text()
    for state in ("priced", "override", "free", "unpriced"):
        names = by_state.get(state)
        if not names:
            continue
        if text:
            text.append(" · ")
        shown = f"{len(names)} {state}"
        if state in ("override", "unpriced"):
            listed = ", ".join(short_name(printable(n), 28) for n in names[:3])
            more = f" +{len(names) - 3}" if len(names) > 3 else ""
            shown += f" ({listed}{more})"
        text.append(shown, style="bold" if state == "unpriced" else "")
    return text
