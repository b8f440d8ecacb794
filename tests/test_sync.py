"""Syncing through the real openai SDK against the local API server: every bucket
read once, re-reads replace, windows aligned, failures leave the store intact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from monitor_tui.period import billing_period
from monitor_tui.report import build_report
from monitor_tui.report_text import format_sync
from monitor_tui.sources.openai_api import OpenAISource
from monitor_tui.sync import Syncer
from tests.conftest import ADMIN_KEY, NOW, NOW_EPOCH

HOUR = NOW_EPOCH - NOW_EPOCH % 3600
DAY = NOW_EPOCH - NOW_EPOCH % 86400


def completion(time: int, model: str = "gpt-4o-2024-08-06", **counts) -> dict:
    record = {
        "endpoint": "completions",
        "time": time,
        "model": model,
        "project_id": "proj_a",
        "api_key_id": "key_a",
        "user_id": "user_a",
        "batch": False,
        "service_tier": "default",
        "input_tokens": 0,
        "output_tokens": 0,
        "num_model_requests": 1,
    }
    record.update(counts)
    return record


def syncer(store, server, *, history_days: int = 3, clock=None, key=ADMIN_KEY):
    source = OpenAISource(key, server.base_url, max_retries=0, timeout=5)
    return Syncer(
        store, source, history_days=history_days, clock=clock or (lambda: NOW_EPOCH)
    )


def report(store, now=NOW):
    return build_report(store, "openai", billing_period(now, 1, ZoneInfo("UTC")), now)


def requests_for(server, path_part: str) -> list[dict]:
    return [
        params
        for path, params, _ in server.requests
        if path_part in urlsplit(path).path
    ]


def test_a_sync_across_many_pages_reads_every_bucket_once(store, api_server):
    api_server.page_cap = 5
    hours = 3 * 24 + 15  # three days of history plus today's hours so far
    api_server.set_records(
        [completion(HOUR - h * 3600 + 60, input_tokens=1_000) for h in range(hours)]
    )
    result = syncer(store, api_server).sync()

    assert result.ok, result.error
    (hourly,) = [
        w
        for w in result.windows
        if (w.window.endpoint, w.window.width) == ("completions", "1h")
    ]
    assert hourly.buckets == hours + 1  # the current, partial hour too
    assert hourly.pages == -(-hourly.buckets // 5)
    rows = store.usage_rows("openai", "1h", 0, NOW_EPOCH)
    completions = [r for r in rows if r["endpoint"] == "completions"]
    assert sum(r["input_tokens"] for r in completions) == hours * 1_000


def test_an_hourly_bucket_read_again_holds_the_new_count(store, api_server):
    api_server.set_records([completion(HOUR + 60, input_tokens=100_000)])
    syncer(store, api_server).sync()
    api_server.add_records([completion(HOUR + 600, input_tokens=150_000)])
    later = NOW_EPOCH + 600
    api_server.now = later
    result = syncer(store, api_server, clock=lambda: later).sync()

    assert result.ok, result.error
    hourly = store.usage_rows("openai", "1h", HOUR, HOUR + 3600)
    assert [r["input_tokens"] for r in hourly] == [250_000]
    assert report(store).input_tokens == 250_000


def test_every_request_starts_on_a_bucket_boundary(store, api_server):
    api_server.set_records([completion(HOUR - 7200, input_tokens=5)])
    syncer(store, api_server).sync()
    widths = {"1m": 60, "1h": 3600, "1d": 86400}
    reads = [r for r in api_server.requests if "start_time" in r[1]]
    assert reads
    # Every request succeeds; the names lists take no times.
    assert all(status == 200 for _, _, status in api_server.requests)
    for _, params, _ in reads:
        start = int(params["start_time"][0])
        assert start % widths[params["bucket_width"][0]] == 0


def test_a_second_sync_rereads_only_the_window_the_api_may_revise(store, api_server):
    syncer(store, api_server).sync()
    api_server.clear_requests()
    later = NOW_EPOCH + 300
    api_server.now = later
    syncer(store, api_server, clock=lambda: later).sync()

    starts = {
        (urlsplit(path).path.rsplit("/", 1)[-1], params["bucket_width"][0]): int(
            params["start_time"][0]
        )
        for path, params, _ in api_server.requests
    }
    # The minutes the API could revise when the first sync ended are read again.
    first_minute = NOW_EPOCH - NOW_EPOCH % 60
    assert starts[("completions", "1h")] == HOUR - 3600
    assert starts[("completions", "1m")] == first_minute - 20 * 60
    assert starts[("embeddings", "1h")] == HOUR - 3600
    assert starts[("costs", "1d")] == DAY - 86400
    # The eight endpoints read by the day re-read the current and previous day.
    daily = [name for name, width in starts if width == "1d" and name != "costs"]
    assert len(daily) == 8
    assert {starts[(name, "1d")] for name in daily} == {DAY - 86400}
    assert len(api_server.requests) == 5 + 8


def test_embeddings_are_never_grouped_by_batch_or_service_tier(store, api_server):
    result = syncer(store, api_server).sync()
    assert result.ok, result.error
    for params in requests_for(api_server, "embeddings"):
        groups = set(params.get("group_by[]", []))
        assert groups and not groups & {"batch", "service_tier"}


def test_costs_over_several_pages_with_mixed_amounts_sum_exactly(store, api_server):
    api_server.page_cap = 2
    api_server.amounts_as = "mixed"
    amounts = ["0.1396239", "0.0684288", "0.1209324", "0.548236", "12.50", "0.0042"]
    api_server.set_records(
        [
            {
                "endpoint": "costs",
                "time": DAY - d * 86400 + 100,
                "amount": amount,
                "project_id": "proj_a",
                "line_item": "gpt-4o, input",
            }
            for d, amount in enumerate(amounts)
        ]
    )
    result = syncer(store, api_server, history_days=10).sync()
    assert result.ok, result.error
    (costs,) = [w for w in result.windows if w.window.endpoint == "costs"]
    assert costs.pages >= 3
    stored = sum(Decimal(r["amount"]) for r in store.cost_rows("openai", 0, NOW_EPOCH))
    assert stored == sum(Decimal(a) for a in amounts)
    # Only the days of December count towards the period's billed figure.
    december = sum(Decimal(a) for a in amounts[:4])
    assert report(store).billed_usd == december


def test_a_failed_sync_keeps_the_last_good_data_and_says_why(store, api_server):
    api_server.set_records(
        [completion(HOUR - 3600, input_tokens=1_000_000, output_tokens=0)]
    )
    assert syncer(store, api_server).sync().ok
    api_server.add_fault(status=500, retry_after=None, count=100)
    later = NOW_EPOCH + 60
    result = syncer(store, api_server, clock=lambda: later).sync()

    assert not result.ok
    assert "500" in result.error
    last = store.last_sync("openai")
    assert last["ok"] is False and last["last_ok_at"] == NOW_EPOCH
    current = report(store)
    assert current.input_tokens == 1_000_000
    assert current.data_state == "partial"


def test_a_refused_key_asks_for_an_admin_key_and_never_shows_it(store, api_server):
    wrong = "sk-proj-THISKEYMUSTNOTAPPEAR0123456789"
    result = syncer(store, api_server, key=wrong).sync()
    assert not result.ok
    assert "admin key" in result.error and "api.usage.read" in result.error
    assert wrong not in result.error
    for path in store.data_dir.iterdir():
        assert wrong not in path.read_text(errors="replace")


def test_a_page_cursor_that_repeats_stops_the_sync(store, api_server):
    api_server.page_cap = 1
    api_server.add_fault(
        status=None, repeat_cursor=True, count=5, path_contains="completions"
    )
    result = syncer(store, api_server).sync()
    assert not result.ok
    assert "same page cursor" in result.error
    assert len(api_server.requests) < 10


def test_a_sync_of_an_idle_organization_costs_nothing(store, api_server):
    assert report(store).burn_rate_tokens_per_min is None
    result = syncer(store, api_server).sync()
    assert result.ok and result.rows == 0 and result.buckets > 0
    data = report(store).to_json()
    assert data["spend_usd"] == "0.000000"
    assert data["burn_rate_tokens_per_min"] == 0
    assert data["data_state"] == "empty"


def test_an_unknown_model_beside_priced_ones_is_named(store, api_server):
    api_server.set_records(
        [
            completion(
                HOUR - 3600,
                input_tokens=2_000_000,
                output_tokens=500_000,
                model="gpt-4o-mini-2024-07-18",
            ),
            completion(
                HOUR - 3600, input_tokens=123, output_tokens=45, model="gpt-imaginary-9"
            ),
        ]
    )
    assert syncer(store, api_server).sync().ok
    data = report(store).to_json()
    assert data["unpriced_models"] == ["gpt-imaginary-9"]
    assert data["spend_is_lower_bound"] is True
    assert data["spend_usd"] == "0.600000"


def test_result_objects_of_an_unknown_kind_do_not_change_totals(store, api_server):
    api_server.unknown_result_objects = True
    api_server.null_optional_fields = True
    api_server.set_records([completion(HOUR - 3600, input_tokens=10, output_tokens=5)])
    assert syncer(store, api_server).sync().ok
    assert report(store).input_tokens == 10


@pytest.mark.parametrize("status", [429, 503])
def test_sdk_retries_honour_retry_after_and_then_succeed(store, api_server, status):
    api_server.add_fault(status=status, retry_after=0, count=1)
    source = OpenAISource(ADMIN_KEY, api_server.base_url, max_retries=2, timeout=5)
    result = Syncer(store, source, history_days=1, clock=lambda: NOW_EPOCH).sync()
    assert result.ok, result.error
    assert [s for _, _, s in api_server.requests].count(status) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"x": 1},
        [1, 2, 3],
        {"object": "page", "data": None, "has_more": False, "next_page": None},
        {
            "object": "page",
            "data": [
                {"object": "bucket", "start_time": 0, "end_time": 60, "results": ["x"]}
            ],
            "has_more": False,
            "next_page": None,
        },
        {"object": "page", "data": [], "has_more": True, "next_page": None},
        {
            "object": "page",
            "data": [
                {
                    "object": "bucket",
                    "start_time": HOUR,
                    "end_time": HOUR + 3600,
                    "results": [],
                }
            ],
            "has_more": False,
            "next_page": None,
        },
    ],
    ids=[
        "no-data",
        "not-an-object",
        "null-data",
        "bad-result",
        "no-cursor",
        "missing-buckets",
    ],
)
def test_a_malformed_page_fails_the_sync_and_keeps_the_window_for_next_time(
    store, api_server, body
):
    api_server.set_records([completion(HOUR - 7200, input_tokens=1_000)])
    api_server.add_fault(
        status=200, retry_after=None, count=1, body=body, path_contains="completions"
    )
    failed = syncer(store, api_server).sync()
    assert not failed.ok
    assert store.watermark("openai", "completions", "1h") is None

    again = syncer(store, api_server).sync()
    assert again.ok, again.error
    assert report(store).input_tokens == 1_000


def test_what_was_still_revisable_at_the_last_sync_is_read_again(store, api_server):
    # A cron sync once a day at 00:05 UTC: on Dec 3 it reads Dec 2 as "the
    # previous day"; the API then completes Dec 2. The Dec 4 sync must read
    # Dec 2 again, although it is no longer the previous day.
    dec_2, dec_3, dec_4 = DAY - 2 * 86400, DAY - 86400, DAY
    api_server.set_records(
        [
            {
                "endpoint": "costs",
                "time": dec_2 + 100,
                "amount": "10",
                "project_id": "proj_a",
                "line_item": "gpt-4o, input",
            },
        ]
    )
    first = dec_3 + 300
    api_server.now = first
    assert syncer(store, api_server, clock=lambda: first).sync().ok

    api_server.add_records(
        [
            {
                "endpoint": "costs",
                "time": dec_2 + 200,
                "amount": "90",
                "project_id": "proj_a",
                "line_item": "gpt-4o, output",
            },
            completion(dec_3 - 60, input_tokens=1_000_000),
        ]
    )
    second = dec_4 + 300
    api_server.now = second
    assert syncer(store, api_server, clock=lambda: second).sync().ok

    assert sum(Decimal(r["amount"]) for r in store.cost_rows("openai", 0, dec_4)) == 100
    hourly = store.usage_rows("openai", "1h", dec_3 - 3600, dec_3)
    assert [r["input_tokens"] for r in hourly] == [1_000_000]


def test_a_reply_slower_than_the_timeout_fails_the_sync_with_a_message(
    store, api_server
):
    api_server.add_fault(status=None, delay=1.5, count=1)
    source = OpenAISource(ADMIN_KEY, api_server.base_url, max_retries=0, timeout=0.3)
    result = Syncer(store, source, history_days=35, clock=lambda: NOW_EPOCH).sync()
    assert not result.ok
    assert "timed out" in result.error
    assert store.watermark("openai", "completions", "1h") is None


def test_a_result_that_cannot_be_read_is_skipped_flagged_and_the_rest_kept(
    store, api_server
):
    api_server.set_records(
        [
            completion(HOUR - 3600, input_tokens=10, output_tokens=5),
            completion(HOUR - 5 * 3600, input_tokens=-3, output_tokens=5),
        ]
    )
    result = syncer(store, api_server).sync()
    assert result.ok, result.error
    assert result.skipped == {
        "input_tokens is negative, fractional or implausibly large": 1
    }
    data = report(store).to_json()
    assert data["input_tokens"] == 10
    assert data["skipped_results"] == 1
    assert "skipped 1 results" in format_sync(result)


def test_costs_in_another_currency_are_named_not_added(store, api_server):
    api_server.set_records(
        [
            {"endpoint": "costs", "time": HOUR - 86400, "amount": 2.5},
            {"endpoint": "costs", "time": HOUR - 86400, "amount": 9, "currency": "eur"},
        ]
    )
    assert syncer(store, api_server).sync().ok
    data = report(store).to_json()
    assert data["billed_usd"] == "2.500000"
    assert data["billed_other_currencies"] == ["eur"]


def test_hours_offline_are_filled_in_without_a_gap_or_a_double_count(store, api_server):
    # One record every 20 minutes from 2 hours before the first sync to 6 hours
    # after it; the network is down for the 5 hours between the syncs.
    records = [
        completion(NOW_EPOCH - 7200 + i * 1200, input_tokens=1000, output_tokens=10)
        for i in range(24)
    ]
    api_server.set_records(records)
    assert syncer(store, api_server).sync().ok

    for hours in range(1, 6):
        api_server.add_fault(status=503, retry_after=None, count=100)
        offline = NOW_EPOCH + hours * 3600
        api_server.now = offline
        assert not syncer(store, api_server, clock=lambda t=offline: t).sync().ok
        api_server.clear_faults()

    back = NOW_EPOCH + 6 * 3600
    api_server.now = back
    assert syncer(store, api_server, clock=lambda: back).sync().ok
    later = datetime.fromtimestamp(back, UTC)
    seen = [r for r in records if r["time"] < back]
    assert report(store, later).input_tokens == 1000 * len(seen)
    assert report(store, later).requests == len(seen)
