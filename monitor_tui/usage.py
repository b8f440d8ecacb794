"""Usage rows and cost rows: the one normalized record every source produces.

A usage row is one result of one bucket of one Usage API endpoint. Its identity is
(origin, endpoint, width, bucket start, every grouping dimension of the endpoint);
reading the same bucket again replaces its rows, never adds to them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

log = logging.getLogger(__name__)

WIDTH_SECONDS = {"1m": 60, "1h": 3600, "1d": 86400}
"""Seconds in each bucket width the API knows."""


TOKEN_COUNTS = {
    "input_tokens": "input_tokens",
    "input_cached_tokens": "cached_input_tokens",
    "output_tokens": "output_tokens",
    "input_audio_tokens": "input_audio_tokens",
    "output_audio_tokens": "output_audio_tokens",
    "num_model_requests": "requests",
}
"""API result field -> row field of the counts every row carries.

The row says ``cached_input_tokens`` and ``requests`` because those are the names
of the report, which users read. Rows of endpoints without tokens store these as
0, so any code that sums tokens or requests reads every row alike."""
COUNT_FIELDS = tuple(TOKEN_COUNTS.values())
"""The counts every stored usage row has."""

VOLUME_FIELDS = (
    "cached_input_audio_tokens",
    "images",
    "characters",
    "seconds",
    "usage_bytes",
    "sessions",
    "tool_calls",
)
"""Counts only some endpoints' rows have (and rows stored before they were read
lack); readers take a missing one as 0."""


@dataclass(frozen=True)
class Endpoint:
    """What the app reads from one Usage API endpoint, and how it groups it."""

    name: str
    result_object: str
    dimensions: tuple[str, ...]
    """Every grouping dimension the endpoint returns; part of a row's identity."""
    group_by: tuple[str, ...]
    """The dimensions the app asks the endpoint to group hourly and daily rows by;
    only ones it accepts, since the API answers 400 to any other."""
    counts: Mapping[str, str]
    """API result field -> row field of each count the endpoint returns."""
    widths: tuple[str, ...]
    """The bucket widths the app syncs."""
    minute_group_by: tuple[str, ...] = ()
    """Coarser grouping for minute rows, which only feed the burn rate."""
    volume: str | None = None
    """The row field that measures an endpoint priced by something other than
    tokens (images, characters...); None for token endpoints."""
    unit: str | None = None
    """What a sum of ``volume`` over the period is called in the report."""

    @property
    def has_requests(self) -> bool:
        """True when the endpoint counts model requests."""
        return "requests" in self.counts.values()


_WHO = ("project_id", "user_id", "api_key_id")
_REQUESTS = {"num_model_requests": "requests"}
# user_id is never grouped by: per-user rows multiply the row count and no view
# shows users.
_GROUP_WHO = ("project_id", "api_key_id")

