"""The breakdown by label: what the calls recorded with ``track`` cost under each
label their program gave, against the span before."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from monitor_tui.analytics.tally import ZERO, BreakdownLine, percent
from monitor_tui.usage import UsageRow


def _by_label(rows: Iterable[UsageRow]) -> dict[str, list]:
    """Label -> [input, cached input, output, requests, cost, unpriced rows]."""
    lines: dict[str, list] = {}
    for row in rows:
        sums = lines.setdefault(row.get("label") or "", [0, 0, 0, 0, ZERO, 0])
        sums[0] += row["input_tokens"]
        sums[1] += row["cached_input_tokens"]
        sums[2] += row["output_tokens"]
        sums[3] += row["requests"]
        cost = row.get("cost_usd")
        if cost is None:
            sums[5] += 1
        else:
            sums[4] += Decimal(cost)
    return lines


def label_breakdown(
    calls: Iterable[UsageRow], previous: Iterable[UsageRow]
) -> tuple[BreakdownLine, ...]:
    """One line per label of ``calls`` (``""`` for calls without one), the most
    expensive first; each line's share is of the recorded calls' spend, which
    is all the labels know about.

    Args:
        calls: the rows of the calls recorded in the range.
        previous: those of the span the range is compared with.
    """
    before = {label: sums[4] for label, sums in _by_label(previous).items()}
    sums_by_label = _by_label(calls)
    spend = sum((sums[4] for sums in sums_by_label.values()), ZERO)
    lines = [
        BreakdownLine(
            key=label,
            input_tokens=sums[0],
            cached_input_tokens=sums[1],
            output_tokens=sums[2],
            requests=sums[3],
            cost_usd=sums[4],
            unpriced=bool(sums[5]),
            share=percent(sums[4], spend),
            previous_cost_usd=before.get(label, ZERO),
        )
        for label, sums in sums_by_label.items()
    ]
    lines.sort(
        key=lambda line: (
            -line.cost_usd,
            -line.input_tokens - line.output_tokens,
            line.key,
        )
    )
    return tuple(lines)
