"""Why the estimate and the bill differ: the estimate prices usage rows at list
prices; the bill is the Costs API's daily amounts. They never match exactly, and
the user should see by how much and why, not guess.

Each reason is given only when it applies, with the money it accounts for where
that can be told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from monitor_tui.money import screen_money
from monitor_tui.usage import CostRow, UsageRow, is_volume_row

DAY = 86400

RESIDUAL_SHARE = Decimal("0.005")
"""A difference over the same days below this share of the bill is noise."""
RESIDUAL_FLOOR = Decimal("0.01")


@dataclass(frozen=True)
class BilledGap:
    """The difference between the bill and the estimate, and its reasons."""

    difference_usd: Decimal | None
    """Billed minus estimated; None before costs have been read."""
    billed_through: datetime | None
    """The end of the last UTC day the bill has amounts for."""
    estimate_after_billed_usd: Decimal | None
    """The part of the estimate newer than the bill: the bill's lag."""
    reasons: tuple[str, ...]

    def to_json(self, money: Any, when: Any) -> dict[str, Any]:
        """The gap as the report's JSON names it."""
        return {
            "difference_usd": money(self.difference_usd),
            "billed_through": when(self.billed_through),
            "estimate_after_billed_usd": money(self.estimate_after_billed_usd),
            "reasons": list(self.reasons),
        }


def _cost(rows: Iterable[UsageRow]) -> Decimal:
    return sum(
        (Decimal(r["cost_usd"]) for r in rows if r.get("cost_usd") is not None),
        Decimal(0),
    )


def _names(values: Iterable[str], most: int = 3) -> str:
    names = sorted(set(values))
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _unpriced_reason(rows: list[UsageRow]) -> str | None:
    unpriced = [r for r in rows if r.get("cost_usd") is None]
    if not unpriced:
        return None
    # Other usage by its endpoint, as the Live tab's Prices line names it.
    what = [
        str(r["endpoint"]).replace("_", " ")
        if is_volume_row(r)
        else r.get("model") or "usage without a model"
        for r in unpriced
    ]
    return f"the estimate has no price for {_names(what)}; the bill charges for them"


def _tier_reason(rows: list[UsageRow]) -> str | None:
    derived = [r for r in rows if " price from " in str(r.get("price_source") or "")]
    if not derived:
        return None
    return (
        f"{_names(str(r.get('model')) for r in derived)}: batch or tier rows from "
        "before the price data has that tier's price are estimated at its first "
        "known price"
    )


def _override_reason(rows: list[UsageRow]) -> str | None:
    overridden = [r for r in rows if r.get("price_state") == "override"]
    if not overridden:
        return None
    return (
        f"{_names(str(r.get('model')) for r in overridden)}: priced at your "
        "[prices] rates, which the bill may not use"
    )


def _organization_reason(costs: list[CostRow]) -> str | None:
    unattributed = sum(
        (
            Decimal(r["amount"])
            for r in costs
            if r.get("project_id") is None and r.get("currency") == "usd"
        ),
        Decimal(0),
    )
    if not unattributed:
        return None
    return (
        f"{screen_money(unattributed)} is billed to the organization rather than "
        "a project (such as Scale Tier or credits) and has no usage to estimate "
        "from"
    )


def billed_gap(
    rows: list[UsageRow],
    costs: list[CostRow],
    billed: Decimal | None,
    period_start: datetime,
    other_currencies: Iterable[str] = (),
) -> BilledGap:
    """Compare the period's estimate (its priced ``rows``) with ``billed``.

    Args:
        rows: The period's usage rows, each counted once.
        costs: The period's cost rows.
        billed: The USD sum of ``costs``, or None before costs were read.
        period_start: The period's start, to tell when it is not a UTC day.
        other_currencies: Currencies of cost rows left out of ``billed``.
    """
    if billed is None:
        return BilledGap(
            None, None, None, ("OpenAI's daily costs have not been read yet",)
        )
    estimate = _cost(rows)
    days = [
        r["start"] for r in costs if r.get("currency") == "usd" and Decimal(r["amount"])
    ]
    through = (max(days) // DAY + 1) * DAY if days else None
    newer = [r for r in rows if through is None or r["start"] >= through]
    after_billed = _cost(newer)

    reasons: list[str] = []
    if after_billed:
        if through is None:
            reasons.append(
                "the bill has no amounts for this period yet: it runs about a day "
                "behind usage"
            )
        else:
            reasons.append(
                f"the bill runs behind: it has days up to "
                f"{datetime.fromtimestamp(through - DAY, UTC):%a %d %b} (UTC), and "
                f"{screen_money(after_billed)} of the estimate is newer"
            )
    residual = billed - (estimate - after_billed)
    # Unpriced usage and charges without usage only ever make the bill the
    # higher: named when it is, they explain; named when it is lower, they
    # would point the wrong way.
    for reason in (
        _unpriced_reason(rows) if residual > 0 else None,
        _organization_reason(costs) if residual > 0 else None,
        _tier_reason(rows),
        _override_reason(rows),
    ):
        if reason:
            reasons.append(reason)
    if other_currencies:
        reasons.append(
            f"amounts in {', '.join(sorted(c.upper() for c in other_currencies))} "
            "are left out of the bill shown"
        )
    if period_start.astimezone(UTC).timestamp() % DAY:
        reasons.append(
            "the bill counts whole UTC days, and this period starts at another midnight"
        )
    if abs(residual) > max(RESIDUAL_FLOOR, abs(billed) * RESIDUAL_SHARE):
        side = "above" if residual > 0 else "below"
        yours = (
            "your [prices] rates, "
            if any(r.get("price_state") == "override" for r in rows)
            else ""
        )
        reasons.append(
            f"over the days both cover, the bill is {screen_money(abs(residual))} "
            f"{side} the estimate: {yours}OpenAI recording usage and costs "
            "separately, and discounts, credits and rounding that show only in "
            "the bill"
        )
    return BilledGap(
        difference_usd=billed - estimate,
        billed_through=None
        if through is None
        else datetime.fromtimestamp(through, UTC),
        estimate_after_billed_usd=after_billed,
        reasons=tuple(reasons),
    )
