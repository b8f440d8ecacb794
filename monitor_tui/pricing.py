"""Prices usage rows with genai-prices at the price in force on each bucket's date.

Rows are priced once, when they are stored, so reading totals never loads the
price data. A model the price data does not know, or prices at $0 although OpenAI
charges for it, is unpriced: its cost is None and the reason is kept, never 0.

The rules, each with its reason:

- Token rows: input includes cached input, which is billed at the cached rate;
  reasoning tokens are part of output and never added again; audio tokens are
  billed at the model's audio rates, and a row with audio tokens on a model the
  price data has no audio rate for is unpriced (the text rate would be a guess).
  Embeddings have no output.
- A bucket is a sum of many requests, so only a price's base rate applies: pricing
  the sum as one request would reach a long-context tier no request reached.
- Batch, flex and priority rows use the price data's variant for that tier. The
  price data gives those variants a start date (mid-October 2026 for most
  models); before it, a row is priced at the variant's first price if the
  model's standard price is the same on the row's date as on that start date,
  and is unpriced otherwise. A tier the price data has no variant for is unpriced.
- Speech is priced per character, transcription per second of audio and web
  search per call, where the price data has such a rate for the model. Images,
  vector storage, code interpreter sessions and file search are unpriced volume:
  the price data has no rate for them.
- A ``[prices]`` override in the config wins over the price data for token rates
  of the models it names; such rows say ``override``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from monitor_tui.price_overrides import (
    PriceOverride,
    override_for,
    overrides_fingerprint,
)
from monitor_tui.usage import UsageRow

log = logging.getLogger(__name__)

PRICED, OVERRIDE, UNPRICED, FREE = "priced", "override", "unpriced", "free"
"""Price states of a row, as the report names them."""

FREE_MODEL_PREFIXES = ("omni-moderation", "text-moderation")
"""What OpenAI does not charge for; any other $0 is a gap in the price data."""
FREE_ENDPOINTS = ("moderations",)

TOKEN_ENDPOINTS = ("completions", "embeddings")
VOLUME_UNITS = {
    # endpoint: (row field, genai-prices usage key, what one unit is called)
    "audio_speeches": ("characters", "input_characters", "character"),
    "audio_transcriptions": ("seconds", "audio_seconds", "second of audio"),
    "web_search_calls": ("tool_calls", "web_searches", "web search call"),
}
"""Volume the price data can price for some models."""
UNPRICEABLE = {
    "images": "the price data has no per-image price",
    "vector_stores": "the price data has no vector storage price",
    "code_interpreter_sessions": "the price data has no code interpreter price",
    "file_search_calls": "file search calls carry no model to price them by",
}

USAGE_UNKNOWN = "a stream stopped before its usage came: its tokens are unknown"

STANDARD_TIERS = (None, "", "default", "auto", "standard")
"""Service tiers billed at the standard price."""


def price_data_version() -> str:
    """The installed genai-prices version, read without importing it."""
    # Imported here: importlib.metadata brings email and zipfile, which a cold
    # start to the Live tab does not need.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "unknown"


def price_basis(overrides: Mapping[str, PriceOverride]) -> str:
    """What stored prices depend on: the price data's version and the overrides.

    Stored rows priced on another basis are priced again, so a new price data
    release or an edited ``[prices]`` table never leaves stale prices behind.
    """
    fingerprint = overrides_fingerprint(overrides)
    return f"genai-prices {price_data_version()}; overrides {fingerprint}"


def combined_state(rows: Iterable[Mapping[str, Any]]) -> str:
    """The price state of a group of rows: ``unpriced`` if any row is,
    ``override`` if any row is priced at the user's rates, ``free`` if every
    row is free, else ``priced``."""
    states = set()
    for row in rows:
        states.add(UNPRICED if row.get("cost_usd") is None else row.get("price_state"))
    return state_of(states)


def state_of(states: set[Any]) -> str:
    """The price state of a group whose rows are in ``states`` (``unpriced``
    standing for every row without a cost)."""
    if UNPRICED in states:
        return UNPRICED
    if OVERRIDE in states:
        return OVERRIDE
    return FREE if states == {FREE} else PRICED


class Rates(NamedTuple):
    """Dollars per token of one model, on one day, in one tier."""

    input: Decimal
    cached_input: Decimal
    output: Decimal
    input_audio: Decimal | None
    cached_input_audio: Decimal | None
    output_audio: Decimal | None
    model_price: Any
    """The price data's price with tiers flattened to their base, for volume."""
    source: str
    state: str
    output_known: bool = True
    """False when an override gives no output rate: output cannot be priced."""


class Price(NamedTuple):
    """The cost of one row and where it came from, or why it has none."""

    cost_usd: Decimal | None
    state: str
    source: str | None


