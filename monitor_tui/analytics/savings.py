"""What the same work would have cost another way: on a cheaper model of the same
family, or with more of its input cached. Every figure is an estimate, priced at
the list price in force on each day, in the same batch and service tier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from monitor_tui.analytics.tally import (
    CACHED,
    COST,
    INPUT,
    OUTPUT,
    UNPRICED,
    ZERO,
    Tally,
    percent,
)

if TYPE_CHECKING:
    from monitor_tui.pricing import Pricer

MODEL_FAMILIES: dict[str, tuple[str, ...]] = {
    # Each model with the cheaper models of its own family, most capable first.
    # A family shares a generation and an API, so a switch is a change of model
    # name; whether the smaller model does the job well enough is the user's
    # call, which is why every suggestion is labelled an estimate.
    "gpt-5": ("gpt-5-mini", "gpt-5-nano"),
    "gpt-5-mini": ("gpt-5-nano",),
    "gpt-5-pro": ("gpt-5",),
    "gpt-5.1-codex": ("gpt-5.1-codex-mini",),
    "gpt-4.1": ("gpt-4.1-mini", "gpt-4.1-nano"),
    "gpt-4.1-mini": ("gpt-4.1-nano",),
    "gpt-4o": ("gpt-4o-mini",),
    "gpt-4o-audio-preview": ("gpt-4o-mini-audio-preview",),
    "gpt-4o-realtime-preview": ("gpt-4o-mini-realtime-preview",),
    "gpt-4o-search-preview": ("gpt-4o-mini-search-preview",),
    "gpt-realtime": ("gpt-realtime-mini",),
    "o1-pro": ("o1",),
    "o1": ("o1-mini",),
    "o3-pro": ("o3",),
    # o4-mini is the small reasoning model released alongside o3.
    "o3": ("o4-mini",),
    "text-embedding-3-large": ("text-embedding-3-small",),
}
"""OpenAI's model families, by base name: a model and its cheaper siblings."""

_SNAPSHOT_DATE = re.compile(r"-\d{4}-\d{2}-\d{2}$")

CACHE_MIN_INPUT_SHARE = Decimal(1)
"""A model sets the caching target only if it handles at least this percentage
of the range's input: a trickle of requests says little about what is reachable."""


def model_family(model: str) -> str:
    """The base name of ``model``: a dated snapshot such as ``gpt-4o-2024-08-06``
    belongs to ``gpt-4o``."""
    return _SNAPSHOT_DATE.sub("", model)


def cheaper_models(model: str) -> tuple[str, ...]:
    """The cheaper models of ``model``'s family, most capable first; none for a
    fine-tuned model, which only runs on its own base."""
    if model.startswith("ft:"):
        return ()
    return MODEL_FAMILIES.get(model_family(model), ())


@dataclass(frozen=True)
class Suggestion:
    """One way the range could have cost less, as an estimate."""

    kind: str
    """``model`` (run it on ``alternative``) or ``cache`` (cache more input)."""
    model: str
    cost_usd: Decimal
    """What the model's usage cost in the range."""
    estimate_usd: Decimal
    """What it would have cost the other way."""
    alternative: str | None = None
    """The cheaper model, for a ``model`` suggestion."""
    hit_rate: Decimal | None = None
    """The model's cache hit rate in percent, for a ``cache`` suggestion."""
    target_rate: Decimal | None = None
    """The hit rate assumed reachable, for a ``cache`` suggestion."""

    @property
    def saved_usd(self) -> Decimal:
        """How much less it would have cost."""
        return self.cost_usd - self.estimate_usd


@dataclass(frozen=True)
class Savings:
    """The range's savings suggestions, the largest first."""

    suggestions: tuple[Suggestion, ...]
    cache_target: Decimal | None
    """The best cache hit rate (percent) of a model in the range, which every
    other model's caching is estimated at; None when nothing was cached."""
    cache_target_model: str | None
    """The model that reached ``cache_target``."""


# (UTC day number, batch, service tier) -> the cell's counts, for one model.
ModelDays = dict[tuple[int, bool, str | None], list]


