"""The tracker: a real openai client, wrapped, calling a local API on 127.0.0.1,
records each call's usage and cost, and its caller sees exactly what it would see
untracked."""

from __future__ import annotations

import gc
import importlib
import itertools
import logging
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openai
import pytest

from monitor_tui.spool import ingest, pending_files
from monitor_tui.store import Store
from monitor_tui.tracked_calls import (
    TrackedCall,
    recent_calls,
    tracked_rows,
    tracked_totals,
)
from monitor_tui.tracker import track
from tests.chat_api import ChatApiServer
from tests.conftest import NOW_EPOCH

MESSAGES = [{"role": "user", "content": "Say hello."}]

# List prices per million tokens (input, cached input, output), as genai-prices
# 0.2.3 has them for December 2026.
GPT_4O_MINI_CALL = (
    Decimal(1000) * Decimal("0.15")  # 1200 input tokens, 200 of them cached
    + Decimal(200) * Decimal("0.075")
    + Decimal(300) * Decimal("0.60")
) / 1_000_000
GPT_5_MINI_CALL = (
    Decimal(1000) * Decimal("0.25")  # 2000 input tokens, 1000 of them cached
    + Decimal(1000) * Decimal("0.025")
    + Decimal(500) * Decimal("2.00")  # reasoning tokens are part of the output
) / 1_000_000
EMBEDDING_CALL = Decimal(42) * Decimal("0.02") / 1_000_000


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls are made a quarter of a second apart from the tests' fixed moment."""
    ticks = itertools.count()
    tracker = importlib.import_module("monitor_tui.tracker")
    monkeypatch.setattr(tracker, "_clock", lambda: NOW_EPOCH + next(ticks) / 4)


@pytest.fixture
def chat_api() -> Iterator[ChatApiServer]:
    with ChatApiServer() as server:
        yield server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def client_for(server: ChatApiServer, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.base_url, api_key="sk-test", max_retries=0, **kwargs
    )


def calls_after_ingest(store: Store, data_dir: Path) -> list[TrackedCall]:
    """Every tracked call in the store after ingesting, the oldest first."""
    ingest(store, data_dir, now=NOW_EPOCH)
    return list(reversed(recent_calls(store, 1000, now=NOW_EPOCH)))


def test_a_chat_completion_is_recorded_with_its_usage_and_cost(
    chat_api, data_dir, store
):
    client = track(client_for(chat_api), label="checkout", data_dir=data_dir)

    answer = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert answer.choices[0].message.content == "Hello there."
    [call] = calls_after_ingest(store, data_dir)
    assert call.api == "chat.completions"
    assert call.model == "gpt-4o-mini-2024-07-18"  # as returned, not as asked
    assert call.at.timestamp() == NOW_EPOCH
    assert (call.input_tokens, call.cached_input_tokens) == (1200, 200)
    assert (call.output_tokens, call.reasoning_tokens) == (300, 0)
    assert call.service_tier == "default"
    assert call.label == "checkout"
    assert call.latency_ms is not None and call.latency_ms >= 0
    assert call.cost_usd == GPT_4O_MINI_CALL
    assert call.price_state == "priced"


def test_a_streamed_chat_completion_is_recorded_and_its_chunks_are_unchanged(
    chat_api, data_dir, store
):
    def chunks(client: openai.OpenAI) -> list[dict]:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        # The ids count the server's requests; everything else must match.
        return [{**c.to_dict(), "id": None} for c in stream]

    untracked = chunks(client_for(chat_api))
    tracked = chunks(track(client_for(chat_api), data_dir=data_dir))

    assert tracked == untracked
    assert all("usage" not in chunk for chunk in tracked)
    # The tracker asked the API for usage on the caller's behalf.
    assert chat_api.requests[1][1]["stream_options"] == {"include_usage": True}
    assert "stream_options" not in chat_api.requests[0][1]
    [call] = calls_after_ingest(store, data_dir)
    assert (call.input_tokens, call.output_tokens) == (1200, 300)
    assert call.cost_usd == GPT_4O_MINI_CALL


def test_a_stream_that_asked_for_usage_still_gets_its_usage_chunk(
    chat_api, data_dir, store
):
    client = track(client_for(chat_api), data_dir=data_dir)
    asked = {"include_usage": True}

    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options=asked
    )
    chunks = list(stream)

    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == 1200
    assert asked == {"include_usage": True}
    assert len(calls_after_ingest(store, data_dir)) == 1


def test_a_stream_read_with_next_is_recorded_too(chat_api, data_dir, store):
    client = track(client_for(chat_api), data_dir=data_dir)

    with client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as stream:
        pieces = []
        while True:
            try:
                pieces.append(next(stream))
            except StopIteration:
                break

    assert len(pieces) == 5  # the role, three pieces of text, the finish
    assert len(calls_after_ingest(store, data_dir)) == 1