COMPLETIONS = Endpoint(
    name="completions",
    result_object="organization.usage.completions.result",
    dimensions=(*_WHO, "model", "batch", "service_tier"),
    group_by=(*_GROUP_WHO, "model", "batch", "service_tier"),
    counts={
        **TOKEN_COUNTS,
        "input_cached_audio_tokens": "cached_input_audio_tokens",
    },
    widths=("1h", "1m"),
    minute_group_by=("model", "batch", "service_tier"),
)
EMBEDDINGS = Endpoint(
    name="embeddings",
    result_object="organization.usage.embeddings.result",
    dimensions=(*_WHO, "model"),
    # The API answers 400 to batch or service_tier here.
    group_by=(*_GROUP_WHO, "model"),
    counts={"input_tokens": "input_tokens", **_REQUESTS},
    widths=("1h", "1m"),
    minute_group_by=("model",),
)
# The endpoints below are read in daily buckets only: their volume is small
# beside tokens, and no view needs them by the hour.
MODERATIONS = Endpoint(
    name="moderations",
    result_object="organization.usage.moderations.result",
    dimensions=(*_WHO, "model"),
    group_by=(*_GROUP_WHO, "model"),
    counts={"input_tokens": "input_tokens", **_REQUESTS},
    widths=("1d",),
)
IMAGES = Endpoint(
    name="images",
    result_object="organization.usage.images.result",
    dimensions=(*_WHO, "model", "size", "source"),
    # Size and source set an image's price.
    group_by=(*_GROUP_WHO, "model", "size", "source"),
    counts={"images": "images", **_REQUESTS},
    widths=("1d",),
    volume="images",
    unit="images",
)
AUDIO_SPEECHES = Endpoint(
    name="audio_speeches",
    result_object="organization.usage.audio_speeches.result",
    dimensions=(*_WHO, "model"),
    group_by=(*_GROUP_WHO, "model"),
    counts={"characters": "characters", **_REQUESTS},
    widths=("1d",),
    volume="characters",
    unit="characters",
)
AUDIO_TRANSCRIPTIONS = Endpoint(
    name="audio_transcriptions",
    result_object="organization.usage.audio_transcriptions.result",
    dimensions=(*_WHO, "model"),
    group_by=(*_GROUP_WHO, "model"),
    counts={"seconds": "seconds", **_REQUESTS},
    widths=("1d",),
    volume="seconds",
    unit="seconds",
)
VECTOR_STORES = Endpoint(
    name="vector_stores",
    result_object="organization.usage.vector_stores.result",
    dimensions=("project_id",),
    group_by=("project_id",),
    counts={"usage_bytes": "usage_bytes"},
    widths=("1d",),
    volume="usage_bytes",
    # Each daily bucket holds the bytes stored that day: their sum over days is
    # storage over time, which is what storage is billed by.
    unit="byte_days",
)
CODE_INTERPRETER_SESSIONS = Endpoint(
    name="code_interpreter_sessions",
    result_object="organization.usage.code_interpreter_sessions.result",
    dimensions=("project_id",),
    group_by=("project_id",),
    counts={"num_sessions": "sessions"},
    widths=("1d",),
    volume="sessions",
    unit="sessions",
)
FILE_SEARCH_CALLS = Endpoint(
    name="file_search_calls",
    result_object="organization.usage.file_searches.result",
    dimensions=(*_WHO, "vector_store_id"),
    # Not by vector_store_id: a row per store multiplies rows no view shows.
    group_by=_GROUP_WHO,
    counts={"num_requests": "tool_calls"},
    widths=("1d",),
    volume="tool_calls",
    unit="tool_calls",
)
WEB_SEARCH_CALLS = Endpoint(
    name="web_search_calls",
    result_object="organization.usage.web_searches.result",
    dimensions=(*_WHO, "model", "context_level"),
    # The context level sets a search's price.
    group_by=(*_GROUP_WHO, "model", "context_level"),
    counts={**_REQUESTS, "num_requests": "tool_calls"},
    widths=("1d",),
    volume="tool_calls",
    unit="tool_calls",
)

USAGE_ENDPOINTS = {
    e.name: e
    for e in (
        COMPLETIONS,
        EMBEDDINGS,
        MODERATIONS,
        IMAGES,
        AUDIO_SPEECHES,
        AUDIO_TRANSCRIPTIONS,
        VECTOR_STORES,
        CODE_INTERPRETER_SESSIONS,
        FILE_SEARCH_CALLS,
        WEB_SEARCH_CALLS,
    )
}
"""The usage endpoints the app syncs, by name."""
TOKEN_ENDPOINTS = frozenset(n for n, e in USAGE_ENDPOINTS.items() if e.volume is None)
"""The endpoints counted in tokens: their rows make the report's ``models``."""

COST_DIMENSIONS = ("project_id", "line_item", "api_key_id")
COSTS_RESULT_OBJECT = "organization.costs.result"

UsageRow = dict[str, Any]
"""A usage row as stored: identity fields, counts, and its price.

Keys: ``origin``, ``endpoint``, ``width``, ``start`` (epoch seconds, UTC), the
endpoint's dimensions, the counts in ``COUNT_FIELDS`` and the endpoint's own
counts (some of ``VOLUME_FIELDS``), and once priced
``cost_usd`` (decimal string or None), ``price_state`` and ``price_source``.
"""

