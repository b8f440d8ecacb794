"""Negotiated prices: the config file's ``[prices]`` table, which wins over the
price data for the models it names.

    [prices."gpt-4o"]
    input = 2.00          # dollars per million input tokens
    cached_input = 1.00   # optional; cached input is billed as input without it
    output = 8.00         # optional; the price data's output rate without it

An entry names a model as the Usage API reports it, or without its date suffix
(``gpt-4o`` covers ``gpt-4o-2024-08-06``): the exact name wins over the shorter one.
It sets the rate of every tier and batch row of that model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

RATE_FIELDS = ("input", "cached_input", "output")
REQUIRED_FIELDS = ("input",)
MAX_RATE_PER_MILLION = Decimal(100_000)
"""More than any model costs per million tokens: a typo, not a price."""

_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_PLAIN_NUMBER = re.compile(r"\d+(\.\d+)?")
"""A rate given as text: digits and a decimal point, nothing Python alone reads
as a number (``1_0``, ``1e2``)."""


class PriceOverrideError(ValueError):
    """The ``[prices]`` table cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class PriceOverride:
    """One model's negotiated rates, in dollars per million tokens."""

    model: str
    input: Decimal
    cached_input: Decimal | None
    output: Decimal | None
    """None: output keeps the price data's rate."""


def _rate(model: str, field: str, value: Any) -> Decimal:
    where = f'[prices."{model}"] {field}'
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | str)
        or (isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value.strip()))
    ):
        raise PriceOverrideError(
            f"{where} must be a number of dollars per million, such as 2.50"
        )
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise PriceOverrideError(
            f"{where} must be a number of dollars per million, not {value!r:.40}"
        ) from None
    if not rate.is_finite() or not 0 <= rate <= MAX_RATE_PER_MILLION:
        raise PriceOverrideError(
            f"{where} must be 0 to {MAX_RATE_PER_MILLION} dollars per million"
        )
    return rate


def parse_price_overrides(table: Any) -> dict[str, PriceOverride]:
    """Read the ``[prices]`` table of the config file.

    Raises:
        PriceOverrideError: an entry is not a table of known, plausible rates.
    """
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise PriceOverrideError(
            '[prices] must be a table of models, e.g. [prices."gpt-4o"]'
        )
    overrides = {}
    for model, rates in table.items():
        if not isinstance(rates, Mapping):
            raise PriceOverrideError(
                f'[prices."{model}"] must be a table with input and output rates'
            )
        unknown = sorted(set(rates) - set(RATE_FIELDS))
        if unknown:
            raise PriceOverrideError(
                f'[prices."{model}"]: unknown rate {", ".join(unknown)}; known '
                f"rates are {', '.join(RATE_FIELDS)} (dollars per million tokens)"
            )
        missing = [field for field in REQUIRED_FIELDS if field not in rates]
        if missing:
            raise PriceOverrideError(
                f'[prices."{model}"] needs {" and ".join(missing)} '
                "(dollars per million tokens)"
            )
        if not str(model).strip():
            raise PriceOverrideError(
                '[prices.""] needs a model name between the quotes'
            )
        cached = rates.get("cached_input")
        output = rates.get("output")
        override = PriceOverride(
            model=str(model),
            input=_rate(model, "input", rates["input"]),
            cached_input=None
            if cached is None
            else _rate(model, "cached_input", cached),
            output=None if output is None else _rate(model, "output", output),
        )
        if override.cached_input is not None and override.cached_input > override.input:
            raise PriceOverrideError(
                f'[prices."{model}"] cached_input is above input; cached input is '
                "never dearer"
            )
        overrides[str(model)] = override
    return overrides


def override_for(
    overrides: Mapping[str, PriceOverride], model: str
) -> PriceOverride | None:
    """The override of ``model``: its exact name first, then without its date."""
    found = overrides.get(model)
    if found is None:
        found = overrides.get(_DATE_SUFFIX.sub("", model))
    return found


def overrides_fingerprint(overrides: Mapping[str, PriceOverride]) -> str:
    """A short digest that changes whenever any override changes."""
    import hashlib  # only a sync or a report asks, not a cold start

    text = ";".join(
        f"{o.model}={o.input}/{o.cached_input}/{o.output}"
        for o in sorted(overrides.values(), key=lambda o: o.model)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]
