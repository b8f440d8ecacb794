"""The app under Pilot at a fixed size, theme and clock: the keys switch tabs, a sync
against the local server shows its figures, a failing server leaves the last good
data with its age and reason, and three failures in a row bring one toast."""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.containers import VerticalScroll
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import ProgressBar, Static, TabbedContent

from monitor_tui.app import MonitorApp, Refreshed, build_app
from monitor_tui.budget import Budget
from monitor_tui.config import Settings
from monitor_tui.sources.demo import DemoOrganization
from monitor_tui.store import Store
from monitor_tui.sync import Syncer
from monitor_tui.views.export import ExportDialog
from tests.conftest import ADMIN_KEY, NOW, NOW_EPOCH
from tests.factories import HAND_COMPUTED, completion

SIZE = (110, 44)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Harness:
    """An app under test, with the messages it posted and the toasts it raised."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.app = build_app(settings, clock=clock, autostart=False)
        self.app.theme = "textual-dark"
        self.messages: list[Message] = []
        self.toasts: list[tuple[str, str, str]] = []
        real_notify = self.app.notify

        def notify(message: str, *, title: str = "", **options: Any) -> None:
            self.toasts.append((title, message, options.get("severity", "")))
            real_notify(message, title=title, **options)

        self.app.notify = notify  # type: ignore[method-assign]

    def run(self) -> Any:
        """Run the app headless at the tests' size, recording what it posts."""
        return self.app.run_test(size=SIZE, message_hook=self.messages.append)

    def refreshes(self) -> list[Refreshed]:
        return [m for m in self.messages if isinstance(m, Refreshed)]

    async def settle(self, pilot: Pilot, done: Callable[[], bool]) -> None:
        """Let the app run until ``done`` (a posted message, not a sleep) is true."""
        deadline = time.monotonic() + 30
        while not done():
            assert time.monotonic() < deadline, "the app did not get there in 30 s"
            await pilot.pause(0.02)
        await pilot.pause()

    async def sync(self, pilot: Pilot) -> Refreshed:
        """Run one sync the way `r` does and wait for its snapshot to be shown."""
        await self.settle(pilot, lambda: bool(self.refreshes()))
        seen = len(self.refreshes())
        assert self.app.start_sync()
        await self.settle(pilot, lambda: len(self.refreshes()) > seen)
        return self.refreshes()[-1]


def shown(app: MonitorApp, selector: str) -> str:
    """The plain text a Static shows, whatever it was given."""
    content = app.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    if isinstance(content, Text):
        return content.plain
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(content)
    return console.export_text()


def live_settings(server, data_dir: Path) -> Settings:
    return Settings(
        admin_key=ADMIN_KEY,
        base_url=server.base_url,
        data_dir=data_dir,
        timezone="UTC",
        history_days=35,
    )


def demo_settings(data_dir: Path, **options: Any) -> Settings:
    return Settings(
        **{"timezone": "UTC", "history_days": 35, **options}, data_dir=data_dir
    )


