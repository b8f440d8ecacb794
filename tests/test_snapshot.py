"""The snapshot the Live tab draws: the last 24 hours of spend, the busiest model,
how much of the period and the budget is used, and how fresh the data is."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor_tui.budget import Budget
from monitor_tui.snapshot import build_snapshot
from tests.conftest import NOW, NOW_EPOCH
from tests.factories import HOUR, usage_row

UTC = ZoneInfo("UTC")


def put(store, rows):
    for endpoint in ("completions", "embeddings"):
        store.set_watermark("openai", endpoint, "1h", HOUR - 40 * 86400, NOW_EPOCH)
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        (HOUR - 30 * 3600, HOUR + 3600),
        rows,
        now=NOW_EPOCH,
    )


def snapshot(store, budget=None, now=NOW):
    return build_snapshot(store, "openai", budget, UTC, now)


def test_hourly_spend_covers_24_hours_ending_with_the_current_one(store):
    put(
        store,
        [
            usage_row(HOUR, cost_usd="1.25"),
            usage_row(HOUR, model="gpt-4o-mini-2024-07-18", cost_usd="0.50"),
            usage_row(HOUR - 23 * 3600, cost_usd="2"),
            usage_row(HOUR - 24 * 3600, cost_usd="9"),  # a day ago: not charted
            usage_row(HOUR - 3600, model="unknown", cost_usd=None),  # unpriced
        ],
    )
    hours = snapshot(store).hourly_spend
    assert len(hours) == 24
    assert [h.start.hour for h in hours[-2:]] == [14, 15]
    assert hours[-1].spend_usd == Decimal("1.75")
    assert hours[0].spend_usd == Decimal("2")
    assert hours[-2].spend_usd == Decimal(0)


def test_the_busiest_model_spent_most_or_used_most_tokens_when_unpriced(store):
    put(
        store,
        [
            usage_row(HOUR, model="cheap", input_tokens=9_000_000, cost_usd="1"),
            usage_row(HOUR, model="dear", input_tokens=10, cost_usd="3"),
        ],
    )
    assert snapshot(store).busiest_model.model == "dear"

    put(
        store,
        [
            usage_row(HOUR, model="small", input_tokens=10, cost_usd=None),
            usage_row(HOUR, model="big", input_tokens=900, cost_usd=None),
        ],
    )
    assert snapshot(store).busiest_model.model == "big"


def test_shares_of_the_budget_and_of_the_period(store):
    put(store, [usage_row(HOUR, cost_usd="25")])
    assert snapshot(store).spend_share is None
    assert snapshot(store, Budget(Decimal(100))).spend_share == Decimal(25)

    # 1 December 00:00 UTC starts a 31-day period; 3 d 15:30:20 of it has passed.
    start = snapshot(store).report.period.start
    assert snapshot(store, now=start).period_share == 0
    share = snapshot(store).period_share
    assert round(share, 4) == round(Decimal(315020 * 100) / (31 * 86400), 4)
    end = start + timedelta(days=31)
    assert snapshot(store, now=end - timedelta(microseconds=1)).period_share < 100


def test_the_sync_status_says_why_the_last_sync_failed(store):
    assert snapshot(store).sync.last_ok_at is None
    store.record_sync(
        "openai",
        {"ok": False, "last_ok_at": NOW_EPOCH - 60, "error": "the API answered 500"},
    )
    status = snapshot(store).sync
    assert status.error == "the API answered 500"
    assert status.last_ok_at == NOW - timedelta(seconds=60)

    store.record_sync("openai", {"ok": True, "last_ok_at": NOW_EPOCH, "error": None})
    assert snapshot(store).sync.error is None
