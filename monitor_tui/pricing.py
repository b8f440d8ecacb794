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

from monitor_tui.usage import UsageRow

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


class Pricer:
    """Prices rows; imports genai-prices on first use, not on import."""

    def __init__(self) -> None:
        import genai_prices

        self._genai_prices = genai_prices
        self._rates = lru_cache(maxsize=4096)(self._lookup_rates)

    def _lookup_rates(
        self, model: str, day: str, context: tuple[tuple[str, str], ...]
    ) -> Rates | None:
        when = datetime.fromisoformat(day).replace(tzinfo=UTC)
        usage_cls = self._genai_prices.Usage

        def one(**counts: int) -> Any:
            return self._genai_prices.calc_price(
                usage_cls(**counts),
                model,
                provider_id="openai",
                genai_request_timestamp=when,
                price_context=dict(context) or None,
            )

        try:
            # One token of each kind gives the base rate: pricing a bucket (a sum
            # of many requests) as one request would wrongly reach the
            # long-context tier.
            uncached = one(input_tokens=1)
            cached = one(input_tokens=1, cache_read_tokens=1)
            output = one(output_tokens=1)
        except LookupError:
            return None
        source = f"genai-prices {self._genai_prices.__version__}: {uncached.model.id}"
        # TODO: batch, flex and priority variants only carry dates from mid-October
        # 2026 in the price data; older rows in those tiers get the standard rate.
        return Rates(
            input=Decimal(uncached.total_price),
            cached_input=Decimal(cached.total_price),
            output=Decimal(output.total_price),
            source=source,
        )

    def price(self, row: Mapping[str, Any]) -> Price:
        """Return the cost of one usage row at the price in force on its date."""
        model = row.get("model")
        if not model:
            return Price(None, UNPRICED, None)
        if str(model).startswith(FREE_MODEL_PREFIXES):
            return Price(Decimal(0), FREE, "OpenAI does not charge for moderation")
        day = datetime.fromtimestamp(row["start"], UTC).date().isoformat()
        rates = self._rates(str(model), day, _price_context(row))
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