def test_a_response_is_recorded_with_cached_and_reasoning_tokens(
    chat_api, data_dir, store
):
    client = track(client_for(chat_api), data_dir=data_dir)

    answer = client.responses.create(model="gpt-5-mini", input="Say hello.")

    assert answer.output_text == "Hello there."
    [call] = calls_after_ingest(store, data_dir)
    assert call.api == "responses"
    assert call.model == "gpt-5-mini-2025-08-07"
    assert (call.input_tokens, call.cached_input_tokens) == (2000, 1000)
    assert (call.output_tokens, call.reasoning_tokens) == (500, 128)
    assert call.cost_usd == GPT_5_MINI_CALL


def test_a_streamed_response_is_recorded_from_its_completed_event(
    chat_api, data_dir, store
):
    def events(client: openai.OpenAI) -> list[str]:
        stream = client.responses.create(
            model="gpt-5-mini", input="Say hello.", stream=True
        )
        return [event.type for event in stream]

    untracked = events(client_for(chat_api))
    tracked = events(track(client_for(chat_api), data_dir=data_dir))

    assert tracked == untracked
    assert tracked[-1] == "response.completed"
    [call] = calls_after_ingest(store, data_dir)
    assert (call.output_tokens, call.reasoning_tokens) == (500, 128)
    assert call.cost_usd == GPT_5_MINI_CALL


def _first_chunks(client: openai.OpenAI, *, close: bool) -> list[dict]:
    """The caller breaks out of a chat completion stream after two chunks, before
    the text ends (and the usage comes); it closes the stream, or drops it."""
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    seen = []
    for chunk in stream:
        seen.append({**chunk.to_dict(), "id": None})
        if len(seen) == 2:
            break
    if close:
        stream.close()
    del stream
    gc.collect()  # what is left of the stream is collected, closed or not
    return seen


@pytest.mark.parametrize("close", [True, False], ids=["closed", "dropped"])
def test_a_stream_broken_out_of_early_is_recorded_once_without_its_tokens(
    chat_api, data_dir, store, close
):
    untracked = _first_chunks(client_for(chat_api), close=close)
    client = track(client_for(chat_api), label="search", data_dir=data_dir)
    tracked = _first_chunks(client, close=close)

    assert tracked == untracked
    assert len(tracked) == 2
    [call] = calls_after_ingest(store, data_dir)
    assert call.model == "gpt-4o-mini-2024-07-18"
    assert call.label == "search"
    assert call.latency_ms is not None
    # Billed for what it generated, which the stream never said: unknown, so
    # unpriced (the spend is then a lower bound), never a guess.
    assert call.usage_known is False
    assert (call.input_tokens, call.output_tokens) == (0, 0)
    assert (call.cost_usd, call.price_state) == (None, "unpriced")
    rows = tracked_rows(store, 0, 2**40)
    assert tracked_totals(store, 0, 2**40).unpriced_models == (
        "gpt-4o-mini-2024-07-18",
    )
    assert len(rows) == 1
    # The reason is kept with the row from the start, as for every unpriced row.
    assert "stopped before its usage came" in rows[0]["price_source"]


def test_a_stream_left_in_a_with_block_early_is_recorded_at_once(
    chat_api, data_dir, store
):
    client = track(client_for(chat_api), data_dir=data_dir)

    with client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as stream:
        first = next(stream)
        # Still referenced: only closing the stream can have recorded it.
        assert first.choices[0].delta.role == "assistant"

    [call] = calls_after_ingest(store, data_dir)
    assert call.usage_known is False
    stream.close()  # closing again records nothing more
    del stream
    gc.collect()
    ingest(store, data_dir, now=NOW_EPOCH)
    assert len(tracked_rows(store, 0, 2**40)) == 1


def test_a_streamed_response_stopped_early_keeps_its_model(chat_api, data_dir, store):
    client = track(client_for(chat_api), data_dir=data_dir)

    with client.responses.create(
        model="gpt-5-mini", input="Say hello.", stream=True
    ) as events:
        kinds = [next(events).type]

    assert kinds == ["response.created"]
    [call] = calls_after_ingest(store, data_dir)
    assert call.model == "gpt-5-mini-2025-08-07"
    assert call.usage_known is False and call.cost_usd is None


async def test_an_async_stream_stopped_early_is_recorded_once(
    chat_api, data_dir, store
):
    client = track(
        openai.AsyncOpenAI(
            base_url=chat_api.base_url, api_key="sk-test", max_retries=0
        ),
        data_dir=data_dir,
    )

    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    async for _chunk in stream:
        break
    await stream.close()

    [call] = calls_after_ingest(store, data_dir)
    assert call.usage_known is False
    assert call.model == "gpt-4o-mini-2024-07-18"


