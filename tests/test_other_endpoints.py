"""The usage endpoints not counted in tokens (images, speech, transcription, vector
stores, code interpreter, file and web search) and moderations: synced by the
day through the real SDK against the local API server, counted once, reported
as usage volume, exported, and never priced at $0 when there is no price."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import openai
import pytest

from monitor_tui.config import Settings
from monitor_tui.export_cli import add_export_parser, run_export
from monitor_tui.period import billing_period
from monitor_tui.pricing import Pricer
from monitor_tui.report import build_report
from monitor_tui.report_text import format_report
from monitor_tui.sources.demo import DemoOrganization
from monitor_tui.sources.openai_api import OpenAISource
from monitor_tui.store import Store
from monitor_tui.sync import Syncer
from monitor_tui.usage import TOKEN_ENDPOINTS, USAGE_ENDPOINTS
from tests.conftest import ADMIN_KEY, NOW, NOW_EPOCH
from tests.usage_api import busy_org, small_org
from tests.usage_api.queries import ENDPOINTS as SERVED

DAY = NOW_EPOCH - NOW_EPOCH % 86400
"""4 December 2026, 00:00 UTC: the tests run at 15:30 that day."""
DAILY = [name for name, e in USAGE_ENDPOINTS.items() if e.widths == ("1d",)]
WHO = {"project_id": "proj_a", "api_key_id": "key_a", "user_id": "user_a"}


def at(day: int, hour: int) -> int:
    """Epoch seconds of an hour of December 2026, UTC."""
    return int(datetime(2026, 12, day, hour, tzinfo=UTC).timestamp())


def record(endpoint: str, time: int, **fields) -> dict:
    who = {d: v for d, v in WHO.items() if d in SERVED[endpoint].dimensions}
    return {"endpoint": endpoint, "time": time, **who, **fields}


WEB = {"model": "gpt-4o-2024-08-06"}
IMAGE = {"model": "gpt-image-1", "size": "1024x1024", "source": "image.generation"}

SCENARIO = [
    record("images", at(2, 10), images=3, num_model_requests=3, **IMAGE),
    record("images", at(4, 9), images=2, num_model_requests=1, **IMAGE),
    record("audio_speeches", at(3, 8), model="tts-1", characters=12_345,
           num_model_requests=7),
    record("audio_transcriptions", at(1, 5), model="whisper-1", seconds=600,
           num_model_requests=2),
    record("audio_transcriptions", at(4, 1), model="whisper-1", seconds=90,
           num_model_requests=1),
    # The bytes a project keeps in vector stores, as reported for each day.
    record("vector_stores", at(2, 0), usage_bytes=250_000_000),
    record("vector_stores", at(3, 0), usage_bytes=260_000_000),
    record("vector_stores", at(4, 0), usage_bytes=270_000_000),
    record("code_interpreter_sessions", at(3, 12), num_sessions=4),
    record("file_search_calls", at(4, 2), vector_store_id="vs_1", num_requests=11),
    record("web_search_calls", at(2, 14), context_level="medium",
           num_model_requests=5, num_requests=6, **WEB),
    record("web_search_calls", at(3, 14), context_level="low",
           num_model_requests=1, num_requests=1, **WEB),
    record("moderations", at(3, 9), model="omni-moderation-latest",
           input_tokens=1_000, num_model_requests=2),
    record("completions", at(3, 9), model="gpt-realtime", batch=False,
           input_tokens=100, output_tokens=10, num_model_requests=1,
           input_cached_tokens=40, input_audio_tokens=60,
           input_cached_audio_tokens=40),
]  # fmt: skip
"""One of every kind, in the first days of December."""

EXPECTED_VOLUME = [
    # endpoint, model, unit, quantity, requests: summed by hand from SCENARIO.
    ("images", "gpt-image-1", "images", 3 + 2, 3 + 1),
    ("audio_speeches", "tts-1", "characters", 12_345, 7),
    ("audio_transcriptions", "whisper-1", "seconds", 600 + 90, 2 + 1),
    ("vector_stores", None, "byte_days", 250_000_000 + 260_000_000 + 270_000_000,
     None),
    ("code_interpreter_sessions", None, "sessions", 4, None),
    ("file_search_calls", None, "tool_calls", 11, None),
    ("web_search_calls", "gpt-4o-2024-08-06", "tool_calls", 6 + 1, 5 + 1),
]  # fmt: skip


def syncer(store, server, clock=lambda: NOW_EPOCH) -> Syncer:
    source = OpenAISource(ADMIN_KEY, server.base_url, max_retries=0, timeout=5)
    return Syncer(store, source, history_days=3, clock=clock)


def report(store):
    return build_report(store, "openai", billing_period(NOW, 1, ZoneInfo("UTC")), NOW)


def daily_requests(server) -> list[tuple[str, dict]]:
    return [
        (urlsplit(path).path.rsplit("/", 1)[-1], params)
        for path, params, _ in server.requests
        if params.get("bucket_width") == ["1d"]
    ]


def test_a_sync_stores_daily_rows_of_every_endpoint(store, api_server):
    api_server.set_records(SCENARIO)
    result = syncer(store, api_server).sync()
    assert result.ok, result.error

    rows = store.usage_rows("openai", "1d", 0, NOW_EPOCH)
    assert {r["endpoint"] for r in rows} == set(DAILY)
    assert len(DAILY) == 8
    # 1 to 4 December: the history of three days and today, 31 buckets a page.
    usage_reads = [p for n, p in daily_requests(api_server) if n != "costs"]
    assert len(usage_reads) == 8
    for params in usage_reads:
        assert params["start_time"] == [str(DAY - 3 * 86400)]
        assert params["limit"] == ["31"]
    # Nothing of these endpoints is read by the hour or the minute.
    hourly = store.usage_rows("openai", "1h", 0, NOW_EPOCH)
    assert {r["endpoint"] for r in hourly} == {"completions"}
    [images] = [r for r in rows if r["endpoint"] == "images" and r["start"] == DAY]
    assert (images["images"], images["requests"], images["size"]) == (
        2,
        1,
        "1024x1024",
    )
    assert images["input_tokens"] == images["output_tokens"] == 0
    [completion] = hourly
    assert completion["cached_input_audio_tokens"] == 40
    assert completion["input_audio_tokens"] == 60


def test_the_report_carries_every_kind_of_usage_with_hand_counted_quantities(
    store, api_server
):
    api_server.set_records(SCENARIO)
    assert syncer(store, api_server).sync().ok
    data = report(store).to_json()

    volume = [
        (v["endpoint"], v["model"], v["unit"], v["quantity"], v["requests"])
        for v in data["usage_volume"]
    ]
    assert volume == EXPECTED_VOLUME
    # Priced where the price data has a rate for the unit: tts-1 at $15 per
    # million characters, whisper-1 at $0.36 an hour (690 s), web search at $10
    # per thousand calls. The rest is unpriced volume, never $0.
    assert {
        v["endpoint"]: (v["cost_usd"], v["price_state"]) for v in data["usage_volume"]
    } == {
        "images": (None, "unpriced"),
        "audio_speeches": ("0.185175", "priced"),
        "audio_transcriptions": ("0.069000", "priced"),
        "vector_stores": (None, "unpriced"),
        "code_interpreter_sessions": (None, "unpriced"),
        "file_search_calls": (None, "unpriced"),
        "web_search_calls": ("0.070000", "priced"),
    }

    # Moderations are tokens: a model line, free; the volume is not in models.
    models = {m["model"]: m for m in data["models"]}
    assert set(models) == {"gpt-realtime", "omni-moderation-latest"}
    moderation = models["omni-moderation-latest"]
    assert (moderation["input_tokens"], moderation["requests"]) == (1_000, 2)
    assert (moderation["cost_usd"], moderation["price_state"]) == ("0.000000", "free")

    # Unpriced volume is no model, but it makes the spend a lower bound.
    assert data["unpriced_models"] == []
    assert data["spend_is_lower_bound"] is True
    # gpt-realtime: 60 uncached audio x $32 + 40 cached audio x $0.40 + 10 text
    # out x $16 per million = 0.002096; plus the priced volume above.
    assert data["spend_usd"] == "0.326271"  # 0.002096 + 0.185175 + 0.069 + 0.07
    # Requests count every model request: 1 completion, 2 moderations, and the
    # images, speech, transcription and web search requests.
    assert data["requests"] == 1 + 2 + 4 + 7 + 3 + 6
    assert data["input_tokens"] == 100 + 1_000


def test_a_second_sync_rereads_only_the_last_two_utc_days_of_these_endpoints(
    store, api_server
):
    api_server.set_records(SCENARIO)
    assert syncer(store, api_server).sync().ok
    api_server.clear_requests()
    # The API completes 3 December (the previous day) and 2 December, which it
    # would no longer revise; only the first is read again.
    api_server.add_records(
        [
            record("images", at(3, 20), images=10, num_model_requests=10, **IMAGE),
            record("images", at(2, 20), images=100, num_model_requests=100, **IMAGE),
        ]
    )
    later = NOW_EPOCH + 600
    api_server.now = later
    assert syncer(store, api_server, clock=lambda: later).sync().ok

    reads = daily_requests(api_server)
    assert sorted(name for name, _ in reads) == sorted([*DAILY, "costs"])
    for _, params in reads:
        assert params["start_time"] == [str(DAY - 86400)]
    [images] = [v for v in report(store).usage_volume if v.endpoint == "images"]
    assert (images.quantity, images.requests) == (3 + 2 + 10, 3 + 1 + 10)


def test_an_endpoint_is_never_asked_for_a_grouping_it_refuses(store, api_server):
    # The local server, as the API, answers 400 to a refused grouping...
    client = openai.OpenAI(
        admin_api_key=ADMIN_KEY, base_url=api_server.base_url, max_retries=0
    )
    with pytest.raises(openai.BadRequestError):
        client.admin.organization.usage.vector_stores(
            start_time=DAY, group_by=["model"]
        )
    with pytest.raises(openai.BadRequestError):
        client.admin.organization.usage.code_interpreter_sessions(
            start_time=DAY, group_by=["api_key_id"]
        )
    client.close()
    api_server.clear_requests()

    # ...so a sync that passes asked each endpoint only for what it accepts.
    api_server.set_records(SCENARIO)
    result = syncer(store, api_server).sync()
    assert result.ok, result.error
    assert {status for _, _, status in api_server.requests} == {200}
    for name, params in daily_requests(api_server):
        groups = params.get("group_by[]", [])
        assert groups and set(groups) <= set(SERVED[name].dimensions)
    vector = [p for n, p in daily_requests(api_server) if n == "vector_stores"]
    assert vector and all(p["group_by[]"] == ["project_id"] for p in vector)


def test_usage_without_a_price_is_unpriced_never_zero(store, api_server):
    api_server.set_records([record("vector_stores", at(2, 0), usage_bytes=5)])
    assert syncer(store, api_server).sync().ok

    [row] = store.usage_rows("openai", "1d", 0, NOW_EPOCH)
    assert (row["cost_usd"], row["price_state"]) == (None, "unpriced")
    data = report(store).to_json()
    assert data["usage_volume"] == [
        {
            "endpoint": "vector_stores",
            "model": None,
            "unit": "byte_days",
            "quantity": 5,
            "requests": None,
            "cost_usd": None,
            "price_state": "unpriced",
        }
    ]
    assert data["spend_is_lower_bound"] is True
    # Usage without a model is not a model: unpriced_models names none.
    assert data["unpriced_models"] == []
    assert "no price for other usage below" in format_report(report(store))


def test_the_pricer_never_prices_images_or_speech_with_token_prices():
    pricer = Pricer()
    price = pricer.price(
        {"endpoint": "images", "model": "gpt-image-1", "start": DAY, "images": 4}
    )
    assert (price.cost_usd, price.state) == (None, "unpriced")
    # Speech is priced by its characters ($15 per million), never its tokens.
    price = pricer.price(
        {
            "endpoint": "audio_speeches",
            "model": "tts-1",
            "start": DAY,
            "input_tokens": 10**6,
            "characters": 1_000,
        }
    )
    assert (price.cost_usd, price.state) == (Decimal("0.015"), "priced")


def test_the_text_report_lists_other_usage_within_80_columns(store, api_server):
    api_server.set_records(SCENARIO)
    assert syncer(store, api_server).sync().ok
    text = format_report(report(store))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    first = next(i for i, line in enumerate(lines) if line.startswith("Other usage"))
    table = lines[first : lines.index("", first)]
    assert len(table) == 1 + len(EXPECTED_VOLUME)
    assert table[1].split() == [
        "images",
        "gpt-image-1",
        "5",
        "images",
        "4",
        "no",
        "price",
    ]
    assert "780.00M byte_days" in text


def test_exports_carry_the_counts_of_these_endpoints(store, api_server, tmp_path):
    api_server.set_records(SCENARIO)
    assert syncer(store, api_server).sync().ok
    settings = Settings(admin_key=ADMIN_KEY, data_dir=store.data_dir)
    out_file = tmp_path / "by-day.csv"
    parser = argparse.ArgumentParser(prog="monitor-tui")
    add_export_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", "--group-by", "day", "--out", str(out_file)])
    out, err = io.StringIO(), io.StringIO()
    assert run_export(args, settings, lambda: NOW, out, err) == 0, err.getvalue()

    with open(out_file, newline="", encoding="utf-8") as handle:
        days = {row["date"]: row for row in csv.DictReader(handle)}
    assert days["2026-12-02"]["images"] == "3"
    assert days["2026-12-02"]["web_search_calls"] == "6"
    assert days["2026-12-03"]["speech_characters"] == "12345"
    assert days["2026-12-03"]["code_interpreter_sessions"] == "4"
    assert days["2026-12-04"]["file_search_calls"] == "11"
    assert days["2026-12-01"]["transcription_seconds"] == "600"
    assert days["2026-12-04"]["vector_store_byte_days"] == "270000000"
    # Unpriced usage makes the day's cost a lower bound, never a $0 priced day.
    assert days["2026-12-02"]["price_state"] == "unpriced"

    by_model = tmp_path / "by-model.csv"
    args = parser.parse_args(["export", "--group-by", "model", "--out", str(by_model)])
    assert run_export(args, settings, lambda: NOW, out, err) == 0, err.getvalue()
    with open(by_model, newline="", encoding="utf-8") as handle:
        models = {row["model"]: row for row in csv.DictReader(handle)}
    # gpt-realtime's tokens keep their priced line; web searches have their own.
    assert models["gpt-realtime"]["price_state"] == "priced"
    assert models["web_search_calls gpt-4o-2024-08-06"]["web_search_calls"] == "7"
    assert models["vector_stores"]["vector_store_byte_days"] == "780000000"
    assert models["vector_stores"]["cost_usd"] == ""


@pytest.mark.parametrize(
    "records",
    [small_org(NOW_EPOCH), busy_org(NOW_EPOCH, days=2)],
    ids=["small", "busy"],
)
def test_the_local_api_scenarios_use_every_endpoint(store, api_server, records):
    api_server.set_records(records)
    assert syncer(store, api_server).sync().ok
    lines = report(store).usage_volume
    assert {v.endpoint for v in lines} == set(DAILY) - TOKEN_ENDPOINTS
    assert all(v.quantity > 0 for v in lines)


def test_the_demo_organization_uses_every_endpoint_repeatably(tmp_path):
    def volume(seed: int) -> dict:
        store = Store(tmp_path / f"seed-{seed}-{len(list(tmp_path.iterdir()))}")
        demo = DemoOrganization(seed=seed, now=lambda: NOW_EPOCH)
        result = Syncer(store, demo, history_days=7, clock=lambda: NOW_EPOCH).sync()
        assert result.ok, result.error
        period = billing_period(NOW, 1, ZoneInfo("UTC"))
        lines = build_report(store, "demo", period, NOW).usage_volume
        return {(v.endpoint, v.model): v.quantity for v in lines}

    first = volume(7)
    assert {endpoint for endpoint, _ in first} == set(DAILY) - TOKEN_ENDPOINTS
    assert all(quantity > 0 for quantity in first.values())
    assert volume(7) == first
    assert volume(8) != first
    # A few images a day, a vector store of a few hundred MB.
    days = 4 - 1 + 15.5 / 24  # 1 December to now
    assert 2 * days < first[("images", "gpt-image-1")] < 10 * days
    stored = first[("vector_stores", None)] / 4
    assert 100_000_000 < stored < 1_000_000_000
