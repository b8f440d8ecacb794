"""One page of buckets: the records of each bucket aggregated into usage or costs
results, written as the JSON text the API sends.
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .queries import (
    Endpoint,
    Query,
    bucket_bounds,
    bucket_count,
    decode_cursor,
    encode_cursor,
)

# The API reports these dimensions with a value even for records that never name
# one, so a record without them stands for the common case.
_DIMENSION_DEFAULTS = {
    "batch": False,
    "service_tier": "default",
    "api_source": "unlabeled",
}


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is not None, str(value)) for value in key)


def _dimension(record: Mapping[str, Any], name: str) -> Any:
    value = record.get(name)
    return _DIMENSION_DEFAULTS.get(name) if value is None else value


def _passes(record: Mapping[str, Any], filters: Mapping[str, frozenset[Any]]) -> bool:
    return all(_dimension(record, d) in allowed for d, allowed in filters.items())


def as_decimal(value: Any, what: str) -> Decimal:
    """Reads a costs amount or quantity exactly; a ValueError names ``what``."""
    if isinstance(value, bool):
        raise ValueError(f"{what} is not a number: {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} is not a finite number: {value!r}")
    return number


def _to_json(value: Any) -> str:
    """Encodes like ``json.dumps`` but writes a Decimal's exact digits as a number."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        items = (f"{json.dumps(k)}:{_to_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_to_json(v) for v in value) + "]"
    return json.dumps(value)


def render_page(
    endpoint: Endpoint,
    query: Query,
    times: list[int],
    records: list[Mapping[str, Any]],
    now: int,
    *,
    page_cap: int | None,
    amounts_as: str,
    null_optional_fields: bool,
    unknown_result_objects: bool,
    repeat_cursor: bool,
) -> str:
    """Builds one page of buckets for a request that passed every check.

    Args:
        endpoint: The endpoint asked.
        query: The request's parsed query.
        times: The endpoint's record times, sorted.
        records: The endpoint's records, in the order of ``times``.
        now: The server's current time; records from then on are not reported.
        page_cap: At most this many buckets per page, if not None.
        amounts_as: Costs amounts as ``"number"``, ``"string"`` or ``"mixed"``.
        null_optional_fields: Write absent optional counts as null.
        unknown_result_objects: Add a result of an unknown ``object`` to every
            non-empty bucket.
        repeat_cursor: Send back the request's own cursor as ``next_page``.

    Returns:
        The page as JSON text.
    """
    count = bucket_count(query)
    first = decode_cursor(endpoint, query, query.cursor) if query.cursor else 0
    size = query.limit if page_cap is None else min(query.limit, page_cap)
    last = min(first + size, count)
    # Usage from `now` on has not happened yet, whatever the scenario holds.
    visible = bisect.bisect_left(times, now)
    number_turn = itertools.cycle((True, False))

    data = []
    for index in range(first, last):
        start, end = bucket_bounds(query, index)
        low = bisect.bisect_left(times, start, 0, visible)
        rows = records[low : bisect.bisect_left(times, end, low, visible)]
        if endpoint.name == "costs":
            results = _cost_results(endpoint, query, rows, number_turn, amounts_as)
        else:
            results = _usage_results(endpoint, query, rows, null_optional_fields)
        if results and unknown_result_objects:
            results.append({"object": "organization.usage.mystery.result"})
        bucket = {"object": "bucket", "start_time": start, "end_time": end}
        bucket["results"] = results
        data.append(bucket)

    has_more = last < count
    next_page = encode_cursor(endpoint, query, last) if has_more else None
    if repeat_cursor:
        has_more = True
        next_page = query.cursor or encode_cursor(endpoint, query, first)
    page = {"object": "page", "data": data, "has_more": has_more}
    page["next_page"] = next_page
    if endpoint.name == "costs":
        return _to_json(page)
    return json.dumps(page, separators=(",", ":"))


def _usage_results(
    endpoint: Endpoint,
    query: Query,
    rows: Iterable[Mapping[str, Any]],
    null_optional_fields: bool,
) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], dict[str, int]] = {}
    for record in rows:
        if query.filters and not _passes(record, query.filters):
            continue
        key = tuple([_dimension(record, d) for d in query.group_by])
        totals = groups.get(key)
        if totals is None:
            totals = groups[key] = dict.fromkeys(endpoint.metrics, 0)
        for name in endpoint.metrics:
            totals[name] += record.get(name) or 0
        for name in endpoint.optional_metrics:
            value = record.get(name)
            if value is not None:
                totals[name] = totals.get(name, 0) + value

    results = []
    for key in sorted(groups, key=_sort_key):
        totals = groups[key]
        row: dict[str, Any] = {"object": endpoint.result_object}
        row.update((name, totals[name]) for name in endpoint.metrics)
        for name in endpoint.optional_metrics:
            if name in totals or null_optional_fields:
                row[name] = totals.get(name)
        grouped = dict(zip(query.group_by, key, strict=True))
        row.update((name, grouped.get(name)) for name in endpoint.dimensions)
        results.append(row)
    return results


def _cost_results(
    endpoint: Endpoint,
    query: Query,
    rows: Iterable[Mapping[str, Any]],
    number_turn: Iterable[bool],
    amounts_as: str,
) -> list[dict[str, Any]]:
    # The API reports quantities only per line item; elsewhere they are null.
    by_line_item = "line_item" in query.group_by
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for record in rows:
        if query.filters and not _passes(record, query.filters):
            continue
        currency = record.get("currency") or "usd"
        key = (*(_dimension(record, d) for d in query.group_by), currency)
        totals = groups.setdefault(key, [Decimal(0), None, set()])
        totals[0] += as_decimal(record.get("amount", 0), "costs amount")
        if by_line_item and record.get("quantity") is not None:
            quantity = as_decimal(record["quantity"], "costs quantity")
            totals[1] = quantity if totals[1] is None else totals[1] + quantity
            totals[2].add(record.get("quantity_unit"))

    results = []
    for key, turn in zip(sorted(groups, key=_sort_key), number_turn, strict=False):
        amount, quantity, units = groups[key]
        as_number = amounts_as == "number" or (amounts_as == "mixed" and turn)
        value = amount if as_number else format(amount, "f")
        row: dict[str, Any] = {
            "object": endpoint.result_object,
            "amount": {"value": value, "currency": key[-1]},
        }
        # The key ends with the currency, which is not a dimension.
        grouped = dict(zip(query.group_by, key, strict=False))
        row.update((name, grouped.get(name)) for name in endpoint.dimensions)
        row["quantity"] = quantity
        row["quantity_unit"] = units.pop() if len(units) == 1 else None
        results.append(row)
    return results
