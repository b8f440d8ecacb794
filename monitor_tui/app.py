"""The full-screen app: four tabs, the keys, and the sync loop that keeps them fresh.

The app paints from the store first and only then starts syncing, so the first
screen never waits for the SDK or the price data to load.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from filelock import Timeout
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.logging import TextualHandler
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Footer, Header, TabbedContent, TabPane

from monitor_tui.alerts import CRITICAL, Alert
from monitor_tui.config import Settings
from monitor_tui.logfile import log_to_file
from monitor_tui.report_text import printable
from monitor_tui.snapshot import Snapshot, build_snapshot, load_budget
from monitor_tui.store import Store, StoreError, data_dir_problem
from monitor_tui.sync import Syncer, open_syncer
from monitor_tui.tracked_source import can_show_tracked
from monitor_tui.views.budget import BudgetView
from monitor_tui.views.help import HelpScreen
from monitor_tui.views.live import LiveView
from monitor_tui.views.notices import tell_repairs

if TYPE_CHECKING:
    from textual.widget import Widget

    from monitor_tui.notify import Notice, WebhookSender
    from monitor_tui.tracked_calls import TrackedCall
    from monitor_tui.views.export import ExportForm

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

DEMO_POLL_SECONDS = 5
"""Demo data is made up locally, so the demo syncs often enough to visibly tick."""

FAILURES_BEFORE_TOAST = 3

STORE_CHECK_SECONDS = 2
"""How often the app looks whether another process (``budget set``, a cron
``sync``) changed the store, to show that without waiting for its own sync."""

MAX_BACKOFF_SECONDS = 15 * 60
"""The longest wait between syncs while they keep failing."""

TRACKED_CHECK_SECONDS = 1
"""How often the app looks for calls recorded by the user's programs."""
FEED_CALLS = 8
"""How many recorded calls the Live tab lists."""

WEBHOOK_FLUSH_SECONDS = 2.0
"""How long quitting waits for alerts still on their way to the webhook."""

SUB_TITLES = {"demo": "DEMO data", "tracked": "TRACKED calls"}
"""The header's word for the data shown; the organization's is LIVE."""


def _now() -> datetime:
    return datetime.now(UTC)