def _tier(row: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The price context of a row's batch flag and service tier."""
    context: dict[str, str] = {}
    if row.get("batch"):
        context["processing"] = "batch"
    tier = row.get("service_tier")
    if tier not in STANDARD_TIERS:
        context["service_tier"] = str(tier)
    return tuple(sorted(context.items()))


def _base(price: Any) -> Decimal | None:
    """The base rate of a (possibly tiered) price."""
    if price is None:
        return None
    return Decimal(getattr(price, "base", price))


def _per_token(price_per_million: Any) -> Decimal | None:
    base = _base(price_per_million)
    return None if base is None else base / 1_000_000


def _timestamp(day: int | date) -> datetime:
    if isinstance(day, date):
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return datetime.fromtimestamp(day * 86400, UTC)


def _override_rates(override: PriceOverride, prices: Any, flat: Any) -> Rates:
    """The user's rates for text tokens; audio rates and volume prices still
    come from the price data where it knows the model."""
    per_million = Decimal(1_000_000)
    cached = override.input if override.cached_input is None else override.cached_input
    audio_in = None if prices is None else _per_token(prices.input_audio_mtok)
    # Without an output rate of its own, output keeps the price data's rate.
    if override.output is not None:
        output: Decimal | None = override.output / per_million
    else:
        output = None if prices is None else _per_token(prices.output_mtok)
    return Rates(
        input=override.input / per_million,
        cached_input=cached / per_million,
        output=output or Decimal(0),
        input_audio=audio_in,
        cached_input_audio=(
            None
            if prices is None
            else _per_token(prices.cache_audio_read_mtok) or audio_in
        ),
        output_audio=None if prices is None else _per_token(prices.output_audio_mtok),
        model_price=flat,
        source=f'config [prices."{override.model}"]',
        state=OVERRIDE,
        output_known=output is not None,
    )


class _Gap(Exception):
    """The price data cannot price this model, day and tier; says why."""


class Pricer:
    """Prices rows; imports genai-prices on first use, not on import."""

    def __init__(self, overrides: Mapping[str, PriceOverride] | None = None) -> None:
        import genai_prices
        from genai_prices.types import ModelPrice, Usage

        self._genai_prices = genai_prices
        self._model_price = ModelPrice
        self._usage = Usage
        self.overrides = dict(overrides or {})
        self.basis = price_basis(self.overrides)
        self._rates = lru_cache(maxsize=4096)(self._lookup_rates)
        self._match = lru_cache(maxsize=4096)(self._lookup_match)

    # Looking prices up

    def _lookup_match(
        self, model: str, when: datetime, context: tuple[tuple[str, str], ...]
    ) -> Any:
        """The price data's match for a model at a moment, or None if unknown."""
        try:
            return self._genai_prices.calc_price(
                self._usage(input_tokens=1),
                model,
                provider_id="openai",
                genai_request_timestamp=when,
                price_context=dict(context) or None,
            )
        except LookupError:
            return None

    def _tier_match(
        self, model: str, day: int, context: tuple[tuple[str, str], ...]
    ) -> tuple[Any, str]:
        """The match for a batch or tier row, by the rule in the module's doc."""
        standard = self._match(model, _timestamp(day), ())
        wanted = dict(context)
        variants = [
            variant
            for variant in getattr(standard.model, "price_variants", None) or ()
            if variant.when and all(wanted.get(k) == v for k, v in variant.when.items())
        ]
        tier = " ".join(wanted.values())
        if not variants:
            raise _Gap(f"the price data has no {tier} price for {model}")
        starts = [
            getattr(variant.constraint, "start_date", None) for variant in variants
        ]
        first = min((s for s in starts if s is not None), default=None)
        if first is None or _timestamp(day).date() >= first:
            return self._match(model, _timestamp(day), context), ""
        if self._match(model, _timestamp(first), ()).model_price != (
            standard.model_price
        ):
            raise _Gap(
                f"the price data has no {tier} price for {model} before "
                f"{first.isoformat()}, and its standard price changed since"
            )
        return (
            self._match(model, _timestamp(first), context),
            f"; {tier} price from {first.isoformat()}, the standard price being "
            "the same then",
        )

    def _lookup_rates(
        self, model: str, day: int, context: tuple[tuple[str, str], ...]
    ) -> Rates:
        """The rates of a model on a UTC day in a tier.

        Raises:
            _Gap: the price data cannot price it, with the reason.
        """
        override = override_for(self.overrides, model)
        match = self._match(model, _timestamp(day), ())
        if match is None and override is None:
            raise _Gap(f"the price data does not know {model}")
        prices = flat = None
        note = ""
        if match is not None:
            if context and override is None:
                # An override sets the rate of every tier of its model.
                match, note = self._tier_match(model, day, context)
            prices = match.model_price
            flat = self._model_price(
                **{
                    key: _base(value)
                    for key, value in vars(prices).items()
                    if not key.startswith("_")
                }
            )
        if override is not None:
            return _override_rates(override, prices, flat)
        source = f"genai-prices {self._genai_prices.__version__}: {match.model.id}"
        input_rate = _per_token(prices.input_mtok) or Decimal(0)
        cached_rate = _per_token(prices.cache_read_mtok)
        audio_in = _per_token(prices.input_audio_mtok)
        return Rates(
            input=input_rate,
            # Without a cached rate, cached input is billed as input, as the price
            # data itself does.
            cached_input=input_rate if cached_rate is None else cached_rate,
            output=_per_token(prices.output_mtok) or Decimal(0),
            input_audio=audio_in,
            cached_input_audio=(
                _per_token(prices.cache_audio_read_mtok)
                if prices.cache_audio_read_mtok is not None
                else audio_in
            ),
            output_audio=_per_token(prices.output_audio_mtok),
            model_price=flat,
            source=source + note,
            state=PRICED,
        )

    # Pricing rows

    def price(self, row: Mapping[str, Any]) -> Price:
        """Return the cost of one usage row at the price in force on its date."""
        endpoint = row.get("endpoint") or "completions"
        model = row.get("model")
        if endpoint in FREE_ENDPOINTS or str(model or "").startswith(
            FREE_MODEL_PREFIXES
        ):
            return Price(Decimal(0), FREE, "OpenAI does not charge for moderation")
        if row.get("usage_known") is False:
            # A stream stopped before its usage came: what it used is unknown.
            return Price(None, UNPRICED, USAGE_UNKNOWN)
        if endpoint in UNPRICEABLE:
            return Price(None, UNPRICED, UNPRICEABLE[endpoint])
        if not model:
            return Price(None, UNPRICED, "the row has no model to price it by")
        try:
            # Prices change at most daily: one look-up per model, UTC day and tier.
            rates = self._rates(str(model), row["start"] // 86400, _tier(row))
            if endpoint in VOLUME_UNITS:
                cost = self._volume_cost(endpoint, row, rates)
                state = PRICED
            else:
                cost = _token_cost(row, rates)
                state = rates.state
        except _Gap as gap:
            return Price(None, UNPRICED, str(gap))
        return Price(cost, state, rates.source)

    def _volume_cost(
        self, endpoint: str, row: Mapping[str, Any], rates: Rates
    ) -> Decimal:
        field, usage_key, unit = VOLUME_UNITS[endpoint]
        quantity = int(row.get(field) or 0)
        if not quantity:
            return Decimal(0)
        if rates.model_price is None:
            raise _Gap(f"the price data does not know {row['model']}")
        cost = rates.model_price.calc_price(self._usage(**{usage_key: quantity}))
        total = Decimal(cost["total_price"])
        if not total:
            raise _Gap(f"the price data has no per-{unit} price for {row['model']}")
        return total

    def price_rows(self, rows: Iterable[UsageRow]) -> list[UsageRow]:
        """Attach ``cost_usd`` (decimal string or None), ``price_state`` and
        ``price_source`` (where the price came from, or why there is none) to
        each row and return them."""
        priced = []
        for row in rows:
            price = self.price(row)
            # Fixed-point text: readable in the store file, exact when read back.
            row["cost_usd"] = None if price.cost_usd is None else f"{price.cost_usd:f}"
            row["price_state"] = price.state
            row["price_source"] = price.source
            priced.append(row)
        return priced


def _count(row: Mapping[str, Any], field: str) -> int:
    return int(row.get(field) or 0)


def _token_cost(row: Mapping[str, Any], rates: Rates) -> Decimal:
    """The cost of a token row, each token counted once.

    The Usage API's ``input_tokens`` holds every input token, cached and audio
    included; ``cached_input_tokens`` every cached one, audio included;
    ``input_audio_tokens`` the uncached audio and ``cached_input_audio_tokens``
    the cached audio; ``output_tokens`` every output token, reasoning and audio
    included, and ``output_audio_tokens`` the audio part.

    Raises:
        _Gap: the row has audio tokens and the price data no audio rate, or the
            price data prices the model at $0.
    """
    input_tokens = _count(row, "input_tokens")
    cached = min(_count(row, "cached_input_tokens"), input_tokens)
    cached_audio = min(_count(row, "cached_input_audio_tokens"), cached)
    audio_in = min(_count(row, "input_audio_tokens"), input_tokens - cached)
    # Embeddings have no output; a count there would be a misread row.
    output = 0 if row.get("endpoint") == "embeddings" else _count(row, "output_tokens")
    audio_out = min(_count(row, "output_audio_tokens"), output)
    if rates.state != OVERRIDE and not (
        rates.input or rates.cached_input or rates.output
    ):
        # A $0 price for a model that is not free is missing data, not a gift;
        # a $0 override is the user's word.
        raise _Gap(f"the price data prices {row.get('model')} at $0")
    if output and not rates.output_known:
        raise _Gap(
            f"your [prices] entry for {row.get('model')} has no output rate, and "
            "the price data does not know the model"
        )
    if (audio_in or cached_audio) and rates.input_audio is None:
        raise _Gap(f"the price data has no audio input rate for {row.get('model')}")
    if audio_out and rates.output_audio is None:
        raise _Gap(f"the price data has no audio output rate for {row.get('model')}")
    cost = (
        (input_tokens - cached - audio_in) * rates.input
        + (cached - cached_audio) * rates.cached_input
        + (output - audio_out) * rates.output
    )
    if audio_in or cached_audio:
        cost += audio_in * rates.input_audio + cached_audio * (
            rates.cached_input_audio or rates.input_audio
        )
    if audio_out:
        cost += audio_out * rates.output_audio
    return cost
