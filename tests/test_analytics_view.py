"""The Analytics tab under Pilot, on demo data synced at a fixed moment: range keys
and buttons, custom dates, sorting, filtering by project, no work while hidden,
the billing period under another display zone, how fresh the data is, and how it
looks at a fixed size and at 80 columns."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.color import Color
from textual.geometry import Region
from textual.message import Message
from textual.pilot import Pilot
from textual.reactive import reactive
from textual.widgets import Button, DataTable, Input, Static, TabbedContent, TabPane

from monitor_tui.budget import Budget
from monitor_tui.config import Settings
from monitor_tui.store import Store
from monitor_tui.sync import open_syncer
from monitor_tui.views.analytics import AnalyticsView
from monitor_tui.widgets.themed_plot import ThemedPlot
from tests.conftest import ADMIN_KEY, NOW, NOW_EPOCH
from tests.factories import HAND_COMPUTED
from tests.test_app import shown

SIZE = (100, 40)


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, timezone="UTC", history_days=35)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    """Five weeks of demo data synced at the tests' fixed moment, and a budget.
    The tests only read it."""
    data_dir = tmp_path_factory.mktemp("analytics")
    result = open_syncer(settings_for(data_dir), lambda: NOW_EPOCH).sync()
    assert result.ok, result.error
    Store(data_dir).set_budget(Budget(amount_usd=Decimal(2500)).to_record())
    return data_dir


class AnalyticsApp(App[None]):
    """Just the Analytics view, or with ``hidden`` behind a first tab; it binds
    ``syncing`` and ``last_sync`` as the full app does."""

    syncing: reactive[bool] = reactive(False)
    last_sync: reactive[datetime | None] = reactive(None)

    def __init__(
        self, data_dir: Path, *, hidden: bool = False, settings: Settings | None = None
    ) -> None:
        super().__init__()
        self.settings = settings or settings_for(data_dir)
        self.hidden = hidden
        self.messages: list[Message] = []
        self.toasts: list[tuple[str, str, str]] = []
        self.theme = "textual-dark"
        self.animation_level = "none"

    def compose(self) -> ComposeResult:
        view = AnalyticsView(self.settings, lambda: NOW).data_bind(
            AnalyticsApp.syncing, AnalyticsApp.last_sync
        )
        if not self.hidden:
            yield view
            return
        with TabbedContent(initial="first"):
            with TabPane("First", id="first"):
                yield Static("another tab")
            with TabPane("Analytics", id="analytics"):
                yield view

    def notify(self, message: str, *, title: str = "", **options) -> None:
        self.toasts.append((title, message, options.get("severity", "")))
        super().notify(message, title=title, **options)

    @property
    def view(self) -> AnalyticsView:
        return self.query_one(AnalyticsView)

    def computed(self) -> list[AnalyticsView.Computed]:
        return [m for m in self.messages if isinstance(m, AnalyticsView.Computed)]

    def run_here(self, size: tuple[int, int] = SIZE):
        return self.run_test(size=size, message_hook=self.messages.append)


async def settle(pilot: Pilot, done: Callable[[], bool]) -> None:
    """Let the app run until ``done`` (about posted messages) is true."""
    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline, "the view did not get there in 30 s"
        await pilot.pause(0.02)
    await pilot.pause()


async def computed(pilot: Pilot, app: AnalyticsApp, seen: int = 0) -> None:
    """Wait until a computation after the first ``seen`` has been shown."""
    await settle(
        pilot,
        lambda: len(app.computed()) > seen and not app.view.computing,
    )


def status(app: AnalyticsApp) -> str:
    return str(app.query_one("#status", Static).content)


def row_keys(app: AnalyticsApp) -> list[str]:
    table = app.query_one("#breakdown", DataTable)
    return [str(key.value).removeprefix("row:") for key in table.rows]


async def test_range_keys_and_buttons_switch_the_range(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        assert app.view.analytics.range.kind == "period"
        for key, kind in (("w", "7d"), ("n", "90d"), ("d", "24h"), ("m", "30d")):
            seen = len(app.computed())
            await pilot.press(key)
            await computed(pilot, app, seen)
            assert app.view.analytics.range.kind == kind
            assert app.query_one(f"#range-{kind}", Button).has_class("-chosen")

        seen = len(app.computed())
        await pilot.click("#range-period")
        await computed(pilot, app, seen)
        assert app.view.analytics.range.kind == "period"
        status = str(app.query_one("#status", Static).content)
        assert status.startswith("This billing period: Tue 01 Dec 00:00 → Fri 04 Dec")


async def test_custom_dates_typed_in_become_the_range_and_bad_ones_are_refused(
    demo_dir,
):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        await pilot.press("c")
        field = app.query_one("#custom-dates", Input)
        assert field.display and field.has_focus
        field.value = ""
        await pilot.press(*"2026-12-09 2026-12-10", "enter")
        problem = app.query_one("#range-problem", Static)
        assert problem.display
        assert "has not begun yet" in str(problem.content)

        field.value = ""
        seen = len(app.computed())
        await pilot.press(*"2026-11-10 2026-11-12", "enter")
        await computed(pilot, app, seen)
        span = app.view.analytics.range
        assert (span.kind, span.label) == ("custom", "10 Nov 2026 → 12 Nov 2026")
        assert [day.day for day in app.view.analytics.daily.days] == [
            date(2026, 11, 10),
            date(2026, 11, 11),
            date(2026, 11, 12),
        ]
        assert not field.display and not problem.display


async def test_a_click_on_a_column_header_sorts_by_it_and_again_reverses(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        lines = {line.key: line for line in app.view.analytics.by_model}
        by_cost = sorted(lines, key=lambda k: lines[k].cost_usd, reverse=True)
        assert row_keys(app) == by_cost

        table = app.query_one("#breakdown", DataTable)
        columns = list(table.columns.values())
        requests_at = sum(c.get_render_width(table) for c in columns[:4]) + 2
        await pilot.click("#breakdown", offset=(requests_at, 0))
        by_requests = sorted(lines, key=lambda k: lines[k].requests, reverse=True)
        assert row_keys(app) == by_requests
        assert str(table.columns["requests"].label) == "Requests ▼"

        await pilot.click("#breakdown", offset=(requests_at, 0))
        # Usage without requests (vector storage, code interpreter sessions,
        # file searches) ties at 0, in either order.
        ascending = [lines[key].requests for key in row_keys(app)]
        assert ascending == sorted(ascending) != ascending[::-1]

        await pilot.press("s", "s")  # the next columns: Cost, then Share
        assert row_keys(app) == by_cost
        assert str(table.columns["share"].label) == "Share ▼"


async def test_choosing_a_project_row_filters_the_tab_and_x_shows_all_again(
    demo_dir,
):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        everything = app.view.analytics.totals
        await pilot.press("b")
        assert app.query_one("#by-project", Button).has_class("-chosen")
        research = {line.key: line for line in app.view.analytics.by_project}[
            "proj_demo_research"
        ]

        table = app.query_one("#breakdown", DataTable)
        table.focus()
        table.move_cursor(row=row_keys(app).index("proj_demo_research"))
        seen = len(app.computed())
        await pilot.press("enter")
        await computed(pilot, app, seen)

        result = app.view.analytics
        assert result.project == "proj_demo_research"
        assert result.totals.spend_usd == research.cost_usd
        # The research project runs gpt-4.1 and o3, searches the web with
        # gpt-4.1 and runs code interpreter sessions, and nothing else.
        assert {line.key for line in result.by_model} == {
            "gpt-4.1-2025-04-14",
            "o3-2025-04-16",
            "web_search_calls gpt-4.1-2025-04-14",
            "code_interpreter_sessions",
        }
        assert "Only project Research" in str(app.query_one("#status", Static).content)

        seen = len(app.computed())
        await pilot.press("x")
        await computed(pilot, app, seen)
        assert app.view.analytics.project is None
        assert app.view.analytics.totals == everything


async def test_a_hidden_tab_computes_nothing_until_it_is_shown(demo_dir):
    app = AnalyticsApp(demo_dir, hidden=True)
    async with app.run_here() as pilot:
        await pilot.pause()
        app.view.data_version += 1
        app.view.zone = ZoneInfo("Asia/Tokyo")
        await pilot.pause(0.2)
        assert app.computed() == []
        assert app.view.analytics is None

        app.query_one(TabbedContent).active = "analytics"
        await computed(pilot, app)
        assert len(app.computed()) == 1
        assert app.view.analytics.zone.key == "Asia/Tokyo"


async def test_a_new_zone_or_data_version_recomputes_a_shown_tab(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        seen = len(app.computed())
        app.view.zone = ZoneInfo("America/Los_Angeles")
        await computed(pilot, app, seen)
        assert app.view.analytics.zone.key == "America/Los_Angeles"
        title = str(app.query_one("#hour-title").content)
        assert title.endswith("(America/Los_Angeles)")

        seen = len(app.computed())
        app.view.data_version += 1
        await computed(pilot, app, seen)


async def test_at_80_by_24_the_tab_scrolls_and_every_range_button_fits(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here(size=(80, 24)) as pilot:
        await computed(pilot, app)
        assert app.view.max_scroll_y > 0
        for button in app.query("#ranges Button"):
            assert button.region.right <= 80
        await pilot.press("end")
        await pilot.pause()
        assert app.view.scroll_y == app.view.max_scroll_y


async def test_data_synced_from_the_api_shows_its_figures_and_savings(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    settings = Settings(
        admin_key=ADMIN_KEY,
        base_url=api_server.base_url,
        data_dir=tmp_path,
        timezone="UTC",
        history_days=35,
    )
    assert open_syncer(settings, lambda: NOW_EPOCH).sync().ok
    app = AnalyticsApp(tmp_path, settings=settings)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        result = app.view.analytics
        # $2.75 + $0.60 + $0.06, as tests/factories.py works out.
        assert result.totals.spend_usd == Decimal("3.41")
        best = result.savings.suggestions[0]
        # gpt-4o's $2.75 on gpt-4o-mini: 0.4M x $0.15 + 0.6M x $0.075 + 0.1M x
        # $0.60 = $0.165.
        assert (best.model, best.alternative, best.saved_usd) == (
            "gpt-4o-2024-08-06",
            "gpt-4o-mini",
            Decimal("2.585"),
        )
        lines = [" ".join(line.split()) for line in shown(app, "#savings").split("\n")]
        assert "gpt-4o-2024-08-06 on gpt-4o-mini ≈ $0.1650 ≈ $2.59" in lines


async def test_the_charts_take_their_colours_from_a_new_theme(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        for theme in ("textual-dark", "nord"):
            app.theme = theme
            await pilot.pause()
            primary = Color.parse(app.theme_variables["primary"]).rgb
            for chart in app.query(ThemedPlot):
                drawn = chart.render()
                colours = {
                    span.style.color.triplet
                    for span in drawn.spans
                    if isinstance(span.style, Style) and span.style.color
                }
                assert primary in colours, (theme, chart.id)


async def test_a_damaged_store_file_is_set_aside_with_a_warning(demo_dir, tmp_path):
    shutil.copytree(demo_dir, tmp_path, dirs_exist_ok=True)
    damaged = tmp_path / "demo" / "hourly" / "2026-12-03.json"
    damaged.write_text("{not json")
    app = AnalyticsApp(tmp_path)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        (title, message, severity) = app.toasts[0]
        assert title == "A damaged store file was set aside"
        assert "2026-12-03.json was damaged" in message
        assert severity == "warning"
        assert not app.query_one("#compute-problem").display
        assert app.view.analytics is not None


async def test_a_data_directory_that_cannot_be_read_is_named_on_the_tab(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    app = AnalyticsApp(not_a_folder)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        problem = app.query_one("#compute-problem", Static)
        assert problem.display
        assert f"cannot use the data directory {not_a_folder}" in str(problem.content)
        assert app.view.analytics is None


async def test_showing_utc_never_moves_the_billing_period(tmp_path):
    # No budget: the period is December in the configured zone, Tokyo (UTC+9),
    # which begins at 15:00 UTC on 30 November.
    settings = Settings(data_dir=tmp_path, timezone="Asia/Tokyo")
    app = AnalyticsApp(tmp_path, settings=settings)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        tokyo_december = app.view.analytics.range
        assert tokyo_december.start == datetime(2026, 11, 30, 15, tzinfo=UTC)

        seen = len(app.computed())
        app.view.zone = ZoneInfo("UTC")  # what `u` does
        await computed(pilot, app, seen)
        result = app.view.analytics
        assert (result.range.start, result.range.end) == (
            tokyo_december.start,
            NOW,
        )
        assert result.range.previous == tokyo_december.previous
        assert result.zone.key == "UTC"  # hours and days are grouped in UTC
        assert status(app).startswith(
            "This billing period: Mon 30 Nov 15:00 → Fri 04 Dec 15:30 UTC"
        )


async def test_in_a_half_hour_zone_the_busiest_hours_start_at_half_past(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        seen = len(app.computed())
        app.view.zone = ZoneInfo("Asia/Kolkata")  # UTC+5:30
        await computed(pilot, app, seen)
        lines = shown(app, "#busiest").split("\n")[1:4]
        hours = [line.split()[0] for line in lines]
        # Hourly buckets start on UTC hours, which are half past there.
        assert len(hours) == 3
        assert all(hour[2:] == ":30–" + hour[6:8] + ":30" for hour in hours), hours


async def test_a_range_in_another_year_shows_its_year(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        seen = len(app.computed())
        app.view.dates = (date(2025, 12, 1), date(2025, 12, 3))
        app.view.action_show_range("custom")
        await computed(pilot, app, seen)
        # Three days from Monday 1 December 2025, against the three before.
        assert status(app).startswith(
            "01 Dec 2025 → 03 Dec 2025: Mon 01 Dec 2025 00:00 → "
            "Thu 04 Dec 2025 00:00 UTC"
        )
        assert shown(app, "#comparison").startswith(
            "Compared with Fri 28 Nov 2025 00:00 → Mon 01 Dec 2025 00:00 UTC"
        )
        assert str(app.query_one("#day-title").content).startswith(
            "Spend per day in 2025 (UTC)"
        )


async def test_before_any_usage_is_read_the_figures_are_dashes_not_zeros(tmp_path):
    app = AnalyticsApp(tmp_path)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        panel = shown(app, "#comparison")
        assert panel.startswith("No usage has been read yet")
        figures = {
            line.split()[0]: line.split()[1:]
            for line in panel.splitlines()[2:]
            if line.strip()
        }
        assert figures["Spend"] == ["—", "—", "—"]
        assert figures["Cache"] == ["hit", "rate", "—"]
        assert "$0.00" not in panel
        assert not app.query_one("#breakdown").display
        assert not app.query_one("#savings").display
        assert "Not synced yet" in status(app)


async def test_a_single_click_on_a_project_row_shows_only_that_project(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        await pilot.press("b")  # by project
        assert "Click a project" in shown(app, "#breakdown-note")
        assert app.view.project is None
        row = row_keys(app).index("proj_demo_research")
        assert row > 0  # not the row the cursor is already on

        seen = len(app.computed())
        await pilot.click("#breakdown", offset=(2, 1 + row))  # under the header
        await computed(pilot, app, seen)
        assert app.view.project == "proj_demo_research"
        assert app.view.analytics.project == "proj_demo_research"

        seen = len(app.computed())
        await pilot.click("#breakdown", offset=(2, 1))  # the only row: again
        await computed(pilot, app, seen)
        assert app.view.project is None
        with pytest.raises(AttributeError):
            app.view.project = "proj_demo_research"  # only by choosing


async def test_the_status_line_says_how_old_the_data_is_and_when_a_sync_runs(
    demo_dir,
):
    app = AnalyticsApp(demo_dir)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        # Usage was read, but the view was not told when: it says nothing.
        assert len(status(app).splitlines()) == 1
        app.syncing = True
        await pilot.pause()
        assert status(app).splitlines()[1] == "Syncing…"

        app.last_sync = NOW - timedelta(minutes=10)
        app.syncing = True
        await pilot.pause()
        assert status(app).splitlines()[1] == (
            "Data as of Fri 04 Dec 15:20 UTC (10 min ago) · syncing…"
        )

        # Older than stale_after_minutes (180 by default), and the sync ended.
        app.last_sync = NOW - timedelta(hours=4)
        app.syncing = False
        await pilot.pause()
        assert status(app).splitlines()[1] == (
            "Data as of Fri 04 Dec 11:30 UTC (4h 0m ago) · STALE"
        )
        assert app.query_one("#status").has_class("-stale")


async def test_at_80_columns_the_breakdown_fits_with_its_hit_and_change(demo_dir):
    app = AnalyticsApp(demo_dir)
    async with app.run_here(size=(80, 24)) as pilot:
        await computed(pilot, app)
        table = app.query_one("#breakdown", DataTable)
        for dimension in ("model", "project", "key"):
            app.view.show_breakdown(dimension)
            await pilot.pause()
            widths = [c.get_render_width(table) for c in table.columns.values()]
            assert sum(widths) <= table.scrollable_content_region.width, dimension
            assert table.max_scroll_x == 0
            assert {"name", "cost", "hit", "change"} <= set(table.shown)
            assert table.region.right <= 80

        # Wider again, every column comes back.
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert len(table.shown) == 9


async def test_at_80_columns_the_savings_wrap_their_text_not_their_amounts(
    demo_dir,
):
    app = AnalyticsApp(demo_dir)
    async with app.run_here(size=(80, 24)) as pilot:
        await computed(pilot, app)
        savings = app.query_one("#savings")
        drawn = [
            "".join(segment.text for segment in line)
            for line in savings.render_lines(Region(0, 0, *savings.size))
        ]
        assert "would cost" in drawn[0]
        amounts = [line.split("≈")[1:] for line in drawn if "≈" in line]
        assert len(amounts) == 5
        assert all("…" not in amount for line in amounts for amount in line)


def test_the_analytics_tab_on_demo_data(snap_compare, demo_dir):
    app = AnalyticsApp(demo_dir)

    async def run_before(pilot: Pilot) -> None:
        app.last_sync = NOW - timedelta(minutes=10)
        await settle(
            pilot, lambda: app.view.analytics is not None and not app.view.computing
        )

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_the_analytics_tab_at_80_by_24(snap_compare, demo_dir):
    app = AnalyticsApp(demo_dir)

    async def run_before(pilot: Pilot) -> None:
        app.last_sync = NOW - timedelta(minutes=10)
        await settle(
            pilot, lambda: app.view.analytics is not None and not app.view.computing
        )
        app.view.scroll_to(y=app.query_one("#dimensions").virtual_region.y - 1)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