class Refreshed(Message):
    """A background refresh finished: a new snapshot, or why there is none."""

    def __init__(
        self,
        snapshot: Snapshot | None,
        *,
        synced: bool,
        sync_error: str | None = None,
        read_error: str | None = None,
        store_state: tuple[int, ...] = (),
        repairs: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.repairs = repairs
        """Damaged store files that were set aside while refreshing, said plainly."""
        self.store_state = store_state
        """When the store's state files had last changed as the read began."""
        self.synced = synced
        """True when the refresh ran a sync, not only a read of the store."""
        self.sync_error = sync_error
        """Why the sync failed; None when it succeeded or did not run."""
        self.read_error = read_error
        """Why the store or the budget could not be read; None when they were."""


class TabView(Container):
    """Holds a tab's view, built the first time the tab is shown: the modules of
    Analytics and Export would add a tenth of a second to the first paint."""

    can_focus = False

    def __init__(self, tab: str) -> None:
        super().__init__()
        self.tab = tab
        self._view: Widget | None = None

    @property
    def view(self) -> Widget:
        """The view, built now if it has not been yet."""
        if self._view is None:
            app = self.app
            assert isinstance(app, MonitorApp)
            # Built in the app's own context, which the data binding needs.
            with app._context():
                self._view = app.build_tab_view(self)
            self.mount(self._view)
        return self._view

    def on_show(self) -> None:
        self.view  # noqa: B018 - built when first shown; the app focuses it


class MonitorApp(App[None]):
    """Watch the organization's OpenAI spend against its budget."""

    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (80, "-wide"),
    ]
    """Below 80 columns the Live tab's bars shrink so their figures stay on one
    line."""
    TITLE = "monitor-tui"
    AUTO_FOCUS = "LiveView"
    """The Live tab takes the keys first, so arrows and Page Down scroll it on a
    small terminal; it binds no digits, so `1`-`4` still switch tabs."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_tab('live')", "Live", id="tab-live", show=False),
        Binding(
            "2", "show_tab('analytics')", "Analytics", id="tab-analytics", show=False
        ),
        Binding("3", "show_tab('budget')", "Budget", id="tab-budget", show=False),
        Binding("4", "show_tab('export')", "Export", id="tab-export", show=False),
        Binding("e", "export", "Export…", id="export"),
        Binding("r", "sync_now", "Sync now", id="sync"),
        Binding("u", "toggle_utc", "UTC", id="utc"),
        Binding("question_mark", "help", "Keys", id="help"),
        Binding("f1", "help", "Keys", show=False),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    snapshot: reactive[Snapshot | None] = reactive(None)
    """What the views draw; replaced after every refresh, never mutated."""
    syncing: reactive[bool] = reactive(False)
    """True while a sync runs in the background."""
    problem: reactive[str | None] = reactive(None)
    """Why this session's last sync failed; None once one succeeds."""
    store_problem: reactive[str | None] = reactive(None)
    """Why the last read of the store or the budget failed, if it did."""
    last_sync: reactive[datetime | None] = reactive(None)
    """When the last good sync ended; None before the first."""
    data_version: reactive[int] = reactive(0)
    """Counts the snapshots shown, so the Analytics tab knows to recompute."""
    tracked_calls: reactive[tuple[TrackedCall, ...]] = reactive(())
    """The calls this machine's programs recorded with ``track``, newest first."""
    zone: reactive[ZoneInfo] = reactive(ZoneInfo("UTC"))
    """The zone times are shown in: the configured one, or UTC after `u`. It
    never moves the billing period."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = _now,
        autostart: bool = True,
        poll_seconds: float | None = None,
        syncer: Syncer | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock
        self.autostart = autostart
        self._poll_chosen = poll_seconds is not None
        if poll_seconds is None:
            poll_seconds = settings.poll_interval_seconds
            if settings.use_demo:
                poll_seconds = min(poll_seconds, DEMO_POLL_SECONDS)
        self.poll_seconds = poll_seconds
        self.failures = 0
        """Syncs that failed in a row."""
        self._busy = False
        self._next_sync: Timer | None = None
        self._syncer = syncer
        self._quitting = threading.Event()
        self._sync_after_read = autostart
        """Start a sync when the read under way ends: the first one, or `r`."""
        self._shown_state: tuple[int, ...] = ()
        self._told_busy = False
        self._webhook: WebhookSender | None = None
        self._theme_restored = False
        self._calls_read = False
        """True once the stored tracked calls have been read."""
        """Themes set from now on are the user's choice, to remember."""
        self.sub_title = SUB_TITLES.get(settings.origin, "LIVE")
        self.set_reactive(MonitorApp.zone, settings.zone)

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="live"):
            with TabPane("1 Live", id="live"):
                yield LiveView(self.settings, self.clock).data_bind(
                    MonitorApp.snapshot,
                    MonitorApp.syncing,
                    MonitorApp.problem,
                    MonitorApp.store_problem,
                    MonitorApp.tracked_calls,
                )
            # Analytics and Export are built when first shown: their modules
            # would add a tenth of a second to the first paint of Live.
            with TabPane("2 Analytics", id="analytics"):
                yield TabView("analytics")
            with TabPane("3 Budget", id="budget"):
                yield BudgetView(self.settings, self.clock).data_bind(
                    MonitorApp.snapshot, MonitorApp.store_problem, MonitorApp.problem
                )
            with TabPane("4 Export", id="export"):
                yield TabView("export")
        yield Footer()

    def on_mount(self) -> None:
        self._restore_theme()
        for warning in self.settings.warnings:
            self.notify(warning, title="Warning", severity="warning", markup=False)
        self._refresh(sync=False)
        self.set_interval(STORE_CHECK_SECONDS, self._check_store)
        self.set_interval(TRACKED_CHECK_SECONDS, self._check_tracked_calls)

    def _restore_theme(self) -> None:
        try:
            theme = Store(self.settings.data_dir).preference("theme")
        except (StoreError, OSError):
            return  # the first refresh says what is wrong with the store
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self._theme_restored = True

    def watch_theme(self, theme: str) -> None:
        # Remembered in the store, as everything the app changes is; a theme
        # set before the app starts (by the tests) is not a choice to keep.
        if getattr(self, "_theme_restored", False):  # not yet set in App.__init__
            self.run_worker(
                lambda: self._remember_theme(theme), thread=True, group="theme"
            )

    def _remember_theme(self, theme: str) -> None:
        try:
            Store(self.settings.data_dir).set_preference("theme", theme)
        except (StoreError, OSError, Timeout):
            log.warning("could not remember the theme %r", theme)

    def on_unmount(self) -> None:
        self._quitting.set()
        if self._next_sync is not None:
            self._next_sync.stop()
        if self._syncer is not None and not self._busy:
            self._syncer.close()
        if self._webhook is not None:
            # The alert that fired just before quitting still goes out.
            self._webhook.flush(timeout=WEBHOOK_FLUSH_SECONDS)
            self._webhook.close()

    # Keys

    def action_show_tab(self, tab: str) -> None:
        """Switch to one of the four tabs."""
        self.query_one(TabbedContent).active = tab

    def on_tabbed_content_tab_activated(
        self, event: TabbedContent.TabActivated
    ) -> None:
        # Keys pressed in a burst deliver these late: focusing the view of a tab
        # that is no longer the active one would make it active again, and the
        # tabs would chase each other.
        if event.tabbed_content.active != event.pane.id:
            return
        holder = event.pane.query_children().first()
        view = holder.view if isinstance(holder, TabView) else holder
        # The tab's view takes the keys: Tab then reaches its first field, and
        # the number keys still switch tabs.
        if view.focusable:
            self.call_after_refresh(self._focus_if_shown, event.pane, view)

    def _focus_if_shown(self, pane: TabPane, view: Widget) -> None:
        if not self.is_running or self.query_one(TabbedContent).active != pane.id:
            return
        if view.is_mounted:
            view.focus()
        else:  # a view built just now is mounted by the next refresh
            self.call_after_refresh(self._focus_if_shown, pane, view)

    def build_tab_view(self, holder: TabView) -> Widget:
        """The view a ``TabView`` holds, data-bound to the app."""
        if holder.tab == "analytics":
            from monitor_tui.views.analytics import AnalyticsView

            return AnalyticsView(self.settings, self.clock).data_bind(
                MonitorApp.data_version,
                MonitorApp.zone,
                MonitorApp.syncing,
                MonitorApp.last_sync,
            )
        from monitor_tui.views.export import ExportView

        return ExportView(self.settings, self.clock).data_bind(MonitorApp.zone)

    def action_sync_now(self) -> None:
        """Sync at once instead of waiting for the next scheduled sync."""
        if self._busy and not self._told_busy:
            self._told_busy = True  # once per sync, however often `r` is pressed
            self.notify(
                "A sync is already running."
                if self.syncing
                else "Reading the store; a sync follows.",
                timeout=3,
            )
        self.start_sync()

    def action_export(self) -> None:
        """Open the export dialog, starting with the range the current tab shows."""
        from monitor_tui.views.analytics import AnalyticsView
        from monitor_tui.views.export import ExportDialog

        if isinstance(self.screen, ExportDialog):
            return
        default = None
        project = None
        if self.query_one(TabbedContent).active == "analytics":
            view = self.query_one("#analytics", TabPane).query_one(TabView).view
            assert isinstance(view, AnalyticsView)
            default = view.analytics.range if view.analytics else view.kind
            project = view.project
        self.push_screen(
            ExportDialog(
                self.settings, self.clock, default, zone=self.zone, project=project
            )
        )

    def on_export_form_exported(self, message: ExportForm.Exported) -> None:
        self.notify(
            f"{message.what}\n{message.path}",
            title=message.title,
            severity=message.severity,
            markup=False,
        )

    def action_toggle_utc(self) -> None:
        """Show times in UTC, as OpenAI's dashboard does, or in the configured
        zone again."""
        if self.settings.zone.key == "UTC":
            self.notify("Times are shown in UTC already.", timeout=3)
            return
        utc = ZoneInfo("UTC")
        self.zone = self.settings.zone if self.zone == utc else utc
        self.notify(f"Times are shown in {self.zone.key}.", timeout=3)

    def watch_zone(self) -> None:
        if self.snapshot is not None and self.snapshot.zone != self.zone:
            self.snapshot = dataclasses.replace(self.snapshot, zone=self.zone)

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
            # A read of the store ends soon; a sync already running is enough.
            self._sync_after_read = self._sync_after_read or not self.syncing
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
        # The loop must outlive whatever one sync or read meets, so every
        # failure becomes a message for the screen.
        sync_error: str | None = None
        repairs: list[str] = []
        try:
            if sync:
                if self._syncer is None:
                    self._syncer = open_syncer(
                        self.settings, lambda: int(self.clock().timestamp())
                    )
                # Held here: a switch to recorded calls drops the app's syncer.
                syncer = self._syncer
                sync_error = syncer.sync(self._quitting.is_set).error
                repairs += syncer.store.recovered
                syncer.store.recovered.clear()
        except Exception as exc:
            log.exception("the sync failed")
            sync_error = self._describe(exc)
        finally:
            if self._quitting.is_set() and self._syncer is not None:
                self._syncer.close()
        if self._quitting.is_set():
            return
        snapshot: Snapshot | None = None
        read_error: str | None = None
        # Taken before reading: a change made during the read is seen next time.
        store_state = self._store_state()
        try:
            snapshot, read_error = self.read_snapshot(repairs)
        except Exception as exc:
            log.exception("the store could not be read")
            read_error = self._describe(exc)
        self.post_message(
            Refreshed(
                snapshot,
                synced=sync,
                sync_error=sync_error,
                read_error=read_error,
                store_state=store_state,
                repairs=tuple(repairs),
            )
        )

    def _describe(self, exc: Exception) -> str:
        if isinstance(exc, OSError) and exc.filename is not None:
            return data_dir_problem(exc, self.settings.data_dir)
        return str(exc) or type(exc).__name__

    def read_snapshot(
        self, repairs: list[str] | None = None
    ) -> tuple[Snapshot, str | None]:
        """Build the snapshot from the store (blocking; call off the UI thread).

        Args:
            repairs: gets what the stores found damaged and set aside.

        Returns:
            The snapshot, and why the budget could not be read if it could not:
            a damaged budget must not hide the spend.
        """
        budget_store = Store(self.settings.data_dir)
        store = Store(self.settings.store_dir)
        try:
            budget, problem = load_budget(budget_store), None
        except StoreError as exc:
            budget, problem = None, str(exc)
        finally:
            if repairs is not None:
                repairs += budget_store.recovered
        snapshot = build_snapshot(
            store,
            self.settings.origin,
            budget,
            self.settings.zone,
            self.clock(),
            burn_multiple=self.settings.burn_alert_multiple,
            fire_alerts=True,
            calls_store=budget_store,
        )
        if repairs is not None:
            repairs += store.recovered
        return snapshot, problem

    def on_refreshed(self, message: Refreshed) -> None:
        self._busy = False
        self._told_busy = False
        self.syncing = False
        snapshot = message.snapshot
        # Read before the switch to recorded calls: not shown; they are read next.
        outdated = (
            snapshot is not None and snapshot.report.source != self.settings.origin
        )
        if snapshot is not None and not outdated:
            self.snapshot = dataclasses.replace(snapshot, zone=self.zone)
            self.last_sync = snapshot.sync.last_ok_at
            self.data_version += 1
            self.deliver_alerts(snapshot.new_alerts)
        self._shown_state = () if outdated else message.store_state
        self.store_problem = message.read_error
        tell_repairs(self, message.repairs)
        if message.synced:
            self.problem = message.sync_error
            self._count_failure(message.sync_error)
        if not self.is_running:
            return
        if message.synced:
            if self.autostart:
                self._next_sync = self.set_timer(self.next_delay(), self.start_sync)
        elif self._sync_after_read:
            # The first paint comes before the first sync, which imports the SDK.
            self._sync_after_read = False
            self.call_after_refresh(self.start_sync)
        if outdated:
            self._check_store(force=True)

    # Calls recorded by the user's programs with track()

    def _check_tracked_calls(self) -> None:
        self.run_worker(
            self._read_tracked_calls, thread=True, exclusive=True, group="tracked"
        )

    def _read_tracked_calls(self) -> None:
        from monitor_tui.spool import ingest, pending_files
        from monitor_tui.tracked_calls import recent_calls

        data_dir = self.settings.data_dir
        try:
            if self._calls_read and not pending_files(data_dir):
                return  # nothing new since the last look: a directory listing
            store = Store(data_dir)
            added = ingest(
                store, data_dir, wait=0, price_overrides=self.settings.price_overrides
            )
            if added or not self._calls_read:
                calls = tuple(recent_calls(store, FEED_CALLS))
                switch = (
                    self.settings.use_demo
                    and can_show_tracked(self.settings)
                    and store.holds_calls()
                )
                self.call_from_thread(self._show_tracked_calls, calls, added, switch)
            self._calls_read = True
        except Exception:  # the feed must never stop the app
            log.exception("the tracked calls could not be read")

    def _show_tracked_calls(
        self, calls: tuple[TrackedCall, ...], added: int, switch: bool = False
    ) -> None:
        self.tracked_calls = calls
        if switch and self.settings.use_demo:
            self._show_tracked_data()
        elif added and self.snapshot is not None:
            # The period's tracked spend moves with them.
            self._check_store(force=True)

    def _show_tracked_data(self) -> None:
        """Show the calls recorded on this machine instead of the demo: without
        an admin key they are the only real data there is."""
        settings = dataclasses.replace(self.settings, chosen_origin="tracked")
        self.settings = settings
        for screen in self.screen_stack:
            for view in screen.query("LiveView, BudgetView, AnalyticsView, ExportForm"):
                view.settings = settings  # type: ignore[attr-defined]
                if isinstance(view, LiveView):
                    view.show_source()
        self.sub_title = SUB_TITLES["tracked"]
        if not self._poll_chosen:
            self.poll_seconds = settings.poll_interval_seconds
        demo_syncer, self._syncer = self._syncer, None
        if demo_syncer is not None and not self._busy:
            demo_syncer.close()
        self.notify(
            "A call recorded with track() arrived: the app now shows the calls "
            "recorded on this machine instead of the demo data.",
            title="Tracked calls",
            timeout=8,
        )
        self.data_version += 1  # Analytics recomputes from the calls
        self.start_sync()

    def on_budget_view_saved(self) -> None:
        self._check_store()

    # Alerts: on screen, the bell, the desktop and the webhook

    def deliver_alerts(self, alerts: tuple[Alert, ...]) -> None:
        """Send alerts that just fired to every configured channel.

        They are already in the store's log, which the Budget tab shows. Demo
        alerts stay on this screen: made-up spend must never reach a team's
        channel or desktop.
        """
        if not alerts:
            return
        for alert in reversed(alerts):  # the log's newest first; toasts oldest
            self.notify(
                alert.text,
                title=alert.title,
                severity="error" if alert.severity == CRITICAL else "warning",
                timeout=15,
                markup=False,
            )
        if self.settings.bell:
            self.bell()
        if self.settings.use_demo:
            return
        from monitor_tui.desktop import desktop_notify
        from monitor_tui.notify import Notice

        for alert in alerts:
            notice = Notice(alert.title, alert.text, alert.severity)
            if self.settings.desktop_notifications:
                desktop_notify(notice)
            if self.settings.webhook_url:
                self._webhook_sender().send(notice)

    def _webhook_sender(self) -> WebhookSender:
        if self._webhook is None:
            from monitor_tui.notify import WebhookSender

            assert self.settings.webhook_url is not None
            self._webhook = WebhookSender(
                self.settings.webhook_url, on_result=self._webhook_result
            )
        return self._webhook

    def _webhook_result(self, notice: Notice, error: str | None) -> None:
        # Called on the sender's thread, possibly as the app quits.
        if error is None or self._quitting.is_set():
            return
        with contextlib.suppress(RuntimeError):  # stopped: the log has it
            self.call_from_thread(
                self.notify,
                f"{notice.title}: {error}",
                title="The alert webhook failed",
                severity="warning",
                markup=False,
            )

    def next_delay(self) -> float:
        """Seconds until the next sync: the poll interval, doubled after each
        failure in a row up to ``MAX_BACKOFF_SECONDS`` (never below the interval).

        The SDK retries a failed request twice within one sync, honouring
        Retry-After, for brief trouble; across syncs this loop backs off, so an
        outage of hours costs a request now and then, not a burst a minute.
        """
        if not self.failures:
            return self.poll_seconds
        backoff = self.poll_seconds * 2 ** min(self.failures - 1, 10)
        return max(self.poll_seconds, min(backoff, MAX_BACKOFF_SECONDS))

    def _store_state(self) -> tuple[int, ...]:
        """When the files the snapshot reads last changed (0 where missing)."""
        stamps = []
        for folder in {self.settings.data_dir, self.settings.store_dir}:
            try:
                stamps.append((folder / "state.json").stat().st_mtime_ns)
            except OSError:
                stamps.append(0)
        return tuple(stamps)

    def _check_store(self, *, force: bool = False) -> None:
        if self._busy:
            return
        if force or self._store_state() != self._shown_state:
            self._refresh(sync=False)

    def _count_failure(self, error: str | None) -> None:
        if error is None:
            if self.failures >= FAILURES_BEFORE_TOAST:
                self.clear_notifications()
                self.notify("Syncing works again.", title="Sync")
            self.failures = 0
            return
        self.failures += 1
        if self.failures == FAILURES_BEFORE_TOAST:
            retry = " Still trying, less often while it fails." * self.autostart
            # The error may quote the server: never read it as markup.
            self.notify(
                f"{printable(error)}\nThe last good data stays on screen.{retry}",
                title=f"Sync failed {FAILURES_BEFORE_TOAST} times in a row",
                severity="error",
                timeout=15,
                markup=False,
            )


