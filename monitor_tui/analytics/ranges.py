"""The spans of time the Analytics tab describes, and the span each is compared with.

Rolling ranges (the last 24 hours, 7, 30 or 90 days) end now and are compared with
as long a span just before them. The billing period so far, and a custom range of
local dates, are compared with the same stretch of the block before them: the first
12 days of this period against the first 12 days of the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor_tui.budget import Budget
from monitor_tui.period import BillingPeriod, billing_period

ROLLING_DAYS = {"24h": 1, "7d": 7, "30d": 30, "90d": 90}
"""The rolling ranges, by kind, and how many days back from now each reaches."""
RANGE_KINDS = (*ROLLING_DAYS, "period", "custom")
"""Every kind of range, in the order the tab offers them."""

MAX_CUSTOM_DAYS = 366
"""The longest custom range: a year of local days."""


class RangeError(ValueError):
    """A range cannot be made from what was given; the message says why."""


@dataclass(frozen=True)
class Span:
    """A stretch of time, [start, end), as aware UTC datetimes."""

    start: datetime
    end: datetime

    @property
    def epochs(self) -> tuple[int, int]:
        """The span as epoch seconds, as the store takes it."""
        return int(self.start.timestamp()), int(self.end.timestamp())


@dataclass(frozen=True)
class Range(Span):
    """A range the tab describes, with the span it is compared with."""

    kind: str
    """One of ``RANGE_KINDS``."""
    label: str
    """What the range is, for a person: ``last 7 days``."""
    previous: Span
    """The span before it that its figures are compared with."""


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` as a naive wall-clock time in ``zone``."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _from_wall(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone).astimezone(UTC)


def same_stretch_before(
    block_start: datetime, start: datetime, end: datetime, zone: ZoneInfo
) -> Span:
    """The span that begins at ``block_start`` and lasts as long on the wall clock
    of ``zone`` as [start, end) does, never reaching past ``start``.

    Wall-clock lengths make "the first 3 days and 15 hours" mean the same hours of
    the day in both blocks, across a daylight-saving change.
    """
    elapsed = _wall(end, zone) - _wall(start, zone)
    previous_end = _from_wall(_wall(block_start, zone) + elapsed, zone)
    return Span(block_start, min(previous_end, start))


def rolling_range(kind: str, now: datetime) -> Range:
    """The last 24 hours, 7, 30 or 90 days up to ``now``, against as long before.

    Raises:
        RangeError: ``kind`` is not one of ``ROLLING_DAYS``.
    """
    if kind not in ROLLING_DAYS:
        raise RangeError(f"{kind!r} is not a rolling range")
    now = now.astimezone(UTC)
    length = timedelta(days=ROLLING_DAYS[kind])
    label = "last 24 hours" if kind == "24h" else f"last {length.days} days"
    start = now - length
    return Range(start, now, kind, label, Span(start - length, start))


def period_of(budget: Budget | None, zone: ZoneInfo, now: datetime) -> BillingPeriod:
    """The billing period containing ``now``: the budget's, or without a budget
    the calendar month in ``zone``, as the Live tab has it."""
    if budget is None:
        return billing_period(now, 1, zone)
    return budget.period(now)


def period_range(period: BillingPeriod, now: datetime) -> Range:
    """The billing period so far, against the same stretch of the period before."""
    end = min(now.astimezone(UTC), period.end)
    start_day = period.local(period.start).day
    before = billing_period(period.start - timedelta(seconds=1), start_day, period.zone)
    return Range(
        period.start,
        end,
        "period",
        "this billing period",
        same_stretch_before(before.start, period.start, end, period.zone),
    )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def custom_range(first: date, last: date, zone: ZoneInfo, now: datetime) -> Range:
    """The local days ``first`` to ``last`` (both included) in ``zone``, up to
    ``now``, against the same stretch of as many days just before.

    Raises:
        RangeError: the dates are in the wrong order, the range starts in the
            future, or it is longer than ``MAX_CUSTOM_DAYS``.
    """
    if last < first:
        raise RangeError(f"{last} is before {first}; give the earlier date first")
    days = (last - first).days + 1
    if days > MAX_CUSTOM_DAYS:
        raise RangeError(f"{days} days is too long; at most {MAX_CUSTOM_DAYS}")
    start = _midnight(first, zone)
    if start > now:
        raise RangeError(f"{first} has not begun yet in {zone.key}")
    end = min(_midnight(last + timedelta(days=1), zone), now.astimezone(UTC))
    block_start = _midnight(first - timedelta(days=days), zone)
    label = f"{first:%d %b %Y}"
    if days > 1:
        label += f" → {last:%d %b %Y}"
    return Range(
        start,
        end,
        "custom",
        label,
        same_stretch_before(block_start, start, end, zone),
    )


def parse_dates(text: str) -> tuple[date, date]:
    """Read ``YYYY-MM-DD YYYY-MM-DD`` (or one date, for a single day).

    Raises:
        RangeError: the text is not one or two ISO dates.
    """
    parts = text.replace(",", " ").split()
    if len(parts) not in (1, 2):
        raise RangeError("give two dates: YYYY-MM-DD YYYY-MM-DD")
    try:
        dates = [date.fromisoformat(part) for part in parts]
    except ValueError:
        raise RangeError(
            f"{text.strip()!r} is not a date range; give YYYY-MM-DD YYYY-MM-DD"
        ) from None
    return dates[0], dates[-1]


def make_range(
    kind: str,
    now: datetime,
    *,
    period: BillingPeriod,
    zone: ZoneInfo,
    dates: tuple[date, date] | None = None,
) -> Range:
    """The range of ``kind`` as it stands at ``now``.

    Args:
        kind: one of ``RANGE_KINDS``.
        now: the current moment.
        period: the billing period containing ``now`` (see ``period_of``).
        zone: the display zone, whose midnights bound a custom range.
        dates: the first and last local day of a custom range.

    Raises:
        RangeError: an unknown kind, or a custom range without usable dates.
    """
    if kind == "period":
        return period_range(period, now)
    if kind == "custom":
        if dates is None:
            raise RangeError("a custom range needs its dates")
        return custom_range(*dates, zone, now)
    return rolling_range(kind, now)
