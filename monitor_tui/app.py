"""The full-screen app: four tabs, the keys, and the sync loop that keeps them fresh.

The app paints from the store first and only then starts syncing, so the first
screen never waits for the SDK or the price data to load.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.logging import TextualHandler
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Footer, Header, TabbedContent, TabPane

from monitor_tui.config import Settings
from monitor_tui.snapshot import Snapshot, build_snapshot, load_budget
from monitor_tui.store import Store
from monitor_tui.sync import Syncer, open_syncer
from monitor_tui.views.help import HelpScreen
from monitor_tui.views.live import LiveView
from monitor_tui.views.pending import PendingView

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

DEMO_POLL_SECONDS = 5
"""Demo data is made up locally, so the demo syncs often enough to visibly tick."""

FAILURES_BEFORE_TOAST = 3

TABS = ("live", "analytics", "budget", "export")


def _now() -> datetime:
    return datetime.now(UTC)


class Refreshed(Message):
    """A background refresh finished: a new snapshot, or why there is none."""

    def __init__(
        self, snapshot: Snapshot | None, *, synced: bool, error: str | None
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.synced = synced
        """True when the refresh ran a sync, not only a read of the store."""
        self.error = error
        """Why the sync or the read failed; None when it succeeded."""


class MonitorApp(App[None]):
    """Watch the organization's OpenAI spend against its budget."""

    CSS_PATH = "app.tcss"
    TITLE = "monitor-tui"
    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_tab('live')", "Live", id="tab-live"),
        Binding("2", "show_tab('analytics')", "Analytics", id="tab-analytics"),
        Binding("3", "show_tab('budget')", "Budget", id="tab-budget"),
        Binding("4", "show_tab('export')", "Export", id="tab-export"),
        Binding("r", "sync_now", "Sync now", id="sync"),
        Binding("question_mark", "help", "Keys", id="help"),
        Binding("f1", "help", "Keys", show=False),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    snapshot: reactive[Snapshot | None] = reactive(None)
    """What the views draw; replaced after every refresh, never mutated."""
    syncing: reactive[bool] = reactive(False)
    """True while a sync runs in the background."""
    problem: reactive[str | None] = reactive(None)
    """Why the last sync or read in this session failed; None once one succeeds."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = _now,
        autostart: bool = True,
        poll_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock
        self.autostart = autostart
        self.poll_seconds = poll_seconds or (
            min(settings.poll_interval_seconds, DEMO_POLL_SECONDS)
            if settings.use_demo
            else settings.poll_interval_seconds
        )
        self.failures = 0
        """Syncs that failed in a row."""
        self._busy = False
        self._next_sync: Timer | None = None
        self._syncer: Syncer | None = None
        self.sub_title = "DEMO data" if settings.use_demo else "LIVE"

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="live"):
            with TabPane("1 Live", id="live"):
                yield LiveView(self.settings, self.clock).data_bind(
                    MonitorApp.snapshot, MonitorApp.syncing, MonitorApp.problem
                )
            with TabPane("2 Analytics", id="analytics"):
                yield PendingView(
                    "Spend and tokens by model, project and API key, the hourly "
                    "pattern and daily trend, and where money could be saved."
                )
            with TabPane("3 Budget", id="budget"):
                yield PendingView(
                    "A form for the monthly budget and alert thresholds, the "
                    "forecast, and the log of alerts. For now: "
                    "monitor-tui budget set AMOUNT."
                )
            with TabPane("4 Export", id="export"):
                yield PendingView(
                    "CSV, JSON and a Markdown summary of what is on screen. For "
                    "now: monitor-tui report --json."
                )
        yield Footer()

    def on_mount(self) -> None:
        self._refresh(sync=False)

    def on_unmount(self) -> None:
        if self._next_sync is not None:
            self._next_sync.stop()
        if self._syncer is not None and not self._busy:
            self._syncer.close()

    # Keys

    def action_show_tab(self, tab: str) -> None:
        """Switch to one of the four tabs."""
        self.query_one(TabbedContent).active = tab

    def action_sync_now(self) -> None:
        """Sync at once instead of waiting for the next scheduled sync."""
        if self._busy:
            self.notify("A sync is already running.", timeout=3)
            return
        self.start_sync()

    def action_help(self) -> None:
        """Show the keys."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # The sync loop: the next sync is scheduled only when the last one finished.

    def start_sync(self) -> bool:
        """Start a sync in the background; False if one is already running."""
        if self._next_sync is not None:
            self._next_sync.stop()
            self._next_sync = None
        if self._busy:
            return False
        self.syncing = True
        self._refresh(sync=True)
        return True

    def _refresh(self, *, sync: bool) -> None:
        self._busy = True
        # A daemon thread, not a Textual thread worker: the SDK's calls block and
        # cannot be cancelled, and Textual's workers run in the default executor,
        # which is joined at exit, so quitting would wait out a stalled request.
        # The store writes atomically, so a sync cut off at exit loses nothing.
        threading.Thread(
            target=self._refresh_in_background,
            args=(sync,),
            name="monitor-tui sync" if sync else "monitor-tui read",
            daemon=True,
        ).start()

    def _refresh_in_background(self, sync: bool) -> None:
        error: str | None = None
        snapshot: Snapshot | None = None
        try:
            if sync:
                if self._syncer is None:
                    self._syncer = open_syncer(
                        self.settings, lambda: int(self.clock().timestamp())
                    )
                error = self._syncer.sync().error
            snapshot = self.read_snapshot()
        except Exception as exc:  # the loop must outlive whatever one sync meets
            log.exception("refresh failed")
            error = str(exc) or type(exc).__name__
        self.post_message(Refreshed(snapshot, synced=sync, error=error))

    def read_snapshot(self) -> Snapshot:
        """Build the snapshot from the store (blocking; call off the UI thread)."""
        budget = load_budget(Store(self.settings.data_dir))
        return build_snapshot(
            Store(self.settings.store_dir),
            self.settings.origin,
            budget,
            self.settings.zone,
            self.clock(),
        )

    def on_refreshed(self, message: Refreshed) -> None:
        self._busy = False
        self.syncing = False
        if message.snapshot is not None:
            self.snapshot = message.snapshot
        self.problem = message.error
        if message.synced:
            self._count_failure(message.error)
        if not self.autostart or not self.is_running:
            return
        if message.synced:
            self._next_sync = self.set_timer(self.poll_seconds, self.start_sync)
        else:
            # The first paint comes before the first sync, which imports the SDK.
            self.call_after_refresh(self.start_sync)

    def _count_failure(self, error: str | None) -> None:
        if error is None:
            if self.failures >= FAILURES_BEFORE_TOAST:
                self.notify("Syncing works again.", title="Sync")
            self.failures = 0
            return
        self.failures += 1
        if self.failures == FAILURES_BEFORE_TOAST:
            self.notify(
                f"{error}\nThe last good data stays on screen; still trying every "
                f"{self.poll_seconds:g} s.",
                title=f"Sync failed {FAILURES_BEFORE_TOAST} times in a row",
                severity="error",
                timeout=15,
            )


def build_app(
    settings: Settings,
    *,
    clock: Clock = _now,
    autostart: bool = True,
    poll_seconds: float | None = None,
) -> MonitorApp:
    """The app, used by the ``monitor-tui`` command and by the tests.

    Args:
        settings: where the store is, which source, the zone and poll interval.
        clock: the current time; tests pass a fixed one.
        autostart: sync on start and then on a timer; tests start syncs by hand.
        poll_seconds: seconds between syncs, overriding the settings.
    """
    return MonitorApp(
        settings, clock=clock, autostart=autostart, poll_seconds=poll_seconds
    )


def run_app(settings: Settings, *, clock: Clock = _now) -> int:
    """Run the app in this terminal until the user quits; return the exit code."""
    # The screen is the app's: log records go to Textual's console, not stderr.
    logging.basicConfig(level=logging.WARNING, handlers=[TextualHandler()])
    app = build_app(settings, clock=clock)
    app.run()
    return app.return_code or 0
