"""Prices usage rows with genai-prices at the price in force on each bucket's date.

Rows are priced once, when they are stored, so reading totals never loads the
price data. A model the price data does not know, or prices at $0 although OpenAI
charges for it, is unpriced: its cost is None and it is named, never counted as 0.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from monitor_tui.usage import TOKEN_ENDPOINTS, UsageRow

log = logging.getLogger(__name__)

PRICED, UNPRICED, FREE = "priced", "unpriced", "free"
"""Price states of a row, as the report names them (``override`` comes later)."""

FREE_MODEL_PREFIXES = ("omni-moderation", "text-moderation")
"""What OpenAI does not charge for; any other $0 is a gap in the price data."""


class Rates(NamedTuple):
    """Dollars per token of one model, on one day, in one tier."""

    input: Decimal
    cached_input: Decimal
    output: Decimal
    source: str


class Price(NamedTuple):
    """The cost of one row and where it came from."""

    cost_usd: Decimal | None
    state: str
    source: str | None


def _price_context(row: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    context: dict[str, str] = {}
    if row.get("batch"):
        context["processing"] = "batch"
    if row.get("service_tier"):
        context["service_tier"] = str(row["service_tier"])
    return tuple(sorted(context.items()))


def _per_token(price_per_million: Any) -> Decimal:
    """Dollars per token at the base rate of a (possibly tiered) price.

    A bucket is the sum of many requests, so pricing it as one request would
    wrongly reach a long-context tier: only the base rate applies.
    """
    if price_per_million is None:
        return Decimal(0)
    base = getattr(price_per_million, "base", price_per_million)
    return Decimal(base) / 1_000_000


class Pricer:
    """Prices rows; imports genai-prices on first use, not on import."""

    def __init__(self) -> None:
        import genai_prices

        self._genai_prices = genai_prices
        self._rates = lru_cache(maxsize=4096)(self._lookup_rates)

    def _lookup_rates(
        self, model: str, day: int, context: tuple[tuple[str, str], ...]
    ) -> Rates | None:
        try:
            match = self._genai_prices.calc_price(
                self._genai_prices.Usage(input_tokens=1),
                model,
                provider_id="openai",
                genai_request_timestamp=datetime.fromtimestamp(day * 86400, UTC),
                price_context=dict(context) or None,
            )
        except LookupError:
            return None
        # TODO: batch, flex and priority variants only carry dates from mid-October
        # 2026 in the price data; older rows in those tiers get the standard rate.
        prices = match.model_price
        input_rate = _per_token(prices.input_mtok)
        # Without a cached rate, cached input is billed as input, as genai-prices
        # itself does.
        cached_rate = (
            input_rate
            if prices.cache_read_mtok is None
            else _per_token(prices.cache_read_mtok)
        )
        return Rates(
            input=input_rate,
            cached_input=cached_rate,
            output=_per_token(prices.output_mtok),
            source=f"genai-prices {self._genai_prices.__version__}: {match.model.id}",
        )

    def price(self, row: Mapping[str, Any]) -> Price:
        """Return the cost of one usage row at the price in force on its date."""
        # TODO: price images, speech characters, transcription seconds and web
        # searches from their own counts; until then they are unpriced volume,
        # since token prices would put them at $0.
        if row.get("endpoint", "completions") not in TOKEN_ENDPOINTS:
            return Price(None, UNPRICED, None)
        model = row.get("model")
        if not model:
            return Price(None, UNPRICED, None)
        if str(model).startswith(FREE_MODEL_PREFIXES):
            return Price(Decimal(0), FREE, "OpenAI does not charge for moderation")
        # Prices change at most daily: one look-up per model, UTC day and tier.
        rates = self._rates(str(model), row["start"] // 86400, _price_context(row))
        if rates is None:
            return Price(None, UNPRICED, None)

        input_tokens = int(row.get("input_tokens") or 0)
        cached = min(int(row.get("cached_input_tokens") or 0), input_tokens)
        output = int(row.get("output_tokens") or 0)
        if not (rates.input or rates.cached_input or rates.output):
            # A $0 price for a model that is not free is missing data, not a gift.
            return Price(None, UNPRICED, rates.source)
        # TODO: audio tokens are priced at the text rate; their own rates come with
        # the cost-truth work.
        cost = (
            (input_tokens - cached) * rates.input
            + cached * rates.cached_input
            + output * rates.output
        )
        return Price(cost, PRICED, rates.source)

    def price_rows(self, rows: Iterable[UsageRow]) -> list[UsageRow]:
        """Attach ``cost_usd`` (decimal string or None), ``price_state`` and
        ``price_source`` to each row and return them."""
        priced = []
        for row in rows:
            price = self.price(row)
            # Fixed-point text: readable in the store file, exact when read back.
            row["cost_usd"] = None if price.cost_usd is None else f"{price.cost_usd:f}"
            row["price_state"] = price.state
            row["price_source"] = price.source
            priced.append(row)
        return priced
