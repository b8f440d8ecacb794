"""One pass over a span's usage rows: totals, and the breakdowns by model, project
and API key with their share of spend and cache hit rate."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from monitor_tui.names import Names
from monitor_tui.tracked_calls import CALL_WIDTH
from monitor_tui.usage import VOLUME_ENDPOINTS, UsageRow, usage_name

ZERO = Decimal(0)
HUNDRED = Decimal(100)
NO_MODEL = "(no model)"
"""The model of rows that name none, as the report calls it."""


DIMENSIONS = {"model": 0, "project": 1, "key": 2}
"""The breakdowns, by name, and where their value sits in a cell's key."""

# A cell's counts, in this order: input, cached input, output, requests, the cost
# of its priced rows, how many of its rows had no price, how many were priced at
# the user's [prices] rates, and how many were not free.
INPUT, CACHED, OUTPUT, REQUESTS, COST, UNPRICED, OVERRIDDEN, CHARGED = range(8)


def empty_cell() -> list:
    """A cell with nothing counted yet."""
    return [0, 0, 0, 0, ZERO, 0, 0, 0]


def count_price(cell: list, row: UsageRow) -> None:
    """Count ``row``'s cost and price state into ``cell``."""
    cost = row.get("cost_usd")
    state = row.get("price_state")
    if cost is None:
        cell[UNPRICED] += 1
    else:
        cell[COST] += Decimal(cost)
    if state == "override":
        cell[OVERRIDDEN] += 1
    if state != "free":
        cell[CHARGED] += 1


CellKey = tuple[str, str, str, int, bool, str | None]
"""(model, project id, API key id, UTC day number, batch, service tier); a
missing project or key is ``""``."""


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part`` as a percentage of ``whole``; None when ``whole`` is zero."""
    if not whole:
        return None
    return Decimal(part) * HUNDRED / Decimal(whole)


@dataclass
class Tally:
    """A span's usage rows summed into cells and into bucket starts.

    Cells keep what the breakdowns and the savings need (which model, project,
    key, UTC day and price context); bucket starts keep what the hourly pattern
    and the daily trend need, so neither has to walk the rows again.
    """

    cells: dict[CellKey, list] = field(default_factory=dict)
    """Cell key -> its counts, at the positions ``INPUT`` to ``UNPRICED``."""
    buckets: dict[tuple[int, bool], list] = field(default_factory=dict)
    """(bucket start, is hourly) -> [input + output tokens, cost]."""
    rows: int = 0
    """How many rows were summed."""


def tally(rows: Iterable[UsageRow], project: str | None = None) -> Tally:
    """Sum ``rows`` (those of ``project`` only, when one is given; ``""`` means
    rows without a project) into a ``Tally``."""
    result = Tally()
    cells, buckets = result.cells, result.buckets
    count = 0
    for row in rows:
        endpoint = row["endpoint"]
        model = row.get("model")
        if endpoint in VOLUME_ENDPOINTS:  # usage_name, inlined for speed
            model = f"{endpoint} {model}" if model else endpoint
        elif row.get("usage_known") is False:
            model = usage_name(row)
        project_id = row.get("project_id") or ""
        if project is not None and project_id != project:
            continue
        count += 1
        start = row["start"]
        inputs, outputs = row["input_tokens"], row["output_tokens"]
        cost = row.get("cost_usd")
        money = ZERO if cost is None else Decimal(cost)

        key = (
            model or NO_MODEL,
            project_id,
            row.get("api_key_id") or "",
            start // 86400,
            bool(row.get("batch")),
            row.get("service_tier"),
        )
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = empty_cell()
        cell[INPUT] += inputs
        cell[CACHED] += row["cached_input_tokens"]
        cell[OUTPUT] += outputs
        cell[REQUESTS] += row["requests"]
        # count_price, inlined: this loop runs once per row of a 90-day range.
        if cost is None:
            cell[UNPRICED] += 1
        else:
            cell[COST] += money
        state = row.get("price_state")
        if state != "free":
            cell[CHARGED] += 1
            if state == "override":
                cell[OVERRIDDEN] += 1

        width = row["width"]
        if width == CALL_WIDTH:  # a recorded call counts in its hour
            slot = (start - start % 3600, True)
        else:
            slot = (start, width == "1h")
        bucket = buckets.get(slot)
        if bucket is None:
            bucket = buckets[slot] = [0, ZERO]
        bucket[0] += inputs + outputs
        bucket[1] += money
    result.rows = count
    return result


@dataclass(frozen=True)
class Totals:
    """A span's totals, counted as the report counts them."""

    spend_usd: Decimal
    """The cost of the priced rows; a lower bound when some had no price."""
    input_tokens: int
    """Input tokens, cached ones included."""
    cached_input_tokens: int
    output_tokens: int
    requests: int
    unpriced_models: tuple[str, ...]
    """Token models with rows that have no price, so their spend is not
    counted (as the report names them)."""
    unpriced_usage: tuple[str, ...] = ()
    """Usage not counted in tokens that has no price (images, vector storage)."""

    @property
    def spend_is_lower_bound(self) -> bool:
        """True when some rows could not be priced."""
        return bool(self.unpriced_models or self.unpriced_usage)

    @property
    def cache_hit_rate(self) -> Decimal | None:
        """Cached input as a percentage of input; None without input."""
        return percent(self.cached_input_tokens, self.input_tokens)


