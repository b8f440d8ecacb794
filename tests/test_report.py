"""The report: totals counted once, burn rate, forecast and the data state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor_tui.period import billing_period
from monitor_tui.report import build_report
from tests.conftest import NOW, NOW_EPOCH
from tests.factories import usage_row

UTC_ZONE = ZoneInfo("UTC")
PERIOD = billing_period(NOW, 1, UTC_ZONE)
HOUR = NOW_EPOCH - NOW_EPOCH % 3600
MINUTE = NOW_EPOCH - NOW_EPOCH % 60
PERIOD_START = int(PERIOD.start.timestamp())


def synced(store, *, minutes: bool = True, ok: bool = True) -> None:
    """Mark hourly (and minute) history as read, as a finished sync does."""
    for endpoint in ("completions", "embeddings"):
        store.set_watermark("openai", endpoint, "1h", PERIOD_START - 86400, NOW_EPOCH)
        if minutes:
            store.set_watermark("openai", endpoint, "1m", MINUTE - 3 * 3600, NOW_EPOCH)
    store.record_sync(
        "openai", {"ok": ok, "last_ok_at": NOW_EPOCH if ok else None, "error": None}
    )


def put(store, width, rows, start, end):
    store.replace_usage(
        "openai", "completions", width, (start, end), rows, now=NOW_EPOCH
    )


def report(store, budget=None):
    return build_report(store, "openai", PERIOD, NOW, budget)


def test_burn_rate_is_tokens_per_minute_over_the_last_hour(store):
    synced(store)
    rows = [
        usage_row(
            MINUTE - 50 * 60, width="1m", input_tokens=4_000, output_tokens=1_000
        ),
        usage_row(MINUTE - 30 * 60, width="1m", input_tokens=1_000),
        usage_row(MINUTE - 60, width="1m", input_tokens=2_000, output_tokens=1_000),
    ]
    put(store, "1m", rows, MINUTE - 3600, MINUTE)
    # (5,000 + 1,000 + 3,000) tokens / 60 minutes.
    assert report(store).burn_rate_tokens_per_min == Decimal(150)


def test_burn_rate_ignores_the_current_minute_and_older_than_an_hour(store):
    synced(store)
    rows = [
        usage_row(MINUTE, width="1m", input_tokens=60_000),
        usage_row(MINUTE - 3600 - 60, width="1m", input_tokens=60_000),
        usage_row(MINUTE - 3600, width="1m", input_tokens=600),
    ]
    put(store, "1m", rows, MINUTE - 3 * 3600, MINUTE + 60)
    assert report(store).burn_rate_tokens_per_min == Decimal(10)


def test_burn_rate_is_null_before_any_minute_data_and_zero_after_an_empty_read(store):
    synced(store, minutes=False)
    assert report(store).burn_rate_tokens_per_min is None
    assert report(store).to_json()["burn_rate_tokens_per_min"] is None
    synced(store, minutes=True)
    assert report(store).burn_rate_tokens_per_min == 0
    assert report(store).to_json()["burn_rate_usd_per_hour"] == "0.000000"


def test_minute_and_hourly_rows_of_the_same_hour_are_counted_once(store):
    synced(store)
    put(
        store,
        "1h",
        [usage_row(HOUR, input_tokens=6_000, cost_usd="0.6")],
        HOUR,
        HOUR + 3600,
    )
    minutes = [
        usage_row(HOUR + 60 * i, width="1m", input_tokens=100, cost_usd="0.01")
        for i in range(30)
    ]
    put(store, "1m", minutes, HOUR, MINUTE + 60)
    result = report(store)
    assert result.input_tokens == 6_000
    assert result.spend_usd == Decimal("0.6")


def test_daily_rows_count_only_before_the_hourly_history(store):
    dec_1, dec_2 = PERIOD_START, PERIOD_START + 86400
    # Hourly history starts on Dec 2; Dec 1 comes from a daily row, and the
    # daily row of Dec 2 must not be added to Dec 2's hourly rows.
    store.set_watermark("openai", "completions", "1h", dec_2, NOW_EPOCH)
    put(
        store,
        "1h",
        [usage_row(dec_2 + 3600, input_tokens=10, cost_usd="1")],
        dec_2,
        NOW_EPOCH,
    )
    put(
        store,
        "1d",
        [
            usage_row(dec_1, width="1d", input_tokens=100, cost_usd="2"),
            usage_row(dec_2, width="1d", input_tokens=1000, cost_usd="9"),
        ],
        dec_1,
        dec_2 + 86400,
    )
    result = report(store)
    assert result.input_tokens == 110
    assert result.spend_usd == Decimal(3)


def test_unknown_model_makes_the_spend_a_lower_bound(store):
    synced(store)
    put(
        store,
        "1h",
        [
            usage_row(
                HOUR, model="gpt-4o-2024-08-06", input_tokens=10, cost_usd="2.75"
            ),
            usage_row(
                HOUR,
                model="gpt-imaginary-9",
                input_tokens=99,
                cost_usd=None,
                price_state="unpriced",
            ),
        ],
        HOUR,
        HOUR + 3600,
    )
    data = report(store).to_json()
    assert data["unpriced_models"] == ["gpt-imaginary-9"]
    assert data["spend_is_lower_bound"] is True
    assert data["spend_usd"] == "2.750000"
    unknown = next(m for m in data["models"] if m["model"] == "gpt-imaginary-9")
    assert unknown["cost_usd"] is None
    assert (unknown["priced"], unknown["price_state"]) == (False, "unpriced")


def test_a_period_without_usage_is_empty_and_costs_nothing(store):
    synced(store)
    data = report(store).to_json()
    assert data["spend_usd"] == "0.000000"
    assert data["data_state"] == "empty"
    assert data["models"] == []
    assert data["forecast_usd"] == "0.000000"


def test_an_unfinished_last_sync_makes_the_data_partial(store):
    synced(store, ok=False)
    put(store, "1h", [usage_row(HOUR, input_tokens=1, cost_usd="1")], HOUR, HOUR + 1)
    assert report(store).data_state == "partial"


def test_forecast_and_budget_crossing_follow_the_period_average(store):
    # December 2026 has 31 days; at 2026-12-04 15:30:20 UTC, 3.646 days have
    # passed. $36.46 so far runs at about $10/day: $310 by the end, and a $100
    # budget is reached when 100/36.46 of the elapsed time has passed.
    synced(store)
    put(
        store,
        "1h",
        [usage_row(HOUR, input_tokens=1, cost_usd="36.46")],
        HOUR,
        HOUR + 3600,
    )
    elapsed = NOW_EPOCH - PERIOD_START
    result = report(store, Decimal(100))
    expected_forecast = Decimal("36.46") * (31 * 86400) / elapsed
    assert result.forecast_usd == expected_forecast
    assert abs(result.forecast_usd - Decimal(310)) < Decimal("0.1")
    crossing = PERIOD_START + 100 / 36.46 * elapsed
    assert abs(result.budget_crossing_at.timestamp() - crossing) < 1
    assert result.budget_crossing_at.astimezone(UTC).date().isoformat() == "2026-12-11"


def test_budget_already_spent_is_crossed_now_and_none_when_it_holds(store):
    synced(store)
    put(store, "1h", [usage_row(HOUR, input_tokens=1, cost_usd="50")], HOUR, HOUR + 1)
    assert report(store, Decimal(40)).budget_crossing_at == NOW
    assert report(store, Decimal(100_000)).budget_crossing_at is None


def test_recent_forecast_adds_the_last_24_hours_rate_over_the_time_left(store):
    # Steady spend of $1 an hour: 23 whole hours and the 30m20s of the current
    # one, read by hourly buckets, give exactly $1/hour, whatever the minute.
    synced(store)
    rows = [
        usage_row(HOUR - h * 3600, input_tokens=1, cost_usd="1") for h in range(1, 24)
    ]
    rows.append(usage_row(HOUR, input_tokens=1, cost_usd=str(Decimal(1820) / 3600)))
    put(store, "1h", rows, HOUR - 23 * 3600, HOUR + 3600)
    left = int(PERIOD.end.timestamp()) - NOW_EPOCH
    result = report(store)
    expected = result.spend_usd + Decimal(left) / 3600
    # 1820/3600 of a dollar has no finite decimal form: equal to 1e-12.
    assert abs(result.forecast_recent_usd - expected) < Decimal("1e-12")


def test_recent_rate_is_taken_from_the_hours_that_were_read(store):
    # The last sync was two days ago: the 24 hours before it set the rate,
    # rather than two days of unread hours counting as no spend.
    two_days_ago = NOW_EPOCH - 2 * 86400
    for endpoint in ("completions", "embeddings"):
        store.set_watermark(
            "openai", endpoint, "1h", PERIOD_START - 86400, two_days_ago
        )
    store.record_sync("openai", {"ok": True, "last_ok_at": two_days_ago})
    then = two_days_ago - two_days_ago % 3600
    rows = [
        usage_row(then - h * 3600, input_tokens=1, cost_usd="2") for h in range(1, 24)
    ]
    put(store, "1h", rows, then - 23 * 3600, then)
    left = int(PERIOD.end.timestamp()) - NOW_EPOCH
    spent_in_read_window = Decimal(46)
    rate = spent_in_read_window / (two_days_ago - (then - 23 * 3600))
    assert report(store).forecast_recent_usd == Decimal(46) + rate * left


def test_json_times_carry_the_period_zones_offset(store):
    synced(store)
    period = billing_period(NOW, 1, ZoneInfo("America/New_York"))
    data = build_report(store, "openai", period, NOW).to_json()
    assert data["period_start"] == "2026-12-01T00:00:00-05:00"
    assert data["timezone"] == "America/New_York"
    assert (
        data["last_sync_at"] == datetime(2026, 12, 4, 10, 30, 20).isoformat() + "-05:00"
    )


def test_a_past_period_with_usage_is_complete(store):
    synced(store)
    store.set_watermark(
        "openai", "completions", "1h", PERIOD_START - 90 * 86400, NOW_EPOCH
    )
    november = billing_period(datetime(2026, 11, 15, tzinfo=UTC), 1, UTC_ZONE)
    start = int(november.start.timestamp())
    put(
        store,
        "1h",
        [usage_row(start + 3600, input_tokens=5, cost_usd="1")],
        start,
        start + 7200,
    )
    assert build_report(store, "openai", november, NOW).data_state == "complete"


def test_burn_rate_is_unknown_when_the_last_minute_read_is_old(store):
    synced(store)
    later = NOW + timedelta(hours=2)
    result = build_report(store, "openai", PERIOD, later)
    assert result.burn_rate_tokens_per_min is None
    assert result.to_json()["burn_rate_usd_per_hour"] is None


def test_forecast_is_sane_at_the_first_and_the_last_instant_of_the_period(store):
    synced(store)
    first = build_report(store, "openai", PERIOD, PERIOD.start, Decimal(100))
    assert first.forecast_usd == 0, "nothing elapsed: no division by zero"
    assert first.budget_crossing_at is None
    assert first.forecast_recent_usd == 0

    put(store, "1h", [usage_row(HOUR, input_tokens=1, cost_usd="99")], HOUR, HOUR + 1)
    last_instant = PERIOD.end - timedelta(seconds=1)
    last = build_report(store, "openai", PERIOD, last_instant, Decimal(100))
    # 99 dollars over 2,678,399 of the period's 2,678,400 seconds.
    assert last.forecast_usd == Decimal(99) * 2_678_400 / 2_678_399
    assert Decimal(99) <= last.forecast_recent_usd < Decimal("99.01")
    assert last.budget_crossing_at is None, "$100 is not reached in one second"