def build_app(
    settings: Settings,
    *,
    clock: Clock = _now,
    autostart: bool = True,
    poll_seconds: float | None = None,
    syncer: Syncer | None = None,
) -> MonitorApp:
    """The app, used by the ``monitor-tui`` command and by the tests.

    Args:
        settings: where the store is, which source, the zone and poll interval.
        clock: the current time; tests pass a fixed one.
        autostart: sync on start and then on a timer; tests start syncs by hand.
        poll_seconds: seconds between syncs, overriding the settings.
        syncer: the syncer to use; by default one for the settings' source is
            opened on the first sync.
    """
    return MonitorApp(
        settings,
        clock=clock,
        autostart=autostart,
        poll_seconds=poll_seconds,
        syncer=syncer,
    )


def _log_to_file(settings: Settings) -> None:
    """Keep a record of each sync, since the screen is the app's: records go to
    the log file and Textual's console, never to stderr."""
    logging.basicConfig(
        level=logging.WARNING,
        handlers=[TextualHandler()],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    log_to_file(settings)


def run_app(settings: Settings, *, clock: Clock = _now) -> int:
    """Run the app in this terminal until the user quits; return the exit code."""
    _log_to_file(settings)
    app = build_app(settings, clock=clock)
    app.run()
    return app.return_code or 0
