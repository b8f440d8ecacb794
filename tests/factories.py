"""Small builders for usage rows and API records used across tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import NOW_EPOCH

HOUR = NOW_EPOCH - NOW_EPOCH % 3600
"""The start of the clock hour of the tests' fixed moment."""


def usage_row(
    start: int,
    *,
    model: str = "gpt-4o-2024-08-06",
    width: str = "1h",
    endpoint: str = "completions",
    origin: str = "openai",
    input_tokens: int = 0,
    cached_input_tokens: int = 0,
    output_tokens: int = 0,
    requests: int = 1,
    cost_usd: str | None = "0",
    price_state: str = "priced",
    **dims: Any,
) -> dict[str, Any]:
    """A stored usage row with every identity field set."""
    row: dict[str, Any] = {
        "origin": origin,
        "endpoint": endpoint,
        "width": width,
        "start": start,
        "project_id": None,
        "user_id": None,
        "api_key_id": None,
        "model": model,
        "input_tokens": input_tokens,
        "cached_input_tokens": cached_input_tokens,
        "output_tokens": output_tokens,
        "input_audio_tokens": 0,
        "output_audio_tokens": 0,
        "requests": requests,
        "cost_usd": cost_usd,
        "price_state": price_state,
        "price_source": None,
    }
    if endpoint == "completions":
        row.update(batch=None, service_tier=None)
    row.update(dims)
    return row


def completion(time: int, model: str, **counts: Any) -> dict[str, Any]:
    """A completions record for the local API server, in project proj_a."""
    return {
        "endpoint": "completions",
        "time": time,
        "model": model,
        "project_id": "proj_a",
        "api_key_id": "key_a",
        "batch": False,
        "service_tier": "default",
        "num_model_requests": 1,
        **counts,
    }


HAND_COMPUTED = [
    # gpt-4o: 400k x $2.50 + 600k cached x $1.25 + 100k out x $10 per 1M = $2.75.
    completion(
        HOUR - 5 * 3600,
        "gpt-4o-2024-08-06",
        input_tokens=1_000_000,
        input_cached_tokens=600_000,
        output_tokens=100_000,
    ),
    # gpt-4o-mini: 2M x $0.15 + 500k x $0.60 per 1M = $0.60.
    completion(
        HOUR - 2 * 3600,
        "gpt-4o-mini-2024-07-18",
        input_tokens=2_000_000,
        output_tokens=500_000,
        num_model_requests=3,
    ),
    {
        "endpoint": "embeddings",
        "time": HOUR - 3600,
        "model": "text-embedding-3-small",
        "project_id": "proj_a",
        "api_key_id": "key_a",
        "input_tokens": 3_000_000,
        "num_model_requests": 2,
    },  # $0.02 per 1M: $0.06.
    {
        "endpoint": "costs",
        "time": HOUR - 3600,
        "amount": "3.40",
        "project_id": "proj_a",
        "line_item": "gpt-4o, input",
    },
]