def totals(counts: Tally) -> Totals:
    """The totals of everything in ``counts``."""
    sums = empty_cell()
    unpriced: set[str] = set()
    volume: set[str] = set()
    for key, cell in counts.cells.items():
        for index in range(5):
            sums[index] += cell[index]
        if cell[UNPRICED]:
            is_volume = key[0].split(" ")[0] in VOLUME_ENDPOINTS
            (volume if is_volume else unpriced).add(key[0])
    return Totals(
        spend_usd=sums[COST],
        input_tokens=sums[INPUT],
        cached_input_tokens=sums[CACHED],
        output_tokens=sums[OUTPUT],
        requests=sums[REQUESTS],
        unpriced_models=tuple(sorted(unpriced)),
        unpriced_usage=tuple(sorted(volume)),
    )


@dataclass(frozen=True)
class BreakdownLine:
    """One model's, project's or API key's share of a range."""

    key: str
    """The model name, project id or key id; ``""`` for rows that name none."""
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    requests: int
    cost_usd: Decimal
    """The cost of its priced rows."""
    unpriced: bool
    """True when some of its rows have no price: ``cost_usd`` is a lower bound."""
    share: Decimal | None
    """Its cost as a percentage of the range's spend; None when nothing was spent."""
    previous_cost_usd: Decimal
    """Its cost in the span the range is compared with."""
    name: str | None = None
    """The project's name, or the key's name and redacted value, when known."""
    overridden: bool = False
    """True when some of its rows are priced at the user's ``[prices]`` rates."""
    free: bool = False
    """True when every row of it is free (moderations)."""

    @property
    def label(self) -> str:
        """What to call it on screen: its name, else its model or id."""
        return self.name or self.key or "(none)"

    @property
    def cache_hit_rate(self) -> Decimal | None:
        """Cached input as a percentage of its input; None without input."""
        return percent(self.cached_input_tokens, self.input_tokens)

    @property
    def cost_change(self) -> Decimal | None:
        """How much its cost changed since the span before, in percent; None
        when it cost nothing then."""
        return percent(self.cost_usd - self.previous_cost_usd, self.previous_cost_usd)


def _fold(counts: Tally, dimension: str) -> dict[str, list]:
    index = DIMENSIONS[dimension]
    lines: dict[str, list] = {}
    for key, cell in counts.cells.items():
        sums = lines.get(key[index])
        if sums is None:
            lines[key[index]] = list(cell)
        else:
            for position, count in enumerate(cell):
                sums[position] += count
    return lines


def _namer(dimension: str, names: Names | None) -> Callable[[str], str | None]:
    if names is None or dimension == "model":
        return lambda key: None
    return names.project_name if dimension == "project" else names.key_name


def breakdown(
    counts: Tally,
    previous: Tally,
    dimension: str,
    spend: Decimal,
    names: Names | None = None,
) -> tuple[BreakdownLine, ...]:
    """The lines of one breakdown (``model``, ``project`` or ``key``), the most
    expensive first, then the most tokens.

    Args:
        counts: the range's tally.
        previous: the tally of the span it is compared with.
        dimension: one of ``DIMENSIONS``.
        spend: the range's total spend, for each line's share.
        names: the project and key names to label the lines with.
    """
    name_of = _namer(dimension, names)
    return breakdown_lines(
        _fold(counts, dimension), _fold(previous, dimension), spend, name_of
    )


def breakdown_lines(
    sums_by_key: dict[str, list],
    previous_by_key: dict[str, list],
    spend: Decimal,
    name_of: Callable[[str], str | None] = lambda key: None,
) -> tuple[BreakdownLine, ...]:
    """One line per key of ``sums_by_key`` (tally cells summed by model,
    project, key or label), the most expensive first, then the most tokens.

    Args:
        sums_by_key: each key's summed cell.
        previous_by_key: the same for the span the range is compared with.
        spend: the spend each line's share is of.
        name_of: what to call a key, where it has a name.
    """
    before = {key: sums[COST] for key, sums in previous_by_key.items()}
    lines = [
        BreakdownLine(
            key=key,
            input_tokens=sums[INPUT],
            cached_input_tokens=sums[CACHED],
            output_tokens=sums[OUTPUT],
            requests=sums[REQUESTS],
            cost_usd=sums[COST],
            unpriced=bool(sums[UNPRICED]),
            overridden=bool(sums[OVERRIDDEN]),
            free=not sums[CHARGED],
            share=percent(sums[COST], spend),
            previous_cost_usd=before.get(key, ZERO),
            name=name_of(key) if key else None,
        )
        for key, sums in sums_by_key.items()
    ]
    lines.sort(
        key=lambda line: (
            -line.cost_usd,
            -line.input_tokens - line.output_tokens,
            line.key,
        )
    )
    return tuple(lines)
