"""One sync: decide which windows to read, read them, price the rows, store them.

The windows follow the contracts: hourly completions and embeddings for the
history length, minute buckets for the last three hours, daily buckets of the
other usage endpoints and of costs for the history length. A sync starts where
the last one ended, reaching back over the trailing window the API may still
revise (the last 20 minutes of minute buckets, the current and previous hour,
the current and previous UTC day of daily buckets) as it was at the end of the
last sync, so nothing revisable then is left unread.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor_tui.sources import Page, Source, SyncError

if TYPE_CHECKING:
    from monitor_tui.config import Settings
    from monitor_tui.price_overrides import PriceOverride
    from monitor_tui.pricing import Pricer
from monitor_tui.names import NamesOutcome, refresh_names
from monitor_tui.pricing import price_basis
from monitor_tui.store import MINUTE_RETENTION_SECONDS, Store, StoreError
from monitor_tui.usage import (
    COST_DIMENSIONS,
    USAGE_ENDPOINTS,
    WIDTH_SECONDS,
    align,
    check_coverage,
    page_buckets,
    parse_cost_buckets,
    parse_usage_buckets,
)

log = logging.getLogger(__name__)

MINUTE_REREAD_SECONDS = 20 * 60
COSTS = "costs"
TRACKED_ORIGIN = "tracked"
"""The origin of calls recorded with ``track``, read from the spool."""


@dataclass(frozen=True)
class Window:
    """One read: an endpoint at one width over [start, end)."""

    endpoint: str
    width: str
    start: int
    end: int
    history_start: int


@dataclass
class WindowResult:
    """What one window's read brought."""

    window: Window
    pages: int = 0
    buckets: int = 0
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    """Results the API sent that could not be used, by reason."""