CostRow = dict[str, Any]
"""A Costs API row: ``origin``, ``start``, the cost dimensions, ``amount``
(exact decimal string) and ``currency``."""


def align(epoch: int, width: str) -> int:
    """Return the start of the UTC bucket of ``width`` that contains ``epoch``."""
    step = WIDTH_SECONDS[width]
    return epoch - epoch % step


def page_buckets(page: Any) -> list[dict[str, Any]]:
    """Return the buckets of an API page, refusing a page of the wrong shape.

    Raises:
        ValueError: the page, a bucket or a result is not what the API sends.
    """
    if not isinstance(page, dict) or not isinstance(page.get("data"), list):
        raise ValueError("the page has no list of buckets")
    for bucket in page["data"]:
        if not isinstance(bucket, dict):
            raise ValueError(f"a bucket is not an object: {bucket!r:.60}")
        start = bucket.get("start_time")
        if isinstance(start, bool) or not isinstance(start, int):
            raise ValueError(f"a bucket has no start time: {start!r:.60}")
        results = bucket.get("results")
        if results is None:
            bucket["results"] = []
        elif not isinstance(results, list) or not all(
            isinstance(result, dict) for result in results
        ):
            raise ValueError("a bucket's results are not a list of objects")
    return page["data"]


CLOCK_SKEW_SECONDS = 120
"""Buckets starting this close to the end of a window may be missing: the API's
clock can be a little behind ours. Later syncs re-read them anyway."""


def check_coverage(starts: list[int], start: int, end: int, width: str) -> None:
    """Check that buckets starting at ``starts`` cover [start, end) exactly once.

    The API returns every bucket of a window, empty ones included; a window with
    a gap or a repeat must not be stored as if it were whole. Only the buckets
    of the last ``CLOCK_SKEW_SECONDS`` may be missing.

    Raises:
        ValueError: buckets are missing, repeated or outside the window.
    """
    step = WIDTH_SECONDS[width]
    expected = list(range(start, end, step))
    got = sorted(starts)
    required = sum(1 for moment in expected if moment < end - CLOCK_SKEW_SECONDS)
    if got != expected[: len(got)] or len(got) < required:
        raise ValueError(
            f"expected {len(expected)} {width} buckets from {start}, got "
            f"{len(got)}; nothing of this window was stored"
        )


