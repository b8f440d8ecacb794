"""The billing period: a calendar month starting at midnight on the budget's start
day in the budget's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BillingPeriod:
    """One billing period, [start, end), as aware UTC datetimes."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    @property
    def length(self) -> timedelta:
        """How long the period is: 28 to 31 days, give or take a DST hour."""
        return self.end - self.start

    def local(self, moment: datetime) -> datetime:
        """Return ``moment`` in the period's zone, for output."""
        return moment.astimezone(self.zone)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _local_midnight(year: int, month: int, day: int, zone: ZoneInfo) -> datetime:
    return datetime(year, month, day, tzinfo=zone).astimezone(UTC)


def billing_period(now: datetime, start_day: int, zone: ZoneInfo) -> BillingPeriod:
    """Return the billing period that contains ``now``.

    Args:
        now: an aware datetime.
        start_day: the day of the month the period starts on, 1 to 28 (so every
            month has it).
        zone: the budget's time zone; the period starts at local midnight.
    """
    if not 1 <= start_day <= 28:
        raise ValueError(f"start day must be 1 to 28, not {start_day}")
    local = now.astimezone(zone)
    year, month = local.year, local.month
    if local < datetime(year, month, start_day, tzinfo=zone):
        year, month = _add_months(year, month, -1)
    next_year, next_month = _add_months(year, month, 1)
    return BillingPeriod(
        start=_local_midnight(year, month, start_day, zone),
        end=_local_midnight(next_year, next_month, start_day, zone),
        zone=zone,
    )