def _by_model(counts: Tally) -> dict[str, ModelDays]:
    models: dict[str, ModelDays] = {}
    for (model, _, _, day, batch, tier), cell in counts.cells.items():
        days = models.setdefault(model, {})
        sums = days.get((day, batch, tier))
        if sums is None:
            days[(day, batch, tier)] = list(cell)
        else:
            for position, count in enumerate(cell):
                sums[position] += count
    return models


def _price(
    pricer: Pricer, model: str, days: ModelDays, cached_rate: Decimal | None = None
) -> Decimal | None:
    """What ``days`` cost on ``model``, with ``cached_rate`` percent of input
    cached where that is more than was; None if a day cannot be priced.

    Prices are linear in tokens, so pricing each day's sum prices every row.
    """
    total = ZERO
    for (day, batch, tier), sums in days.items():
        cached = sums[CACHED]
        if cached_rate is not None:
            cached = max(cached, int(sums[INPUT] * cached_rate / 100))
        price = pricer.price(
            {
                "model": model,
                "start": day * 86400,
                "batch": batch,
                "service_tier": tier,
                "input_tokens": sums[INPUT],
                "cached_input_tokens": cached,
                "output_tokens": sums[OUTPUT],
            }
        )
        if price.cost_usd is None:
            return None
        total += price.cost_usd
    return total


def _sum(days: ModelDays, position: int) -> int | Decimal:
    return sum((sums[position] for sums in days.values()), start=0)


def _cheaper_model_suggestions(
    pricer: Pricer, models: dict[str, ModelDays]
) -> Iterable[Suggestion]:
    for model, days in models.items():
        alternatives = cheaper_models(model)
        if not alternatives or _sum(days, UNPRICED):
            continue
        cost = Decimal(_sum(days, COST))
        for alternative in alternatives:
            estimate = _price(pricer, alternative, days)
            if estimate is not None and estimate < cost:
                yield Suggestion("model", model, cost, estimate, alternative)


def _cache_target(models: dict[str, ModelDays]) -> tuple[Decimal | None, str | None]:
    """The best hit rate among the models that handle a real share of input."""
    all_input = sum(_sum(days, INPUT) for days in models.values())
    best: tuple[Decimal, str] | None = None
    for model, days in sorted(models.items()):
        inputs = _sum(days, INPUT)
        share = percent(inputs, all_input)
        rate = percent(_sum(days, CACHED), inputs)
        if share is None or rate is None or share < CACHE_MIN_INPUT_SHARE:
            continue
        if rate and (best is None or rate > best[0]):
            best = (rate, model)
    return best if best is not None else (None, None)


def _caching_suggestions(
    pricer: Pricer, models: dict[str, ModelDays], target: Decimal
) -> Iterable[Suggestion]:
    for model, days in models.items():
        rate = percent(_sum(days, CACHED), _sum(days, INPUT))
        if rate is None or rate >= target or _sum(days, UNPRICED):
            continue
        now = _price(pricer, model, days)
        cached = _price(pricer, model, days, target)
        if now is None or cached is None or cached >= now:
            continue  # a model without a cheaper cached rate gains nothing
        cost = Decimal(_sum(days, COST))
        # The stored cost is what the tab shows; the saving is priced afresh.
        yield Suggestion(
            "cache",
            model,
            cost,
            cost - (now - cached),
            hit_rate=rate,
            target_rate=target,
        )


def estimate_savings(counts: Tally, pricer: Pricer) -> Savings:
    """Every way the usage in ``counts`` could have cost less, largest first.

    A model could have run on each cheaper model of its family
    (``MODEL_FAMILIES``). And each model could have had as large a share of its
    input cached as the best-cached model of the range: the one assumption the
    caching estimates make, stated with them.
    """
    models = _by_model(counts)
    target, target_model = _cache_target(models)
    suggestions = list(_cheaper_model_suggestions(pricer, models))
    if target is not None:
        suggestions.extend(_caching_suggestions(pricer, models, target))
    suggestions.sort(key=lambda s: (-s.saved_usd, s.model, s.alternative or ""))
    return Savings(tuple(suggestions), target, target_model)
