"""When the money is spent: the average spend of each hour of the local day, and
the spend of each local day, in the display zone.

A bucket belongs to the local hour and day that contain its start. Days are
local calendar days, so a day with a daylight-saving change has 23 or 25 hours.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor_tui.analytics.ranges import Span
from monitor_tui.analytics.tally import ZERO, Tally
from monitor_tui.budget import Budget

BUSIEST_HOURS = 3
"""How many of the busiest hours the pattern names."""


@dataclass(frozen=True)
class HourSlot:
    """One hour of the local day, averaged over the range."""

    hour: int
    """The local hour, 0 to 23."""
    spend_usd: Decimal
    """Average spend in this hour on a day of the range."""
    tokens: Decimal
    """Average input and output tokens in this hour on a day of the range."""
    occurrences: int
    """How many times this hour occurred in the range's hourly data."""
    start_minute: int = 0
    """The local minute its buckets start at: hourly buckets start on UTC hours,
    so in a zone half an hour off UTC the 03 slot runs from 03:30 to 04:30."""


@dataclass(frozen=True)
class HourlyPattern:
    """Average spend and tokens for each hour of the local day."""

    hours: tuple[HourSlot, ...]
    """The 24 local hours, 0 first."""
    busiest: tuple[HourSlot, ...]
    """The hours with the highest average spend (then tokens), busiest first;
    hours without usage are never among them."""


def _hour_start(epoch: int) -> int:
    """The first hour boundary at or after ``epoch``."""
    return -(-epoch // 3600) * 3600


def hourly_pattern(
    counts: Tally, span: Span, zone: ZoneInfo, hourly_from: int
) -> HourlyPattern:
    """Average each hour of the local day over the hours of ``span`` that hourly
    data covers (from ``hourly_from`` on); daily buckets cannot say their hour.

    Each sum is divided by the number of times its local hour occurred: twice
    on the day the clocks go back, not at all for the hour they skip.
    """
    start, end = span.epochs
    local_hour: dict[int, int] = {}
    occurrences = [0] * 24
    minutes: list[Counter[int]] = [Counter() for _ in range(24)]
    for moment in range(_hour_start(max(start, hourly_from)), end, 3600):
        local = datetime.fromtimestamp(moment, zone)
        hour = local_hour[moment] = local.hour
        occurrences[hour] += 1
        minutes[hour][local.minute] += 1
    # An hour that never occurred is labelled with the zone's minute at the end.
    usual_minute = datetime.fromtimestamp(end - end % 3600, zone).minute

    spend = [ZERO] * 24
    tokens = [0] * 24
    for (moment, hourly), (bucket_tokens, cost) in counts.buckets.items():
        if not hourly:
            continue
        hour = local_hour.get(moment)
        if hour is None:
            hour = datetime.fromtimestamp(moment, zone).hour
        spend[hour] += cost
        tokens[hour] += bucket_tokens

    slots = tuple(
        HourSlot(
            hour=hour,
            spend_usd=spend[hour] / occurrences[hour] if occurrences[hour] else ZERO,
            tokens=(
                Decimal(tokens[hour]) / occurrences[hour]
                if occurrences[hour]
                else Decimal(0)
            ),
            occurrences=occurrences[hour],
            start_minute=(
                minutes[hour].most_common(1)[0][0] if minutes[hour] else usual_minute
            ),
        )
        for hour in range(24)
    )
    used = [slot for slot in slots if slot.spend_usd or slot.tokens]
    used.sort(key=lambda slot: (-slot.spend_usd, -slot.tokens, slot.hour))
    return HourlyPattern(hours=slots, busiest=tuple(used[:BUSIEST_HOURS]))


@dataclass(frozen=True)
class DaySpend:
    """The spend of one local day."""

    day: date
    hours: int
    """How long the local day is: 24, or 23 or 25 on a daylight-saving change."""
    spend_usd: Decimal
    tokens: int
    """Input and output tokens."""


@dataclass(frozen=True)
class DailyTrend:
    """Spend per local day over a range, and the budget's daily pace."""

    days: tuple[DaySpend, ...]
    """Every local day the range touches, the first and last possibly in part."""
    pace_usd: Decimal | None
    """The budget spread evenly over the days of its billing period; None
    without a budget."""


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC moment local ``day`` begins in ``zone``."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _day_hours(day: date, zone: ZoneInfo) -> int:
    length = local_midnight(day + timedelta(days=1), zone) - local_midnight(day, zone)
    return round(length.total_seconds() / 3600)


def daily_pace(budget: Budget, now: datetime) -> Decimal:
    """The budget divided by the number of days of its period containing ``now``."""
    period = budget.period(now)
    days = (period.local(period.end).date() - period.local(period.start).date()).days
    return budget.amount_usd / days


def daily_trend(
    counts: Tally, span: Span, zone: ZoneInfo, pace_usd: Decimal | None
) -> DailyTrend:
    """Sum ``counts`` per local day of ``span`` in ``zone``."""
    first = span.start.astimezone(zone).date()
    last = (span.end - timedelta(microseconds=1)).astimezone(zone).date()
    if last < first:
        last = first
    spend: dict[date, Decimal] = {}
    tokens: dict[date, int] = {}
    for (moment, _), (bucket_tokens, cost) in counts.buckets.items():
        day = datetime.fromtimestamp(moment, zone).date()
        # A daily bucket starts at midnight UTC: west of UTC that is the evening
        # before the range's first local day, which it is counted in.
        day = min(max(day, first), last)
        spend[day] = spend.get(day, ZERO) + cost
        tokens[day] = tokens.get(day, 0) + bucket_tokens

    days = []
    day = first
    while day <= last:
        days.append(
            DaySpend(
                day=day,
                hours=_day_hours(day, zone),
                spend_usd=spend.get(day, ZERO),
                tokens=tokens.get(day, 0),
            )
        )
        day += timedelta(days=1)
    return DailyTrend(days=tuple(days), pace_usd=pace_usd)
