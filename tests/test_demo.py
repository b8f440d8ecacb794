"""The demo organization answers like the API, repeatably, with a daily rhythm."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from monitor_tui.sources.demo import DemoOrganization
from monitor_tui.sync import Syncer
from monitor_tui.usage import COMPLETIONS, parse_usage_buckets
from tests.conftest import NOW_EPOCH

DAY = NOW_EPOCH - NOW_EPOCH % 86400


def hourly_rows(demo: DemoOrganization, start: int, end: int) -> list[dict]:
    (page,) = demo.usage_pages("completions", "1h", start, end, COMPLETIONS.group_by)
    return list(parse_usage_buckets(page["data"], COMPLETIONS, "1h", "demo"))


def demo(seed: int = 7) -> DemoOrganization:
    return DemoOrganization(seed=seed, zone=ZoneInfo("UTC"), now=lambda: NOW_EPOCH)


def test_the_same_seed_gives_the_same_rows():
    start = DAY - 86400
    assert hourly_rows(demo(), start, DAY) == hourly_rows(demo(), start, DAY)
    assert hourly_rows(demo(), start, DAY) != hourly_rows(demo(seed=8), start, DAY)


def test_several_models_projects_and_keys_appear():
    rows = hourly_rows(demo(), DAY - 86400, DAY)
    assert len({r["model"] for r in rows}) >= 3
    assert len({r["project_id"] for r in rows}) >= 3
    assert len({r["api_key_id"] for r in rows}) >= 3
    assert any(r["batch"] for r in rows)


def test_late_evening_is_busier_than_early_morning():
    week = [
        hourly_rows(demo(), DAY - d * 86400, DAY - (d - 1) * 86400)
        for d in range(7, 0, -1)
    ]

    def tokens_at(hour: int) -> int:
        return sum(
            r["input_tokens"]
            for day in week
            for r in day
            if (r["start"] // 3600) % 24 == hour
        )

    assert tokens_at(22) > 3 * tokens_at(4)


def test_demo_never_answers_beyond_now_and_the_current_hour_is_partial():
    hour = NOW_EPOCH - NOW_EPOCH % 3600
    (page,) = demo().usage_pages("completions", "1h", hour, hour + 7200, ["model"])
    assert [b["end_time"] for b in page["data"]] == [NOW_EPOCH]


def test_ungrouped_dimensions_are_null_like_the_api():
    hour = NOW_EPOCH - NOW_EPOCH % 3600 - 3600
    (page,) = demo().usage_pages("completions", "1h", hour, hour + 3600, ["model"])
    for result in page["data"][0]["results"]:
        assert result["project_id"] is None and result["api_key_id"] is None


def test_demo_rows_sync_into_the_store_as_demo(store):
    result = Syncer(store, demo(), history_days=2, clock=lambda: NOW_EPOCH).sync()
    assert result.ok and result.rows > 0
    assert store.usage_rows("openai", "1h", 0, NOW_EPOCH) == []
    rows = store.usage_rows("demo", "1h", DAY - 86400, NOW_EPOCH)
    assert rows and all(r["price_state"] == "priced" for r in rows)
