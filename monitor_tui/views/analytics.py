"""The Analytics tab: where the money went over a range, by model, project and key,
by hour and by day, against the span before, and what could have been saved.

The figures are computed in a thread worker, and only while the tab is shown: a
change of data, zone or range on a hidden tab is remembered and computed when the
tab is shown again. The display zone groups hours and days; it never moves the
billing period, which stays in the configured zone (or the budget's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, DataTable, Input, Label, Static

from monitor_tui.analytics import (
    Analytics,
    RangeError,
    compute_analytics,
    custom_range,
    make_range,
    parse_dates,
    period_of,
)
from monitor_tui.analytics.text import local_moment
from monitor_tui.config import Settings
from monitor_tui.money import screen_money
from monitor_tui.names import Names
from monitor_tui.report_text import printable, short_name
from monitor_tui.snapshot import load_budget
from monitor_tui.store import Store, StoreError, data_dir_problem
from monitor_tui.views.live import span as duration_text
from monitor_tui.views.notices import tell_repairs
from monitor_tui.widgets.analytics_panels import (
    BusiestHours,
    ComparisonPanel,
    SavingsList,
)
from monitor_tui.widgets.breakdown_table import BreakdownTable
from monitor_tui.widgets.daily_chart import DailySpendChart
from monitor_tui.widgets.hour_pattern_chart import HourPatternChart

log = logging.getLogger(__name__)

RANGE_BUTTONS = (
    ("24h", "24h", "d", "Last 24 hours"),
    ("7d", "7d", "w", "Last 7 days"),
    ("30d", "30d", "m", "Last 30 days"),
    ("90d", "90d", "n", "Last 90 days"),
    ("period", "Period", "p", "Billing period"),
    ("custom", "Custom", "c", "Custom dates"),
)
"""(range kind, button label, key, what the key does) for each range offered."""

BREAKDOWN_BUTTONS = {
    "model": "By model",
    "project": "By project",
    "key": "By API key",
    "label": "By label",
}
"""The label of the button of each breakdown; by label only once calls recorded
with ``track`` are in the range."""
LABEL_NOTE = "Labels: the calls recorded on this machine with track(), by label"

BREAKDOWN_NOTE = (
    "Hit: cached share of input · Change: of the cost, against the span before"
)
PROJECT_NOTE = "Click a project (or Enter on it) to show only it; again, or x, for all"

BELOW_THE_TOTALS = (
    "#dimensions, #breakdown, #breakdown-note, #hour-title, #hour-chart, #busiest, "
    "#day-title, #day-chart, #savings-title, #savings"
)
"""What is shown once there are figures: hidden before, and while none have been
read."""


def describe_problem(exc: Exception, data_dir: Path) -> str:
    """Say what went wrong in a computation, plainly."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return data_dir_problem(exc, data_dir)
    return str(exc) or type(exc).__name__


@dataclass(frozen=True)
class _Request:
    """What one computation was asked for."""

    generation: int
    kind: str
    dates: tuple[date, date] | None
    zone: ZoneInfo
    project: str | None
    now: datetime