def test_a_stream_read_to_its_end_is_recorded_once_with_its_usage(
    chat_api, data_dir, store
):
    client = track(client_for(chat_api), data_dir=data_dir)

    with client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as stream:
        chunks = list(stream)

    del stream
    gc.collect()
    [call] = calls_after_ingest(store, data_dir)
    assert len(chunks) == 5
    assert call.usage_known is True
    assert call.cost_usd == GPT_4O_MINI_CALL


def test_embeddings_are_recorded(chat_api, data_dir, store):
    client = track(client_for(chat_api), data_dir=data_dir)

    answer = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])

    assert answer.data[1].embedding == [0.25, -0.5, 1.0]
    [call] = calls_after_ingest(store, data_dir)
    assert (call.api, call.input_tokens, call.output_tokens) == ("embeddings", 42, 0)
    assert call.cost_usd == EMBEDDING_CALL


def test_copies_of_a_tracked_client_are_tracked_with_its_label_or_their_own(
    chat_api, data_dir, store
):
    client = track(client_for(chat_api), label="batch-job", data_dir=data_dir)
    other = track(client.with_options(timeout=5), label="nightly", data_dir=data_dir)

    client.with_options(timeout=5).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    other.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    labels = [call.label for call in calls_after_ingest(store, data_dir)]
    assert labels == ["batch-job", "nightly", "batch-job"]
    assert isinstance(client, openai.OpenAI)


def test_a_raw_response_is_recorded_once_when_parsed(chat_api, data_dir, store):
    client = track(client_for(chat_api), data_dir=data_dir)

    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    )

    assert raw.headers["content-type"] == "application/json"
    assert raw.parse().usage.prompt_tokens == 1200
    raw.parse()
    assert len(calls_after_ingest(store, data_dir)) == 1


def test_a_failed_call_raises_as_before_and_records_nothing(chat_api, data_dir, store):
    client = track(client_for(chat_api), data_dir=data_dir)
    chat_api.fail_next(500)

    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert calls_after_ingest(store, data_dir) == []


def test_an_unwritable_data_dir_leaves_calls_untouched_and_warns_once(
    chat_api, tmp_path, caplog
):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    client = track(client_for(chat_api), data_dir=blocker / "data")

    with caplog.at_level(logging.WARNING):
        first = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        streamed = list(
            client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
        )
        client.responses.create(model="gpt-5-mini", input="Say hello.")

    assert first.usage.prompt_tokens == 1200
    assert len(streamed) == 5
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "cannot be recorded" in warnings[0].getMessage()
    assert "the calls themselves go on as usual" in warnings[0].getMessage()


def test_track_refuses_what_is_not_an_openai_client(data_dir):
    with pytest.raises(TypeError, match=r"openai\.OpenAI or openai\.AsyncOpenAI"):
        track(object(), data_dir=data_dir)


async def test_an_async_client_records_calls_and_streams(chat_api, data_dir, store):
    client = track(
        openai.AsyncOpenAI(
            base_url=chat_api.base_url, api_key="sk-test", max_retries=0
        ),
        label="async",
        data_dir=data_dir,
    )

    answer = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    chunks = [chunk async for chunk in stream]
    events = await client.responses.create(
        model="gpt-5-mini", input="Say hello.", stream=True
    )
    kinds = [event.type async for event in events]
    await client.embeddings.create(model="text-embedding-3-small", input="a")

    assert answer.usage.completion_tokens == 300
    assert len(chunks) == 5 and all(chunk.usage is None for chunk in chunks)
    assert kinds[-1] == "response.completed"
    calls = calls_after_ingest(store, data_dir)
    assert [call.api for call in calls] == [
        "chat.completions",
        "chat.completions",
        "responses",
        "embeddings",
    ]
    assert {call.label for call in calls} == {"async"}
    assert sum(call.cost_usd for call in calls) == (
        2 * GPT_4O_MINI_CALL + GPT_5_MINI_CALL + EMBEDDING_CALL
    )


def test_a_finished_programs_spool_file_is_deleted_once_ingested(tmp_path):
    # A real program: it records two calls and ends.
    data_dir = tmp_path / "data"
    with ChatApiServer() as server:
        program = f"""
import openai
from monitor_tui.tracker import track
client = track(
    openai.OpenAI(base_url={server.base_url!r}, api_key="sk-test"),
    data_dir={str(data_dir)!r},
)
for _ in range(2):
    client.chat.completions.create(model="gpt-4o-mini", messages=[])
"""
        subprocess.run([sys.executable, "-c", program], check=True, timeout=60)

    store = Store(data_dir)
    assert len(pending_files(data_dir)) == 1
    assert ingest(store, data_dir) == 2
    assert pending_files(data_dir) == []


def test_importing_the_tracker_loads_neither_the_store_nor_the_price_data():
    code = (
        "import sys, monitor_tui.tracker\n"
        "print(' '.join(m.split('.')[0] for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    for heavy in ("textual", "genai_prices", "tinydb", "filelock", "openai"):
        assert heavy not in out, f"importing the tracker loads {heavy}"
