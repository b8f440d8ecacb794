"""How much history the store has read, so an export tells days that were never
read apart from days without usage, and leaves out a bill that was never read."""

from __future__ import annotations

from dataclasses import dataclass

from monitor_tui.store import Store
from monitor_tui.tracked_calls import TRACKED
from monitor_tui.usage import USAGE_ENDPOINTS, WIDTH_SECONDS

DAY = WIDTH_SECONDS["1d"]


@dataclass(frozen=True)
class Coverage:
    """The stretches of time read into the store, as epoch seconds; None for
    what was never read."""

    usage_from: int | None
    """Where every usage endpoint has been read from, hourly or daily."""
    usage_until: int | None
    """Where the reads of the endpoint read least far end: the last sync."""
    hourly_from: int | None
    """Where every usage endpoint's hourly history begins."""
    hourly_until: int | None
    costs_from: int | None
    """Where the daily costs read begin."""

    @property
    def nothing_read(self) -> bool:
        """True when no usage has been read yet: the store never synced."""
        return self.usage_from is None

    def covers(self, start: int, end: int) -> bool:
        """True when the whole of [start, end) has been read."""
        if self.usage_from is None or self.usage_until is None:
            return False
        return self.usage_from <= start and end <= self.usage_until

    def read_part(self, start: int, end: int) -> tuple[int, int] | None:
        """The part of [start, end) whose usage has been read; None if none."""
        if self.usage_from is None or self.usage_until is None:
            return None
        lo, hi = max(start, self.usage_from), min(end, self.usage_until)
        return (lo, hi) if lo < hi else None

    def hourly_part(self, start: int, end: int) -> tuple[int, int] | None:
        """The part of [start, end) that every endpoint's hourly history covers."""
        if self.hourly_from is None or self.hourly_until is None:
            return None
        lo, hi = max(start, self.hourly_from), min(end, self.hourly_until)
        return (lo, hi) if lo < hi else None

    def costs_cover(self, start: int, end: int) -> bool:
        """True when the costs of every UTC day starting in [start, end), the
        days the bill counts, have been read."""
        if self.costs_from is None:
            return False
        first_day = -(-start // DAY) * DAY
        return first_day >= end or self.costs_from <= first_day


def _span(marks: list[dict | None]) -> tuple[int | None, int | None]:
    read = [mark for mark in marks if mark is not None]
    if not read:
        return None, None
    return (
        max(mark["synced_from"] for mark in read),
        min(mark["synced_until"] for mark in read),
    )


def _tracked_coverage(store: Store) -> Coverage:
    """Recorded calls are stored whole, each at its own second: from the UTC
    day of the first stored call to the last read of the spool everything is
    known, by the hour too."""
    last = (store.last_sync(TRACKED) or {}).get("last_ok_at")
    first = store.first_call_day()
    if last is None:
        return Coverage(None, None, None, None, None)
    since = last if first is None else min(first, last)
    return Coverage(
        usage_from=since,
        usage_until=last,
        hourly_from=since,
        hourly_until=last,
        costs_from=None,
    )


def read_coverage(store: Store, origin: str) -> Coverage:
    """What the store holds of ``origin``, from the sync watermarks.

    An endpoint's daily rows count before its hourly history (as the report
    counts them), so it has been read from the earlier of the two; the export
    as a whole has been read where every endpoint has been.
    """
    if origin == TRACKED:
        return _tracked_coverage(store)
    endpoints = []
    hourly = []
    for name in USAGE_ENDPOINTS:
        marks = [store.watermark(origin, name, width) for width in ("1h", "1d")]
        hourly.append(marks[0])
        read = [mark for mark in marks if mark is not None]
        if read:
            endpoints.append(
                {
                    "synced_from": min(mark["synced_from"] for mark in read),
                    "synced_until": max(mark["synced_until"] for mark in read),
                }
            )
    usage_from, usage_until = _span(endpoints)
    hourly_from, hourly_until = _span(hourly)
    costs = store.watermark(origin, "costs", "1d")
    return Coverage(
        usage_from=usage_from,
        usage_until=usage_until,
        hourly_from=hourly_from,
        hourly_until=hourly_until,
        costs_from=None if costs is None else costs["synced_from"],
    )