def usage_identity(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Return the tuple that identifies a usage row."""
    endpoint = USAGE_ENDPOINTS[row["endpoint"]]
    dims = tuple(row.get(d) for d in endpoint.dimensions)
    return (row["origin"], row["endpoint"], row["width"], row["start"], *dims)


VOLUME_ENDPOINTS = frozenset(
    name for name, e in USAGE_ENDPOINTS.items() if e.volume is not None
)
"""The endpoints not counted in tokens."""


def is_volume_row(row: Mapping[str, Any]) -> bool:
    """True for a row of an endpoint not counted in tokens."""
    return row.get("endpoint") in VOLUME_ENDPOINTS


STOPPED_STREAMS = " (stopped streams)"
"""Added to a model's name for its recorded calls whose usage never came."""


def usage_name(row: Mapping[str, Any]) -> str | None:
    """The model a row counts under in breakdowns by model, or None.

    Usage not counted in tokens is named by its endpoint too: a web search's
    model also runs token usage, whose line must not take in searches that have
    no token price, and vector storage has no model at all. Recorded calls
    whose usage is unknown (a stream stopped early) get a line of their own, so
    that the model's priced calls keep their cost.
    """
    model = row.get("model")
    if row.get("endpoint") in VOLUME_ENDPOINTS:
        return f"{row['endpoint']} {model}" if model else str(row["endpoint"])
    if row.get("usage_known") is False:
        return f"{model or '?'}{STOPPED_STREAMS}"
    return model or None


def total_tokens(row: Mapping[str, Any]) -> int:
    """Input plus output tokens; cached input is already inside input."""
    return int(row.get("input_tokens") or 0) + int(row.get("output_tokens") or 0)


MAX_COUNT = 10**15
"""More tokens than any organization uses in one bucket: a sign of a bad page."""
MAX_AMOUNT = Decimal(10) ** 10
"""More dollars than one day's line can cost: a sign of a bad page."""


class UnreadableResult(ValueError):
    """One result of a bucket cannot be used; it is skipped and counted, and the
    rest of the page is kept."""


def _count(result: Mapping[str, Any], field: str) -> int:
    value = result.get(field)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnreadableResult(f"{field} is not a number")
    if value != value or not 0 <= value <= MAX_COUNT or value != int(value):
        raise UnreadableResult(f"{field} is negative, fractional or implausibly large")
    return int(value)


def parse_usage_buckets(
    buckets: Iterable[Mapping[str, Any]],
    endpoint: Endpoint,
    width: str,
    origin: str,
    skipped: Counter[str] | None = None,
) -> Iterator[UsageRow]:
    """Turn the ``data`` buckets of a Usage API page into usage rows.

    Missing optional counts are 0, and so are the token counts of an endpoint
    that has none. A result of an object this endpoint does not
    return, or with a count that cannot be one (negative, fractional, not a
    number, beyond any real bucket), is skipped rather than failing the sync:
    it is counted in ``skipped`` by reason and logged once per page, and the
    screen says totals may be low.
    """
    skipped = Counter() if skipped is None else skipped
    found: Counter[str] = Counter()
    for bucket in buckets:
        start = int(bucket["start_time"])
        for result in bucket.get("results") or ():
            if result.get("object") != endpoint.result_object:
                found[
                    f"a result of unknown kind {str(result.get('object'))!r:.60}"
                ] += 1
                continue
            row: UsageRow = {
                "origin": origin,
                "endpoint": endpoint.name,
                "width": width,
                "start": start,
            }
            for dim in endpoint.dimensions:
                row[dim] = result.get(dim)
            row.update(dict.fromkeys(COUNT_FIELDS, 0))
            try:
                for api_field, row_field in endpoint.counts.items():
                    row[row_field] = _count(result, api_field)
            except UnreadableResult as exc:
                found[str(exc)] += 1
                continue
            yield row
    _warn_skipped(endpoint.name, found)
    skipped.update(found)


def _warn_skipped(what: str, skipped: Counter[str]) -> None:
    for reason, count in skipped.items():
        log.warning("skipped %d %s results: %s", count, what, reason)


def parse_amount(value: Any) -> Decimal:
    """Read a Costs API amount exactly, whether it came as a string or a number."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"amount is not a number: {value!r}")
    try:
        # str() of a float is its shortest round-trip form, so no digits are
        # invented.
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"amount is not a number: {value!r:.60}") from exc
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValueError(f"amount is not a plausible sum of money: {value!r:.60}")
    return amount


def parse_cost_buckets(
    buckets: Iterable[Mapping[str, Any]],
    origin: str,
    skipped: Counter[str] | None = None,
) -> Iterator[CostRow]:
    """Turn the ``data`` buckets of a Costs API page into cost rows; a result
    without a usable amount is skipped and counted, as for usage."""
    skipped = Counter() if skipped is None else skipped
    found: Counter[str] = Counter()
    for bucket in buckets:
        start = int(bucket["start_time"])
        for result in bucket.get("results") or ():
            if result.get("object") != COSTS_RESULT_OBJECT:
                found[
                    f"a result of unknown kind {str(result.get('object'))!r:.60}"
                ] += 1
                continue
            amount = result.get("amount")
            try:
                if not isinstance(amount, dict):
                    raise ValueError("a cost without an amount")
                value = parse_amount(amount.get("value"))
            except ValueError as exc:
                found[str(exc).split(":")[0]] += 1
                continue
            row: CostRow = {"origin": origin, "start": start}
            for dim in COST_DIMENSIONS:
                row[dim] = result.get(dim)
            row["amount"] = f"{value:f}"
            row["currency"] = str(amount.get("currency") or "usd").lower()
            yield row
    _warn_skipped("costs", found)
    skipped.update(found)
