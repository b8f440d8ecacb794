"""The billing period: a calendar month from local midnight on the start day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor_tui.period import billing_period

UTC_ZONE = ZoneInfo("UTC")


def test_period_is_the_calendar_month_in_utc():
    period = billing_period(datetime(2026, 12, 4, 15, tzinfo=UTC), 1, UTC_ZONE)
    assert period.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert period.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_february_period_is_28_days():
    period = billing_period(datetime(2027, 2, 10, tzinfo=UTC), 1, UTC_ZONE)
    assert period.length == timedelta(days=28)


def test_start_day_before_today_and_after_today():
    now = datetime(2026, 12, 4, 15, tzinfo=UTC)
    after = billing_period(now, 15, UTC_ZONE)
    assert (after.start, after.end) == (
        datetime(2026, 11, 15, tzinfo=UTC),
        datetime(2026, 12, 15, tzinfo=UTC),
    )
    before = billing_period(now, 3, UTC_ZONE)
    assert before.start == datetime(2026, 12, 3, tzinfo=UTC)


def test_period_starts_at_local_midnight_far_from_utc():
    # 2026-12-01 00:00 in Auckland (UTC+13 in summer) is 2026-11-30 11:00 UTC.
    zone = ZoneInfo("Pacific/Auckland")
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    period = billing_period(now, 1, zone)
    assert period.start == datetime(2026, 11, 30, 11, tzinfo=UTC)
    assert period.local(period.start).isoformat() == "2026-12-01T00:00:00+13:00"


def test_a_moment_just_before_local_midnight_belongs_to_the_old_period():
    zone = ZoneInfo("America/Los_Angeles")
    # 2026-11-30 23:59 in Los Angeles (UTC-8) is 2026-12-01 07:59 UTC.
    period = billing_period(datetime(2026, 12, 1, 7, 59, tzinfo=UTC), 1, zone)
    assert period.local(period.start).date().isoformat() == "2026-11-01"


def test_start_day_outside_1_to_28_is_refused():
    with pytest.raises(ValueError, match="1 to 28"):
        billing_period(datetime(2026, 12, 4, tzinfo=UTC), 31, UTC_ZONE)
