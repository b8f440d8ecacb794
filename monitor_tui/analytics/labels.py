"""The breakdown by label: what the calls recorded with ``track`` cost under each
label their program gave, against the span before."""

from __future__ import annotations

from collections.abc import Iterable

from monitor_tui.analytics.tally import (
    CACHED,
    COST,
    INPUT,
    OUTPUT,
    REQUESTS,
    ZERO,
    BreakdownLine,
    breakdown_lines,
    count_price,
    empty_cell,
)
from monitor_tui.usage import UsageRow


def _by_label(rows: Iterable[UsageRow]) -> dict[str, list]:
    """Label -> its counts, in a tally cell's order."""
    lines: dict[str, list] = {}
    for row in rows:
        sums = lines.get(row.get("label") or "")
        if sums is None:
            sums = lines[row.get("label") or ""] = empty_cell()
        sums[INPUT] += row["input_tokens"]
        sums[CACHED] += row["cached_input_tokens"]
        sums[OUTPUT] += row["output_tokens"]
        sums[REQUESTS] += row["requests"]
        count_price(sums, row)
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
    sums_by_label = _by_label(calls)
    spend = sum((sums[COST] for sums in sums_by_label.values()), ZERO)
    return breakdown_lines(sums_by_label, _by_label(previous), spend)