class AnalyticsView(VerticalScroll):
    """Spend by model, project and key, by hour and day, and savings, for a range."""

    DEFAULT_CSS = """
    AnalyticsView {
        padding: 0 1;

        #ranges, #dimensions {
            height: 1;
        }
        #dimensions {
            margin-top: 1;
        }
        #ranges Button, #dimensions Button {
            width: auto;
            min-width: 0;
            margin-right: 1;
            &.-chosen {
                background: $primary;
                color: $text;
                text-style: bold;
            }
        }
        #custom-dates {
            width: 40;
            margin-top: 1;
        }
        #range-problem, #compute-problem {
            color: $error;
        }
        #status {
            margin-top: 1;
            color: $text-muted;
            &.-stale {
                color: $warning;
            }
        }
        #breakdown-note {
            color: $text-muted;
        }
        .section {
            margin-top: 1;
            text-style: bold;
        }
        #busiest {
            margin-top: 1;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # The range buttons show their keys, so the footer need not.
        *(
            Binding(key, f"show_range('{kind}')", does, id=f"range-{kind}", show=False)
            for kind, _, key, does in RANGE_BUTTONS
            if kind != "custom"
        ),
        Binding("c", "custom_range", "Custom dates", id="range-custom", show=False),
        Binding("b", "next_breakdown", "Breakdown", id="breakdown"),
        Binding("s", "next_sort", "Sort", id="sort"),
        Binding("o", "reverse_sort", "Reverse", id="reverse-sort"),
        Binding("x", "all_projects", "All projects", id="all-projects"),
        Binding("escape", "close_custom", "Close", show=False),
    ]

    zone: reactive[ZoneInfo] = reactive(ZoneInfo("UTC"))
    """The display zone: hours and days are grouped in it."""
    data_version: reactive[int] = reactive(0)
    """Raised by the app after every sync or read of the store."""
    syncing: reactive[bool] = reactive(False)
    """True while the app syncs in the background."""
    last_sync: reactive[datetime | None] = reactive(None)
    """When the last good sync ended; None before the first."""

    class Computed(Message, bubble=False):
        """A computation finished: the figures, or why there are none."""

        def __init__(
            self,
            generation: int,
            analytics: Analytics | None,
            error: str | None,
            repairs: tuple[str, ...] = (),
        ) -> None:
            super().__init__()
            self.generation = generation
            self.analytics = analytics
            """The figures; None when the computation failed."""
            self.error = error
            """Why it failed; None when it did not."""
            self.repairs = repairs
            """Damaged store files that were set aside while reading, said
            plainly."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock
        self.set_reactive(AnalyticsView.zone, settings.zone)
        self.kind = "period"
        """The range shown: one of the kinds in ``RANGE_BUTTONS``."""
        self.dates: tuple[date, date] | None = None
        """The first and last local day of a custom range."""
        self._project: str | None = None
        self.dimension = "model"
        """The breakdown shown: ``model``, ``project`` or ``key``."""
        self.analytics: Analytics | None = None
        """The figures on screen; None until the first computation ends."""
        self.computing = False
        self._generation = 0
        self._stale = True

    @property
    def project(self) -> str | None:
        """The project the tab is limited to (``""``: usage that names no
        project); None for every project. Set it with ``filter_project``."""
        return self._project

    def compose(self) -> ComposeResult:
        with Horizontal(id="ranges"):
            for kind, label, key, _ in RANGE_BUTTONS:
                yield Button(Text(f"{label} [{key}]"), id=f"range-{kind}", compact=True)
        yield Input(placeholder="YYYY-MM-DD YYYY-MM-DD", id="custom-dates")
        yield Static(id="range-problem")
        yield Static(id="status")
        yield Static(id="compute-problem")
        yield ComparisonPanel(id="comparison")
        with Horizontal(id="dimensions"):
            for dimension, label in BREAKDOWN_BUTTONS.items():
                yield Button(label, id=f"by-{dimension}", compact=True)
        yield BreakdownTable(id="breakdown")
        yield Static(id="breakdown-note")
        yield Label(id="hour-title", classes="section")
        yield HourPatternChart(id="hour-chart")
        yield BusiestHours(id="busiest")
        yield Label(id="day-title", classes="section")
        yield DailySpendChart(id="day-chart")
        yield Label(
            "Savings (estimates at list prices)", id="savings-title", classes="section"
        )
        yield SavingsList(id="savings")

    def on_mount(self) -> None:
        self.query_one("#custom-dates").display = False
        self.query_one("#range-problem").display = False
        self.query_one("#compute-problem").display = False
        self._show_choices()
        self._draw()
        # The data's age goes on even when nothing new is read.
        self.set_interval(1, self._tick)

    # When to compute

    def watch_zone(self) -> None:
        self._wanted()

    def watch_data_version(self) -> None:
        self._wanted()

    def watch_syncing(self) -> None:
        self._show_status()

    def watch_last_sync(self) -> None:
        self._show_status()

    def _tick(self) -> None:
        if self.is_on_screen and self.last_sync is not None:
            self._show_status()

    def on_show(self) -> None:
        # The app gives the tab's view the focus when the tab is chosen.
        if self._stale:
            self._wanted()

    def _wanted(self) -> None:
        """The figures on screen are out of date: compute them now if the tab is
        shown, else when it is."""
        self._stale = True
        if self.is_mounted and self.is_on_screen:
            self._stale = False
            self._generation += 1
            self.computing = True
            self._show_status()
            self._compute(
                _Request(
                    generation=self._generation,
                    kind=self.kind,
                    dates=self.dates,
                    zone=self.zone,
                    project=self.project,
                    now=self.clock(),
                )
            )

    @work(thread=True, exclusive=True, group="analytics", exit_on_error=False)
    def _compute(self, request: _Request) -> None:
        budget_store = Store(self.settings.data_dir)
        store = Store(self.settings.store_dir)
        analytics: Analytics | None = None
        error: str | None = None
        # Every failure becomes a message: the tab says what went wrong.
        try:
            try:
                budget = load_budget(budget_store)
            except StoreError:
                budget = None  # the Live tab says what is wrong with it
            # The configured zone, not the display one: `u` never moves the period.
            period = period_of(budget, self.settings.zone, request.now)
            span = make_range(
                request.kind,
                request.now,
                period=period,
                zone=request.zone,
                dates=request.dates,
            )
            analytics = compute_analytics(
                store,
                self.settings.origin,
                span,
                request.zone,
                budget,
                request.now,
                request.project,
            )
        except Exception as exc:
            log.exception("the analytics could not be computed")
            error = describe_problem(exc, self.settings.data_dir)
        repairs = (*budget_store.recovered, *store.recovered)
        self.post_message(self.Computed(request.generation, analytics, error, repairs))

    def on_analytics_view_computed(self, message: Computed) -> None:
        tell_repairs(self, message.repairs)
        if message.generation != self._generation:
            return  # a computation that was overtaken by a newer one
        self.computing = False
        problem = self.query_one("#compute-problem", Static)
        problem.display = message.error is not None
        if message.error is not None:
            problem.update(Text(f"✗ {printable(message.error)}"))
        else:
            self.analytics = message.analytics
        self._draw()

    # Keys and clicks

    def action_show_range(self, kind: str) -> None:
        """Show one of the ranges: ``24h``, ``7d``, ``30d``, ``90d``, ``period``."""
        self.kind = kind
        self._close_custom()
        self._show_choices()
        self._wanted()

    def action_custom_range(self) -> None:
        """Ask for the first and last day of a custom range."""
        field = self.query_one("#custom-dates", Input)
        if self.analytics is not None and not field.value:
            span = self.analytics.range
            last = span.end - timedelta(microseconds=1)
            field.value = (
                f"{span.start.astimezone(self.zone):%Y-%m-%d} "
                f"{last.astimezone(self.zone):%Y-%m-%d}"
            )
        field.display = True
        field.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool:
        # Escape is only this tab's while the dates field is out; otherwise it
        # is left to the app.
        if action == "close_custom":
            return bool(self.query_one("#custom-dates").display)
        return True

    def action_close_custom(self) -> None:
        """Put away the custom dates field."""
        self._close_custom()
        self.focus()

    def _close_custom(self) -> None:
        self.query_one("#custom-dates").display = False
        self.query_one("#range-problem").display = False

    @on(Input.Submitted, "#custom-dates")
    def _custom_dates_given(self, event: Input.Submitted) -> None:
        problem = self.query_one("#range-problem", Static)
        try:
            dates = parse_dates(event.value)
            custom_range(*dates, self.zone, self.clock())
        except RangeError as exc:
            problem.update(Text(f"✗ {exc}"))
            problem.display = True
            return
        self.dates = dates
        self.action_show_range("custom")
        self.focus()

    def action_next_breakdown(self) -> None:
        """Switch the breakdown: by model, by project, by API key, by label."""
        order = self._dimensions()
        at = order.index(self.dimension) if self.dimension in order else -1
        self.show_breakdown(order[(at + 1) % len(order)])

    def _dimensions(self) -> list[str]:
        """The breakdowns offered: by label only when calls were recorded."""
        analytics = self.analytics
        labels = analytics is not None and bool(analytics.by_label)
        return [name for name in BREAKDOWN_BUTTONS if name != "label" or labels]

    def show_breakdown(self, dimension: str) -> None:
        """Break the range down by ``model``, ``project`` or ``key``."""
        self.dimension = dimension
        self._show_choices()
        self._draw_breakdown()
        self._show_note()

    def action_next_sort(self) -> None:
        """Sort the breakdown by the next column."""
        self.query_one(BreakdownTable).next_sort()

    def action_reverse_sort(self) -> None:
        """Reverse the order of the breakdown."""
        self.query_one(BreakdownTable).reverse_sort()

    def action_all_projects(self) -> None:
        """Show every project again."""
        self.filter_project(None)

    def filter_project(self, project: str | None) -> None:
        """Limit the whole tab to ``project`` (``""``: usage that names no
        project; None: every project)."""
        if project == self._project:
            return
        self._project = project
        self._wanted()
        self._show_status()

    @on(Button.Pressed)
    def _button_pressed(self, event: Button.Pressed) -> None:
        name = event.button.id or ""
        if name == "range-custom":
            self.action_custom_range()
        elif name.startswith("range-"):
            self.action_show_range(name.removeprefix("range-"))
        elif name.startswith("by-"):
            self.show_breakdown(name.removeprefix("by-"))

    @on(DataTable.RowSelected, "#breakdown")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        if self.dimension != "project" or event.row_key.value is None:
            return
        project = event.row_key.value.removeprefix("row:")
        self.filter_project(None if project == self.project else project)

    # Drawing

    def _show_choices(self) -> None:
        for kind, *_ in RANGE_BUTTONS:
            button = self.query_one(f"#range-{kind}", Button)
            button.set_class(kind == self.kind, "-chosen")
        offered = self._dimensions()
        if self.dimension not in offered:
            self.dimension = "model"  # a range without recorded calls
        for dimension in BREAKDOWN_BUTTONS:
            button = self.query_one(f"#by-{dimension}", Button)
            button.display = dimension in offered
            button.set_class(dimension == self.dimension, "-chosen")

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        self._show_status()
        analytics = self.analytics
        if analytics is not None:
            self.query_one(ComparisonPanel).show(analytics, self.zone)
        shown = analytics is not None and not analytics.nothing_read
        for widget in self.query(BELOW_THE_TOTALS):
            widget.display = shown
        if analytics is None or not shown:
            return
        self._show_choices()  # by label comes and goes with recorded calls
        self._draw_breakdown()
        self._show_note()
        zone = analytics.zone.key
        self.query_one("#hour-title", Label).update(
            f"Average spend per hour of the day ({zone})"
        )
        self.query_one(HourPatternChart).show_pattern(analytics.hourly)
        self.query_one(BusiestHours).show(analytics)
        pace = analytics.daily.pace_usd
        self.query_one("#day-title", Label).update(
            f"Spend per day{self._years(analytics)} ({zone})"
            + (f" · budget pace {screen_money(pace)}/day" if pace is not None else "")
        )
        self.query_one(DailySpendChart).show_trend(analytics.daily)
        self.query_one(SavingsList).show(analytics)

    @staticmethod
    def _years(analytics: Analytics) -> str:
        """`` in 1999`` (or `` in 2025–2026``) when the days charted are not all
        in the current year, whose dates the chart shows without one."""
        days = analytics.daily.days
        this_year = analytics.now.astimezone(analytics.zone).year
        if not days or {days[0].day.year, days[-1].day.year} == {this_year}:
            return ""
        first, last = days[0].day.year, days[-1].day.year
        return f" in {first}" if first == last else f" in {first}–{last}"

    def _show_status(self) -> None:
        if not self.is_mounted:
            return
        analytics = self.analytics
        if analytics is None:
            text = "Computing…" if self.computing else "Not computed yet."
        else:
            span = analytics.range
            text = (
                f"{span.label[0].upper()}{span.label[1:]}: "
                f"{self._moment(span.start, zone=False)} → {self._moment(span.end)}"
            )
            if self.computing:
                text += " · updating…"
        freshness, stale = self._freshness()
        if freshness is not None:
            text += f"\n{freshness}"
        if analytics is not None and not analytics.nothing_read:
            if analytics.read_from is None:
                text += "\nNo usage has been read yet."
            elif not analytics.range_is_complete:
                text += (
                    f"\nUsage has been read from {self._moment(analytics.read_from)}"
                    " on; the range's earlier days show nothing."
                )
        if self._project is not None:
            names = Names() if analytics is None else analytics.names
            name = short_name(names.project_label(self._project, "(none)"), 40)
            text += f"\nOnly project {name} · x shows all projects"
        status = self.query_one("#status", Static)
        status.set_class(stale, "-stale")
        status.update(Text(text))

    def _freshness(self) -> tuple[str | None, bool]:
        """How old the data is and whether a sync is running (None when there
        is nothing to say), and True when the data is older than the configured
        ``stale_after_minutes``."""
        parts: list[str] = []
        stale = False
        if self.last_sync is not None:
            age = self.clock() - self.last_sync
            stale = age > timedelta(minutes=self.settings.stale_after_minutes)
            parts.append(
                f"Data as of {self._moment(self.last_sync)} ({duration_text(age)} ago)"
            )
            if stale:
                parts.append("STALE")
        elif self.analytics is not None and self.analytics.nothing_read:
            parts.append("Not synced yet")
        # Otherwise usage was read by a sync whose time this view was not given.
        if self.syncing:
            parts.append("syncing…")
        text = " · ".join(parts)
        return (text[:1].upper() + text[1:]) or None, stale

    def _moment(self, moment: datetime, *, zone: bool = True) -> str:
        return local_moment(moment, self.zone, self.clock(), with_zone=zone)

    def _show_note(self) -> None:
        note = BREAKDOWN_NOTE
        analytics = self.analytics
        if analytics is not None and any(
            line.overridden for line in analytics.breakdown(self.dimension)
        ):
            note += " · *: at your [prices] rates"
        if self.dimension == "project":
            note += f"\n{PROJECT_NOTE}"
        elif self.dimension == "label":
            note += f"\n{LABEL_NOTE}"
        self.query_one("#breakdown-note", Static).update(note)

    def _draw_breakdown(self) -> None:
        analytics = self.analytics
        self.query_one(BreakdownTable).show(
            () if analytics is None else analytics.breakdown(self.dimension),
            self.dimension,
            analytics is not None and analytics.previous_is_complete,
        )
