"""Small builders for usage rows and API records used across tests."""

from __future__ import annotations

from typing import Any


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