@dataclass
class SyncResult:
    """What a sync read and stored, and whether it finished."""

    origin: str
    started_at: int
    windows: list[WindowResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    names: NamesOutcome | None = None
    """What the sync did about project and key names; None when they were not
    due (or the usage read failed)."""

    @property
    def ok(self) -> bool:
        """True when every window was read and stored."""
        return self.error is None

    @property
    def pages(self) -> int:
        """Pages read in all windows."""
        return sum(w.pages for w in self.windows)

    @property
    def buckets(self) -> int:
        """Buckets read in all windows, empty ones included."""
        return sum(w.buckets for w in self.windows)

    @property
    def rows(self) -> int:
        """Rows stored in all windows."""
        return sum(w.rows for w in self.windows)

    @property
    def skipped(self) -> Counter[str]:
        """Results the API sent that could not be used, by reason, in all
        windows; they are left out of every total."""
        total: Counter[str] = Counter()
        for w in self.windows:
            total.update(w.skipped)
        return total


def _history_starts(now: int, history_days: int) -> dict[str, int]:
    day = align(now, "1d")
    return {
        "1h": day - history_days * 86400,
        "1d": day - history_days * 86400,
        "1m": align(now, "1m") - MINUTE_RETENTION_SECONDS,
    }


def _reread_from(now: int) -> dict[str, int]:
    return {
        "1m": align(now, "1m") - MINUTE_REREAD_SECONDS,
        "1h": align(now, "1h") - WIDTH_SECONDS["1h"],
        "1d": align(now, "1d") - WIDTH_SECONDS["1d"],
    }


def plan_windows(
    store: Store, origin: str, now: int, history_days: int
) -> list[Window]:
    """Return the windows the next sync reads, each starting on a bucket boundary.

    A start that is not on a boundary would make the API return a short first
    bucket, which a later aligned read would then count a second time.
    """
    history = _history_starts(now, history_days)
    reread = _reread_from(now)
    wanted = [
        (name, width)
        for name, endpoint in USAGE_ENDPOINTS.items()
        for width in endpoint.widths
    ]
    wanted.append((COSTS, "1d"))

    windows = []
    for endpoint, width in wanted:
        mark = store.watermark(origin, endpoint, width)
        if mark is None or mark["synced_from"] > history[width]:
            start = history[width]
        else:
            # Buckets the API could still revise when the last sync read them are
            # read again, however long ago that was.
            revisable_then = _reread_from(mark["synced_until"])[width]
            resume = align(min(revisable_then, reread[width]), width)
            start = max(history[width], resume)
        if start < now:
            windows.append(Window(endpoint, width, start, now, history[width]))
    return windows


def finished_record(
    result: SyncResult,
    started: int,
    finished: int,
    previous: dict[str, Any],
    **counts: Any,
) -> dict[str, Any]:
    """The record of a finished sync, as ``Store.record_sync`` keeps it: when,
    whether it worked, the last good sync, and what it read (``counts``)."""
    return {
        "started_at": started,
        "finished_at": finished,
        "ok": result.ok,
        "error": result.error,
        "last_ok_at": finished if result.ok else previous.get("last_ok_at"),
        **counts,
        "seconds": round(result.seconds, 3),
    }


def reprice_if_changed(
    store: Store,
    overrides: Mapping[str, PriceOverride],
    pricer: Callable[[], Pricer] | None = None,
) -> int:
    """Price every stored row again if it was priced on another basis (another
    price data release, other overrides), before totals are read or new rows
    join them. Cheap when nothing changed: the price data loads only to reprice.

    Returns:
        How many rows were priced again.
    """
    basis = price_basis(overrides)
    if store.price_basis() == basis:
        return 0
    if pricer is None:
        from monitor_tui.pricing import Pricer

        chosen = Pricer(overrides)
    else:
        chosen = pricer()
    began = time.perf_counter()
    repriced = store.reprice_usage(chosen.price_rows, basis)
    log.info(
        "priced %d stored rows again on %s in %.2f s",
        repriced,
        basis,
        time.perf_counter() - began,
    )
    return repriced


def _collect(
    pages: Iterable[Page],
    window: Window,
    outcome: WindowResult,
    parse: Callable[[list[dict[str, Any]], Counter[str]], Iterable[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Parse every page of a window into rows, counting pages and buckets, and
    refuse a window its buckets do not cover exactly once."""
    rows: list[dict[str, Any]] = []
    starts: list[int] = []
    for page in pages:
        buckets = page_buckets(page)
        outcome.pages += 1
        outcome.buckets += len(buckets)
        starts.extend(bucket["start_time"] for bucket in buckets)
        rows.extend(parse(buckets, outcome.skipped))
    check_coverage(starts, window.start, window.end, window.width)
    return rows


class Syncer:
    """Runs syncs of one source into one store."""

    def __init__(
        self,
        store: Store,
        source: Source,
        *,
        history_days: int = 90,
        clock: Callable[[], int] | None = None,
        pricer: Pricer | None = None,
        price_overrides: Mapping[str, PriceOverride] | None = None,
    ) -> None:
        self.store = store
        self.source = source
        self.history_days = history_days
        self._clock = clock or (lambda: int(time.time()))
        self._pricer = pricer
        self.price_overrides = dict(price_overrides or {})
        self._seen_projects: set[str] = set()

    @property
    def pricer(self) -> Pricer:
        """The pricer, built on first use so the price data loads only when needed."""
        if self._pricer is None:
            from monitor_tui.pricing import Pricer

            self._pricer = Pricer(self.price_overrides)
        return self._pricer

    def close(self) -> None:
        """Release the source's connections."""
        self.source.close()

    def sync(self, stopping: Callable[[], bool] = lambda: False) -> SyncResult:
        """Read every planned window and store it; never raises for API trouble.

        ``stopping`` is asked before each window; once it says yes, the sync ends
        there as failed, with what it has stored kept.

        A window's watermark moves only after its rows are stored, so a sync that
        is interrupted is simply read again from the same place next time.
        """
        origin = self.source.origin
        now = self._clock()
        result = SyncResult(origin=origin, started_at=now)
        previous = self.store.last_sync(origin) or {}
        self.store.record_sync(
            origin,
            {
                "started_at": now,
                "finished_at": None,
                "ok": None,
                "error": None,
                "last_ok_at": previous.get("last_ok_at"),
            },
        )
        began = time.perf_counter()
        self._seen_projects = set()
        try:
            reprice_if_changed(self.store, self.price_overrides, lambda: self.pricer)
            repairs = len(self.store.recovered)
            self._read_windows(now, result, stopping)
            if len(self.store.recovered) > repairs:
                # A damaged file was set aside and the watermarks forgotten:
                # read what it held now, not a sync later.
                self._read_windows(now, result, stopping)
        except SyncError as exc:
            result.error = str(exc)
        except (KeyError, TypeError, ValueError) as exc:
            # A page that does not parse must not leave half a window stored as
            # if it were whole; the watermark stays, so the window is read again.
            result.error = f"the API sent a page that could not be read: {exc}"
        if result.ok and not stopping():
            result.names = self._refresh_names(now)
        result.seconds = time.perf_counter() - began

        finished = self._clock()
        self.store.record_sync(
            origin,
            finished_record(
                result,
                now,
                finished,
                previous,
                pages=result.pages,
                buckets=result.buckets,
                rows=result.rows,
                skipped=sum(result.skipped.values()),
                skipped_reasons=dict(result.skipped),
            ),
        )
        log.info(
            "sync %s %s: %d pages, %d buckets, %d rows in %.2f s%s",
            origin,
            "ok" if result.ok else "failed",
            result.pages,
            result.buckets,
            result.rows,
            result.seconds,
            f": {result.error}" if result.error else "",
        )
        return result

    def _refresh_names(self, now: int) -> NamesOutcome | None:
        """Read project and key names when they are due; a failure here never
        fails the sync, whose usage is already stored."""
        if not hasattr(self.source, "read_names"):
            return None
        try:
            return refresh_names(
                self.store, self.source.origin, self.source, now, self._seen_projects
            )
        except Exception as exc:  # names are a label; they must not fail a sync
            log.warning("names: could not be updated: %s", exc)
            return NamesOutcome(read=False, error=str(exc))

    def _read_windows(
        self, now: int, result: SyncResult, stopping: Callable[[], bool]
    ) -> None:
        origin = self.source.origin
        # Every window's watermark is written in one go, once its rows are
        # stored: one write of the state file per sync instead of one per
        # window. A sync that fails or stops still records the windows it
        # finished.
        marks: list[tuple[str, str, str, int, int]] = []
        try:
            for window in plan_windows(self.store, origin, now, self.history_days):
                if stopping():
                    raise SyncError("the sync was stopped before it finished")
                # Counted before reading, so a failed window still shows its pages.
                outcome = WindowResult(window)
                result.windows.append(outcome)
                marks.append(self._read(window, now, outcome))
        finally:
            self.store.set_watermarks(marks)

    def _read(
        self, window: Window, now: int, outcome: WindowResult
    ) -> tuple[str, str, str, int, int]:
        """Read and store one window; return its new watermark, to be set."""
        origin = self.source.origin
        span = (window.start, window.end)
        if window.endpoint == COSTS:
            pages = self.source.cost_pages(*span, COST_DIMENSIONS)
            rows = _collect(
                pages,
                window,
                outcome,
                lambda b, skipped: parse_cost_buckets(b, origin, skipped),
            )
            outcome.rows = self.store.replace_costs(origin, span, rows)
        else:
            endpoint = USAGE_ENDPOINTS[window.endpoint]
            group_by = (
                endpoint.minute_group_by if window.width == "1m" else endpoint.group_by
            )
            pages = self.source.usage_pages(
                window.endpoint, window.width, *span, group_by
            )
            rows = _collect(
                pages,
                window,
                outcome,
                lambda b, skipped: parse_usage_buckets(
                    b, endpoint, window.width, origin, skipped
                ),
            )
            self.pricer.price_rows(rows)
            self._seen_projects.update(
                row["project_id"] for row in rows if row.get("project_id")
            )
            outcome.rows = self.store.replace_usage(
                origin, window.endpoint, window.width, span, rows, now=now
            )
        log.info(
            "read %s %s from %s to %s: %d pages, %d buckets, %d rows%s",
            window.endpoint,
            window.width,
            datetime.fromtimestamp(window.start, UTC).isoformat(),
            datetime.fromtimestamp(window.end, UTC).isoformat(),
            outcome.pages,
            outcome.buckets,
            outcome.rows,
            f", skipped {dict(outcome.skipped)}" if outcome.skipped else "",
        )
        mark = self.store.watermark(origin, window.endpoint, window.width)
        synced_from = (
            window.start if mark is None else min(mark["synced_from"], window.start)
        )
        return (
            origin,
            window.endpoint,
            window.width,
            max(synced_from, window.history_start),
            now,
        )


def open_syncer(settings: Settings, clock: Callable[[], int]) -> Syncer | CallSyncer:
    """A syncer of the active origin into its store: the API with an admin key,
    the spool of recorded calls for ``tracked``, else the demo. The SDK is
    imported only here, when a sync is first needed."""
    source: Source
    if settings.origin == TRACKED_ORIGIN:
        return CallSyncer(Store(settings.store_dir), clock, settings.price_overrides)
    if settings.use_demo:
        from monitor_tui.sources.demo import DemoOrganization

        # The demo's day follows UTC, not the display zone: every window on one
        # data directory must see the same made-up organization.
        source = DemoOrganization(now=clock)
    else:
        from monitor_tui.sources.openai_api import OpenAISource

        source = OpenAISource(settings.admin_key or "", settings.base_url, timeout=20)
    return Syncer(
        Store(settings.store_dir),
        source,
        history_days=settings.history_days,
        clock=clock,
        price_overrides=settings.price_overrides,
    )


class CallSyncer:
    """The sync of the tracked origin: ingest the spool, and record the read as
    a sync so that the data's age and the budget check's staleness mean
    "when the recorded calls were last read"."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], int],
        price_overrides: Mapping[str, PriceOverride] | None = None,
    ) -> None:
        self.store = store
        self._clock = clock
        self.price_overrides = dict(price_overrides or {})

    def sync(self, stopping: Callable[[], bool] = lambda: False) -> SyncResult:
        """Ingest what the user's programs recorded; never raises for a store
        that cannot be written, which becomes the result's error."""
        now = self._clock()
        result = SyncResult(origin=TRACKED_ORIGIN, started_at=now)
        began = time.perf_counter()
        window = WindowResult(Window("calls", "call", now, now, now))
        result.windows.append(window)
        previous = self.store.last_sync(TRACKED_ORIGIN) or {}
        # Imported here: only the tracked origin reads the spool.
        from monitor_tui.spool import ingest

        try:
            reprice_if_changed(self.store, self.price_overrides)
            window.rows = ingest(
                self.store,
                self.store.data_dir,
                now=now,
                price_overrides=self.price_overrides,
            )
        except (StoreError, OSError) as exc:  # the spool keeps the calls
            log.warning("the recorded calls could not be stored: %s", exc)
            result.error = f"the recorded calls could not be stored: {exc}"
        result.seconds = time.perf_counter() - began
        finished = self._clock()
        self.store.record_sync(
            TRACKED_ORIGIN,
            finished_record(result, now, finished, previous, rows=window.rows),
        )
        return result

    def close(self) -> None:
        """Nothing to release; a syncer's interface."""