async def test_number_keys_and_clicks_switch_tabs(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        tabs = harness.app.query_one(TabbedContent)
        assert tabs.active == "live"
        for key, tab in (("2", "analytics"), ("3", "budget"), ("4", "export")):
            await pilot.press(key)
            assert tabs.active == tab
        await pilot.press("1")
        assert tabs.active == "live"
        await pilot.click("#--content-tab-budget")
        assert tabs.active == "budget"
        # Each tab's view takes the keys, so they work at once.
        await pilot.press("2")
        await pilot.pause()
        assert type(harness.app.focused).__name__ == "AnalyticsView"


async def test_e_opens_the_export_dialog_from_every_tab_and_exports(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    harness = Harness(demo_settings(tmp_path / "data"), Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        for key in "1234":
            await pilot.press(key, "e")
            assert isinstance(harness.app.screen, ExportDialog), f"tab {key}"
            await pilot.press("escape")
            assert not isinstance(harness.app.screen, ExportDialog)
        await pilot.press("1", "e")
        await pilot.click("ExportDialog #export-now")
        await harness.settle(
            pilot, lambda: any(t[0] == "Exported" for t in harness.toasts)
        )
    [written] = list(tmp_path.glob("monitor-tui-*.csv"))
    [toast] = [t for t in harness.toasts if t[0] == "Exported"]
    assert str(written) in toast[1]
    header, *rows = written.read_text().splitlines()
    assert header.startswith("date,start,end,input_tokens") and rows


async def test_u_shows_times_in_utc_without_moving_the_period(tmp_path):
    settings = demo_settings(tmp_path, timezone="Asia/Tokyo")
    harness = Harness(settings, Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        period = harness.app.snapshot.report.period
        assert "JST" in shown(harness.app, "#figures")
        await pilot.press("u")
        assert harness.app.snapshot.zone.key == "UTC"
        assert harness.app.snapshot.report.period == period
        assert "UTC" in shown(harness.app, "#figures")
        await pilot.press("u")
        assert harness.app.snapshot.zone.key == "Asia/Tokyo"


async def test_question_mark_shows_the_keys_and_escape_closes_them(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert type(harness.app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(harness.app.screen).__name__ != "HelpScreen"
        await pilot.press("q")
    assert harness.app.return_code == 0


async def test_after_a_sync_the_live_tab_shows_the_servers_figures(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.run() as pilot:
        refreshed = await harness.sync(pilot)
        assert refreshed.sync_error is None
        app = harness.app

        # $2.75 + $0.60 + $0.06, as tests/factories.py works out.
        assert shown(app, "#spend-text").startswith("$3.41 this period")
        assert app.query_one("#no-budget").display
        figures = shown(app, "#figures")
        assert "6.00M input (600,000 cached) · 600,000 output" in figures
        assert "Requests    6" in figures
        assert "gpt-4o-2024-08-06 · $2.75, 80.6% of spend" in figures
        # $3.41 over the 3 d 15:30:20 since 1 December, times its 31 days.
        assert "$28.99 at period end" in figures
        assert "Fri 01 Jan 00:00 UTC, in 27d 8h" in figures
        freshness = shown(app, "#freshness")
        assert "LIVE" in freshness and "last good sync 15:30:20 (0 s ago)" in freshness
        assert not app.query_one("#problem").display
        assert app.sub_title == "LIVE"


async def test_a_budget_fills_the_bar_and_warns_before_it_is_crossed(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    Store(tmp_path).set_budget(Budget(amount_usd=20).to_record())
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        app = harness.app
        assert shown(app, "#spend-text") == "$3.41 of $20.00 · 17.1%"
        assert app.query_one("#spend-bar", ProgressBar).percentage == pytest.approx(
            0.1705
        )
        assert not app.query_one("#no-budget").display
        # At $3.41 per 3 d 15:30:20 the $20 budget is reached 21 d 9:13:44 in.
        assert shown(app, "#crossing") == (
            "⚠ At this pace the $20.00 budget is crossed Tue 22 Dec 09:13 UTC, "
            "before the period ends."
        )


async def test_a_failing_server_leaves_the_last_good_data_with_age_and_reason(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    clock = Clock()
    harness = Harness(live_settings(api_server, tmp_path), clock)
    async with harness.run() as pilot:
        await harness.sync(pilot)
        api_server.add_fault(status=500, retry_after=0.01, count=1000)
        clock.now = NOW + timedelta(minutes=7)

        refreshed = await harness.sync(pilot)

        assert refreshed.sync_error is not None and "500" in refreshed.sync_error
        app = harness.app
        assert app.is_running
        problem = shown(app, "#problem")
        assert problem.startswith("✗ Sync failed:") and "500" in problem
        assert "showing the data of 15:30:20, 7 min old" in problem
        assert shown(app, "#spend-text").startswith("$3.41 this period")
        assert "last good sync 15:30:20 (7 min ago)" in shown(app, "#freshness")
        assert ADMIN_KEY not in problem


async def test_three_failed_syncs_in_a_row_bring_one_toast(api_server, tmp_path):
    api_server.add_fault(status=500, retry_after=0.01, count=1000)
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.run() as pilot:
        for _ in range(2):
            await harness.sync(pilot)
        assert harness.toasts == []

        await harness.sync(pilot)
        await harness.sync(pilot)

        errors = [t for t in harness.toasts if t[2] == "error"]
        assert len(errors) == 1
        title, message, _ = errors[0]
        assert title == "Sync failed 3 times in a row"
        assert "500" in message and "The last good data stays on screen." in message
        assert harness.app.failures == 4


async def test_a_good_sync_ends_a_failure_streak_and_says_so(api_server, tmp_path):
    api_server.add_fault(status=500, retry_after=0.01, count=1000)
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.run() as pilot:
        for _ in range(3):
            await harness.sync(pilot)
        api_server.clear_faults()
        refreshed = await harness.sync(pilot)
        assert refreshed.sync_error is None
        assert harness.app.failures == 0
        assert harness.toasts[-1][:2] == ("Sync", "Syncing works again.")
        assert not harness.app.query_one("#problem").display


async def test_the_screen_answers_keys_while_a_slow_sync_runs(api_server, tmp_path):
    api_server.add_fault(status=None, delay=1.5, count=1)
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: bool(harness.refreshes()))
        assert harness.app.start_sync()
        assert not harness.app.start_sync(), "a second sync must not overlap"

        await pilot.press("2")
        assert harness.app.query_one(TabbedContent).active == "analytics"
        assert harness.app.syncing, "the key was handled before the sync finished"
        await pilot.press("r")
        assert harness.toasts[-1][1] == "A sync is already running."

        await harness.settle(pilot, lambda: len(harness.refreshes()) == 2)
        assert not harness.app.syncing


class RecordingSyncer(Syncer):
    """A real syncer that notes when each sync starts and ends, and takes a while."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spans: list[tuple[float, float]] = []

    def sync(self, stopping: Callable[[], bool] = lambda: False) -> Any:
        began = time.monotonic()
        time.sleep(0.05)  # long enough for a timer-driven loop to start another
        result = super().sync(stopping)
        self.spans.append((began, time.monotonic()))
        return result


async def test_the_loop_starts_each_sync_only_after_the_last_one_ended(tmp_path):
    settings = demo_settings(tmp_path)
    syncer = RecordingSyncer(
        Store(settings.store_dir),
        DemoOrganization(now=lambda: NOW_EPOCH),
        history_days=35,
        clock=lambda: NOW_EPOCH,
    )
    app = build_app(settings, clock=Clock(), poll_seconds=0.01, syncer=syncer)
    app.theme = "textual-dark"
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        deadline = time.monotonic() + 30
        while len(syncer.spans) < 4:
            assert time.monotonic() < deadline
            await pilot.pause(0.02)

    for (_, ended), (began, _) in itertools.pairwise(syncer.spans):
        assert began >= ended, "a sync started before the last one ended"
    refreshes = [m for m in messages if isinstance(m, Refreshed)]
    # The store is read and shown first; the first sync then starts by itself.
    assert refreshes[0].synced is False
    assert all(m.synced and m.sync_error is None for m in refreshes[1:])


async def test_demo_data_is_labelled_and_says_how_to_connect(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        app = harness.app
        banner = shown(app, "#demo-banner")
        assert banner.startswith("DEMO: made-up data, because no admin key")
        assert "OPENAI_ADMIN_KEY" in banner
        assert app.sub_title == "DEMO data"
        assert shown(app, "#freshness").startswith(" DEMO ")
        assert not (tmp_path / "state.json").exists(), "demo rows live apart"
        assert (tmp_path / "demo" / "state.json").exists()


async def test_demo_forced_with_a_key_configured_says_why(tmp_path):
    settings = demo_settings(tmp_path, admin_key=ADMIN_KEY, demo=True)
    harness = Harness(settings, Clock())
    async with harness.app.run_test(size=SIZE):
        assert "because --demo was given" in shown(harness.app, "#demo-banner")


async def test_the_demo_keeps_producing_usage_as_time_passes(tmp_path):
    clock = Clock()
    harness = Harness(demo_settings(tmp_path), clock)
    async with harness.run() as pilot:
        await harness.sync(pilot)
        before = harness.app.snapshot
        clock.now = NOW + timedelta(minutes=5)
        await harness.sync(pilot)
        after = harness.app.snapshot
        assert before is not None and after is not None
        assert after.report.requests > before.report.requests
        assert after.report.spend_usd > before.report.spend_usd
        assert shown(harness.app, "#figures") != ""


async def test_a_refused_key_on_the_first_sync_says_so_and_that_nothing_was_read(
    api_server, tmp_path
):
    settings = replace(
        live_settings(api_server, tmp_path), admin_key="sk-admin-wrong-key-00"
    )
    harness = Harness(settings, Clock())
    async with harness.run() as pilot:
        refreshed = await harness.sync(pilot)
        assert refreshed.sync_error is not None
        problem = shown(harness.app, "#problem")
        assert "the API refused the key (401)" in problem
        assert problem.endswith("no data has been read yet")
        assert "sk-admin-wrong-key-00" not in problem
        assert "not synced yet" in shown(harness.app, "#freshness")


async def test_a_failure_toast_shows_the_servers_words_literally(api_server, tmp_path):
    # Square brackets are Rich markup; read as markup this would crash the app.
    body = {"error": {"message": "bad [/bold] thing [@click=app.quit]x[/]"}}
    api_server.add_fault(status=500, retry_after=0.01, count=1000, body=body)
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.app.run_test(
        size=SIZE, message_hook=harness.messages.append, notifications=True
    ) as pilot:
        for _ in range(3):
            await harness.sync(pilot)
        await pilot.pause()
        assert harness.app.is_running
        assert "bad [/bold] thing" in harness.toasts[-1][1]
        assert "bad [/bold] thing" in shown(harness.app, "#problem")


async def test_a_damaged_budget_is_named_and_the_spend_still_shows(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    Store(tmp_path).set_budget({"amount_usd": "abc", "start_day": 1})
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.run() as pilot:
        for _ in range(3):
            refreshed = await harness.sync(pilot)
        app = harness.app
        assert refreshed.sync_error is None and app.failures == 0
        assert harness.toasts == []
        assert "the stored budget is damaged" in shown(app, "#store-problem")
        assert "budget set AMOUNT" in shown(app, "#store-problem")
        assert not app.query_one("#problem").display
        assert shown(app, "#spend-text").startswith("$3.41 this period")


async def test_a_damaged_state_file_is_set_aside_and_the_app_goes_on(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "state.json").write_text("not json")
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        refreshed = await harness.sync(pilot)
        app = harness.app
        assert refreshed.sync_error is None and app.failures == 0
        assert not app.query_one("#store-problem").display
        assert app.snapshot.report.requests > 0
    [toast] = [t for t in harness.toasts if "damaged" in t[0]]
    assert toast[2] == "warning"
    assert "state.json was damaged" in toast[1]
    assert "moved to state.json.damaged-" in toast[1]
    assert "the next sync reads the history again" in toast[1]


async def test_the_period_is_shown_in_the_budgets_zone(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    budget = Budget(amount_usd=20, timezone="Asia/Tokyo")
    Store(tmp_path).set_budget(budget.to_record())
    settings = replace(live_settings(api_server, tmp_path), timezone="America/New_York")
    harness = Harness(settings, Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        # Midnight 1 December in Tokyo is still 30 November in New York.
        assert shown(harness.app, "#period-text").startswith(
            "Tue 01 Dec → Fri 01 Jan (Asia/Tokyo)"
        )
        assert "Thu 31 Dec 10:00 EST" in shown(harness.app, "#figures")


async def test_each_sync_brings_the_servers_new_usage_to_the_screen(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    clock = Clock()
    harness = Harness(live_settings(api_server, tmp_path), clock)
    async with harness.run() as pilot:
        await harness.sync(pilot)
        assert shown(harness.app, "#spend-text").startswith("$3.41 this period")

        # 1M more gpt-4o-mini input, $0.15, arrives in the current hour.
        api_server.add_records(
            [completion(NOW_EPOCH + 60, "gpt-4o-mini-2024-07-18", input_tokens=10**6)]
        )
        clock.now = NOW + timedelta(minutes=2)
        api_server.now = NOW_EPOCH + 120
        await harness.sync(pilot)

        assert shown(harness.app, "#spend-text").startswith("$3.56 this period")
        assert "Requests    7" in shown(harness.app, "#figures")
        assert "last good sync 15:32:20 (0 s ago)" in shown(harness.app, "#freshness")


async def test_a_budget_set_from_the_shell_shows_without_waiting_for_a_sync(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        syncs = len(api_server.requests)
        Store(tmp_path).set_budget(Budget(amount_usd=20).to_record())

        await harness.settle(pilot, lambda: harness.app.snapshot.budget is not None)

        assert shown(harness.app, "#spend-text") == "$3.41 of $20.00 · 17.1%"
        assert len(api_server.requests) == syncs, "read from the store, not synced"


async def test_pressing_r_during_a_sync_says_so_once(api_server, tmp_path):
    api_server.add_fault(status=None, delay=1.0, count=1)
    harness = Harness(live_settings(api_server, tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: bool(harness.refreshes()))
        harness.app.start_sync()
        await pilot.press(*"rrrrrrrrrr")
        await harness.settle(pilot, lambda: len(harness.refreshes()) == 2)
        assert [t[1] for t in harness.toasts] == ["A sync is already running."]


async def test_before_anything_is_read_the_spend_is_unknown_not_zero(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: bool(harness.refreshes()))
        assert shown(harness.app, "#spend-text").startswith("— this period")
        figures = shown(harness.app, "#figures")
        assert "Forecast    — (no usage has been read yet)" in figures
        assert "$0.00" not in figures


async def test_a_data_dir_that_cannot_be_used_is_named_once(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    harness = Harness(demo_settings(blocker), Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        store_line = shown(harness.app, "#store-problem")
        assert store_line.startswith(f"✗ cannot use the data directory {blocker}")
        assert not harness.app.query_one("#problem").display


def test_syncs_that_keep_failing_are_retried_less_and_less_often(tmp_path):
    app = build_app(demo_settings(tmp_path), poll_seconds=60, autostart=False)
    delays = []
    for failures in (0, 1, 2, 3, 4, 5, 40):
        app.failures = failures
        delays.append(app.next_delay())
    assert delays == [60, 60, 120, 240, 480, 900, 900]
    slow = build_app(demo_settings(tmp_path), poll_seconds=3600, autostart=False)
    slow.failures = 3
    assert slow.next_delay() == 3600, "never more often than the poll interval"


async def test_a_theme_chosen_in_the_app_is_kept_for_the_next_start(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        harness.app.theme = "nord"
        await harness.settle(
            pilot, lambda: Store(tmp_path).preference("theme") == "nord"
        )
    again = build_app(demo_settings(tmp_path), clock=Clock(), autostart=False)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


async def test_calls_recorded_with_track_appear_on_the_live_tab(tmp_path):
    import openai

    from monitor_tui import track
    from tests.chat_api import ChatApiServer

    # The tracker stamps calls with the real time, so the app runs at it too.
    harness = Harness(demo_settings(tmp_path), Clock(datetime.now(UTC)))
    with ChatApiServer() as chat:
        client = track(
            openai.OpenAI(api_key="sk-project-test", base_url=chat.base_url),
            label="checkout",
            data_dir=tmp_path,
        )
        async with harness.run() as pilot:
            await harness.settle(pilot, lambda: harness.app.snapshot is not None)
            assert not harness.app.query_one("#calls").display, "none yet"
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
            await harness.settle(pilot, lambda: bool(harness.app.tracked_calls))
            feed = shown(harness.app, "#calls")
            assert "gpt-4o-mini" in feed and "checkout" in feed
            assert "$" in feed
            await harness.settle(
                pilot, lambda: harness.app.snapshot.report.tracked_calls == 1
            )
            assert "in 1 calls recorded on this machine" in shown(
                harness.app, "#figures"
            )


async def test_a_burst_of_tab_keys_ends_on_the_last_tab_and_stays(tmp_path):
    from textual import events

    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        for key in "2134":  # faster than any screen refresh, as a typist can be
            harness.app.post_message(events.Key(key, key))
        await pilot.pause(1.5)

        def activations() -> int:
            return sum(
                isinstance(m, TabbedContent.TabActivated) for m in harness.messages
            )

        settled = activations()
        await pilot.pause(1)
        assert activations() == settled, "the tabs kept switching by themselves"
        assert harness.app.query_one(TabbedContent).active == "export"


async def test_the_keys_dialog_scrolls_to_its_end_by_keyboard_in_a_small_terminal(
    tmp_path,
):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        dialog = harness.app.screen.query_one(VerticalScroll)
        assert dialog.max_scroll_y > 0, "at 80x24 the keys do not fit"
        await pilot.press("end")
        await pilot.pause()
        assert dialog.scroll_y == dialog.max_scroll_y
