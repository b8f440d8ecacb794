"""Pricing: list prices from genai-prices, cached input at its own rate, and
unknown models unpriced rather than free."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor_tui.pricing import FREE, PRICED, UNPRICED, Pricer
from tests.conftest import NOW_EPOCH


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer()


def completions_row(model: str, **counts: int) -> dict:
    row = {
        "origin": "openai",
        "endpoint": "completions",
        "width": "1h",
        "start": NOW_EPOCH - NOW_EPOCH % 3600,
        "model": model,
        "batch": None,
        "service_tier": None,
        "input_tokens": 0,
        "cached_input_tokens": 0,
        "output_tokens": 0,
    }
    row.update(counts)
    return row


def test_cached_input_is_billed_at_the_cached_rate(pricer):
    # gpt-4o list prices: $2.50 input, $1.25 cached input, $10 output per 1M.
    # 400k uncached x 2.50 + 600k cached x 1.25 + 100k out x 10 = 1.00+0.75+1.00.
    row = completions_row(
        "gpt-4o-2024-08-06",
        input_tokens=1_000_000,
        cached_input_tokens=600_000,
        output_tokens=100_000,
    )
    price = pricer.price(row)
    assert price.cost_usd == Decimal("2.75")
    assert price.state == PRICED
    assert "gpt-4o" in price.source


def test_dated_mini_snapshot_is_priced_as_gpt_4o_mini(pricer):
    # gpt-4o-mini: $0.15 input, $0.60 output per 1M: 2 x 0.15 + 0.5 x 0.60.
    row = completions_row(
        "gpt-4o-mini-2024-07-18", input_tokens=2_000_000, output_tokens=500_000
    )
    assert pricer.price(row).cost_usd == Decimal("0.60")


def test_gpt_4o_may_2024_snapshot_keeps_its_own_higher_price(pricer):
    # gpt-4o-2024-05-13 was $5 input and $15 output per 1M, not gpt-4o's 2.50/10.
    row = completions_row(
        "gpt-4o-2024-05-13", input_tokens=1_000_000, output_tokens=1_000_000
    )
    assert pricer.price(row).cost_usd == Decimal("20.00")


def test_bucket_sums_are_priced_at_the_base_rate_not_a_long_context_tier(pricer):
    # gpt-5.4 input is $2.50 per 1M, $5 for a request past 272k tokens. A bucket
    # is the sum of many requests, so 5M input tokens cost 5 x $2.50, not 5 x $5.
    row = completions_row("gpt-5.4", input_tokens=5_000_000)
    assert pricer.price(row).cost_usd == Decimal("12.5")


def test_unknown_model_is_unpriced_not_free(pricer):
    row = completions_row("gpt-imaginary-9", input_tokens=1_000, output_tokens=1_000)
    price = pricer.price(row)
    assert price.cost_usd is None
    assert price.state == UNPRICED


def test_a_zero_price_for_a_model_that_is_not_free_is_a_gap(pricer):
    # The price data gives tts-1 no token prices: $0 there is missing data.
    row = completions_row("tts-1", input_tokens=10_000, output_tokens=10_000)
    assert pricer.price(row) == (None, UNPRICED, pricer.price(row).source)


def test_moderation_is_free(pricer):
    row = completions_row("omni-moderation-latest", input_tokens=10_000)
    price = pricer.price(row)
    assert (price.cost_usd, price.state) == (Decimal(0), FREE)


def test_embeddings_are_priced_on_input_only(pricer):
    # text-embedding-3-small: $0.02 per 1M input tokens.
    row = completions_row("text-embedding-3-small", input_tokens=3_000_000)
    row["endpoint"] = "embeddings"
    assert pricer.price(row).cost_usd == Decimal("0.06")


def test_price_rows_stores_cost_as_exact_decimal_text(pricer):
    rows = pricer.price_rows(
        [completions_row("gpt-4o-mini-2024-07-18", input_tokens=1, output_tokens=1)]
    )
    # gpt-4o-mini: $0.15 + $0.60 per 1M tokens, one token each.
    assert Decimal(rows[0]["cost_usd"]) == Decimal("0.00000075")
    assert "E" not in rows[0]["cost_usd"]
    assert rows[0]["price_state"] == PRICED
