"""The cost rules of issue 4, each with a worked value from published list prices.

Every figure below is computed by hand in the comment above its assertion, from
the list prices the price data carries (dollars per million tokens unless said).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from monitor_tui.price_overrides import (
    PriceOverrideError,
    parse_price_overrides,
)
from monitor_tui.pricing import FREE, OVERRIDE, PRICED, UNPRICED, Pricer


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer()


def epoch(year: int, month: int, day: int, hour: int = 12) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


def row(model: str, start: int, endpoint: str = "completions", **fields) -> dict:
    return {
        "origin": "openai",
        "endpoint": endpoint,
        "width": "1h",
        "start": start,
        "model": model,
        "batch": None,
        "service_tier": None,
        **fields,
    }


MILLION = 1_000_000


# 1. The price in force on the bucket's date


def test_a_price_change_applies_from_its_date(pricer):
    # o3 was $10 input / $40 output until 2025-06-10, then $2 / $8.
    # 1M input + 1M output: $50 on 9 June, $10 on 11 June.
    before = row("o3", epoch(2025, 6, 9), input_tokens=MILLION, output_tokens=MILLION)
    after = row("o3", epoch(2025, 6, 11), input_tokens=MILLION, output_tokens=MILLION)
    assert pricer.price(before).cost_usd == Decimal(50)
    assert pricer.price(after).cost_usd == Decimal(10)


# 2. Batch and service tiers


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # gpt-5: $1.25 / $10 standard; batch and flex half of it ($0.625 / $5);
        # priority $2.50 / $20. 1M input + 1M output.
        ({}, Decimal("11.25")),
        ({"batch": True}, Decimal("5.625")),
        ({"service_tier": "flex"}, Decimal("5.625")),
        ({"service_tier": "priority"}, Decimal("22.5")),
        ({"service_tier": "default"}, Decimal("11.25")),
    ],
)
def test_batch_and_tiers_use_their_own_rates(pricer, fields, expected):
    priced = pricer.price(
        row(
            "gpt-5",
            epoch(2026, 11, 20),
            input_tokens=MILLION,
            output_tokens=MILLION,
            **fields,
        )
    )
    assert (priced.cost_usd, priced.state) == (expected, PRICED)


def test_a_batch_row_before_the_price_data_has_batch_prices_uses_the_first_one(
    pricer,
):
    # The price data has gpt-5 batch prices from 2026-10-14 ($0.625 / $5); the
    # standard price was the same on 1 September as then, so the batch price of
    # 14 October applies: 1M in + 1M out = $5.625, and the source says so.
    priced = pricer.price(
        row(
            "gpt-5",
            epoch(2026, 9, 1),
            input_tokens=MILLION,
            output_tokens=MILLION,
            batch=True,
        )
    )
    assert priced.cost_usd == Decimal("5.625")
    assert "price from 2026-10-14" in priced.source


def test_a_batch_row_is_unpriced_when_the_standard_price_changed_since(pricer):
    # o3's standard price fell on 2025-06-10, long before the price data's first
    # o3 batch price (2026-10-14): a May 2025 batch row has no known price.
    priced = pricer.price(
        row("o3", epoch(2025, 5, 1), input_tokens=MILLION, batch=True)
    )
    assert (priced.cost_usd, priced.state) == (None, UNPRICED)
    assert "standard price changed" in priced.source


def test_a_tier_the_price_data_has_no_price_for_is_unpriced(pricer):
    # gpt-4o-mini has no flex variant in the price data: the standard price
    # would overstate it, so the row is unpriced rather than guessed.
    priced = pricer.price(
        row(
            "gpt-4o-mini",
            epoch(2026, 11, 20),
            input_tokens=MILLION,
            service_tier="flex",
        )
    )
    assert (priced.cost_usd, priced.state) == (None, UNPRICED)
    assert "no flex price" in priced.source


# 3. Every token kind once


def test_reasoning_tokens_are_part_of_output_and_never_added_again(pricer):
    # o4-mini: $1.10 / $4.40. 1M output of which 800k reasoning: $4.40, not $7.92.
    priced = pricer.price(
        row(
            "o4-mini",
            epoch(2026, 11, 20),
            output_tokens=MILLION,
            reasoning_tokens=800_000,
        )
    )
    assert priced.cost_usd == Decimal("4.4")


def test_audio_tokens_are_billed_at_the_audio_rates(pricer):
    # gpt-realtime: text $4 in, $0.40 cached, $16 out; audio $32 in, $0.40
    # cached, $64 out. Of 1M input, 200k cached (50k of them audio) and 250k
    # uncached audio; of 500k output, 100k audio:
    #   text in 550k x 4 = 2.20   text cached 150k x 0.40 = 0.06
    #   audio in 250k x 32 = 8.00  audio cached 50k x 0.40 = 0.02
    #   text out 400k x 16 = 6.40  audio out 100k x 64 = 6.40     total 23.08
    counts = {
        "input_tokens": MILLION,
        "cached_input_tokens": 200_000,
        "cached_input_audio_tokens": 50_000,
        "input_audio_tokens": 250_000,
        "output_tokens": 500_000,
        "output_audio_tokens": 100_000,
    }
    priced = pricer.price(row("gpt-realtime", epoch(2026, 11, 20), **counts))
    assert priced.cost_usd == Decimal("23.08")
    # The same usage as the price data's own calculator reads it (its audio
    # input count includes cached audio) gives the same figure.
    library = calc_price(
        Usage(
            input_tokens=MILLION,
            cache_read_tokens=200_000,
            input_audio_tokens=300_000,
            cache_audio_read_tokens=50_000,
            output_tokens=500_000,
            output_audio_tokens=100_000,
        ),
        "gpt-realtime",
        provider_id="openai",
        genai_request_timestamp=datetime(2026, 11, 20, tzinfo=UTC),
    )
    assert library.total_price == priced.cost_usd


def test_audio_tokens_without_an_audio_rate_leave_the_row_unpriced(pricer):
    # The price data gives gpt-4o-audio-preview only text rates; pricing its
    # audio at the text rate would understate it several times over.
    priced = pricer.price(
        row(
            "gpt-4o-audio-preview",
            epoch(2026, 11, 20),
            input_tokens=MILLION,
            input_audio_tokens=400_000,
        )
    )
    assert (priced.cost_usd, priced.state) == (None, UNPRICED)
    assert "no audio input rate" in priced.source


def test_embeddings_have_no_output(pricer):
    # text-embedding-3-large: $0.13 per 1M input; a stray output count is ignored.
    priced = pricer.price(
        row(
            "text-embedding-3-large",
            epoch(2026, 11, 20),
            endpoint="embeddings",
            input_tokens=2 * MILLION,
            output_tokens=MILLION,
        )
    )
    assert priced.cost_usd == Decimal("0.26")


def test_a_speech_model_given_tokens_is_unpriced_not_free(pricer):
    # tts-1 is priced per character; token counts for it price at $0, a gap.
    priced = pricer.price(row("tts-1", epoch(2026, 11, 20), input_tokens=10_000))
    assert (priced.cost_usd, priced.state) == (None, UNPRICED)


def test_moderations_are_free(pricer):
    priced = pricer.price(
        row(
            "omni-moderation-latest",
            epoch(2026, 11, 20),
            endpoint="moderations",
            input_tokens=MILLION,
        )
    )
    assert (priced.cost_usd, priced.state) == (Decimal(0), FREE)


# 4. Other usage endpoints


@pytest.mark.parametrize(
    ("model", "endpoint", "fields", "expected"),
    [
        # tts-1: $15 per million characters; 2M characters = $30.
        ("tts-1", "audio_speeches", {"characters": 2 * MILLION}, Decimal(30)),
        # whisper-1: $0.36 per hour of audio; 5 hours = 18,000 s = $1.80.
        ("whisper-1", "audio_transcriptions", {"seconds": 18_000}, Decimal("1.8")),
        # Web search with gpt-5: $10 per 1,000 calls; 250 calls = $2.50.
        ("gpt-5", "web_search_calls", {"tool_calls": 250}, Decimal("2.5")),
    ],
)
def test_volume_is_priced_where_the_price_data_has_a_rate(
    pricer, model, endpoint, fields, expected
):
    priced = pricer.price(row(model, epoch(2026, 11, 20), endpoint, **fields))
    assert (priced.cost_usd, priced.state) == (expected, PRICED)


@pytest.mark.parametrize(
    ("model", "endpoint", "fields"),
    [
        # gpt-4o-mini-tts is priced per token, so its characters have no price.
        ("gpt-4o-mini-tts", "audio_speeches", {"characters": 5_000}),
        ("gpt-image-1", "images", {"images": 40}),
        (None, "vector_stores", {"usage_bytes": 10**9}),
        (None, "code_interpreter_sessions", {"sessions": 12}),
        (None, "file_search_calls", {"tool_calls": 300}),
    ],
)
def test_volume_without_a_rate_is_unpriced_not_free(pricer, model, endpoint, fields):
    priced = pricer.price(row(model, epoch(2026, 11, 20), endpoint, **fields))
    assert (priced.cost_usd, priced.state) == (None, UNPRICED)
    assert priced.source  # the reason is kept


# 7. Price overrides


def test_an_override_wins_over_the_price_data_and_is_marked():
    # Negotiated gpt-4o rates: $2 input, $1 cached, $8 output. 1M input (600k
    # cached) + 100k output: 400k x 2 + 600k x 1 + 100k x 8 = 0.80+0.60+0.80.
    overrides = parse_price_overrides(
        {"gpt-4o": {"input": 2, "cached_input": "1.00", "output": 8.0}}
    )
    priced = Pricer(overrides).price(
        row(
            "gpt-4o-2024-08-06",
            epoch(2026, 11, 20),
            input_tokens=MILLION,
            cached_input_tokens=600_000,
            output_tokens=100_000,
        )
    )
    assert (priced.cost_usd, priced.state) == (Decimal("2.2"), OVERRIDE)
    assert priced.source == 'config [prices."gpt-4o"]'


def test_an_exact_model_override_wins_over_the_undated_one():
    overrides = parse_price_overrides(
        {
            "gpt-4o": {"input": 2, "output": 8},
            "gpt-4o-2024-05-13": {"input": 4, "output": 12},
        }
    )
    # 1M input at the dated entry's $4; cached input defaults to the input rate.
    priced = Pricer(overrides).price(
        row("gpt-4o-2024-05-13", epoch(2026, 11, 20), input_tokens=MILLION)
    )
    assert priced.cost_usd == Decimal(4)


def test_an_override_for_a_model_the_price_data_does_not_know_prices_it():
    # A fine-tune or private model at negotiated rates: $3 input, $9 output.
    overrides = parse_price_overrides({"acme-model": {"input": 3, "output": 9}})
    priced = Pricer(overrides).price(
        row(
            "acme-model",
            epoch(2026, 11, 20),
            input_tokens=MILLION,
            output_tokens=MILLION,
            batch=True,
        )
    )
    assert (priced.cost_usd, priced.state) == (Decimal(12), OVERRIDE)


def test_an_override_without_output_keeps_the_price_datas_output_rate():
    # gpt-4o input at a negotiated $2; output at the list $10: 1M + 1M = $12.
    overrides = parse_price_overrides({"gpt-4o": {"input": 2}})
    priced = Pricer(overrides).price(
        row("gpt-4o", epoch(2026, 11, 20), input_tokens=MILLION, output_tokens=MILLION)
    )
    assert (priced.cost_usd, priced.state) == (Decimal(12), OVERRIDE)
    # A model only the override knows cannot price output it gives no rate for.
    unknown = Pricer(parse_price_overrides({"acme-model": {"input": 3}})).price(
        row("acme-model", epoch(2026, 11, 20), output_tokens=10)
    )
    assert (unknown.cost_usd, unknown.state) == (None, UNPRICED)
    assert "no output rate" in unknown.source


def test_a_zero_override_is_the_users_word_not_a_gap():
    overrides = parse_price_overrides({"gpt-4o": {"input": 0, "output": 0}})
    priced = Pricer(overrides).price(
        row("gpt-4o", epoch(2026, 11, 20), input_tokens=MILLION, output_tokens=10)
    )
    assert (priced.cost_usd, priced.state) == (Decimal(0), OVERRIDE)


def test_a_stopped_stream_stays_unpriced_whatever_the_prices():
    # Repricing after an override change must not price unknown usage at $0.
    for pricer in (Pricer(), Pricer(parse_price_overrides({"gpt-4o": {"input": 1}}))):
        priced = pricer.price(
            row("gpt-4o", epoch(2026, 11, 20), input_tokens=0, usage_known=False)
        )
        assert (priced.cost_usd, priced.state) == (None, UNPRICED)
        assert "stopped" in priced.source


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"gpt-4o": {"output": 8}}, "needs input"),
        ({"gpt-4o": {"input": "1_0"}}, "must be a number"),
        ({"gpt-4o": {"input": "1e2"}}, "must be a number"),
        ({"gpt-4o": {"input": 2, "cached_input": 50}}, "cached_input is above"),
        ({"": {"input": 2}}, "needs a model name"),
        ({"gpt-4o": {"input": 2, "output": 8, "outptu": 1}}, "unknown rate outptu"),
        ({"gpt-4o": {"input": -1, "output": 8}}, "must be 0 to"),
        ({"gpt-4o": {"input": "two", "output": 8}}, "must be a number"),
        ({"gpt-4o": {"input": True, "output": 8}}, "must be a number"),
        ({"gpt-4o": 3}, "must be a table"),
        ([1, 2], "must be a table of models"),
    ],
)
def test_a_bad_override_is_refused_with_what_to_fix(table, message):
    with pytest.raises(PriceOverrideError, match=message):
        parse_price_overrides(table)
