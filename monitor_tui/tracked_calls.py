"""Tracked calls in the store: one usage row per call, identified by its call id,
priced when stored; the latest calls for the live feed and their totals.

A call's row has origin ``tracked`` and width ``call``. Its ``endpoint`` is the
Usage API endpoint that counts such a call (``completions`` for chat completions
and responses, ``embeddings``), so it reads like the organization's rows; ``api``
names the SDK method that made it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from monitor_tui.usage import MAX_COUNT, UsageRow

if TYPE_CHECKING:
    from monitor_tui.price_overrides import PriceOverride
    from monitor_tui.pricing import Pricer
    from monitor_tui.store import Store

TRACKED = "tracked"
"""The origin of tracked calls' rows."""
CALL_WIDTH = "call"
"""The width of a tracked call's row: the call itself, not a bucket."""

USAGE_ENDPOINT_OF_API = {
    "chat.completions": "completions",
    "responses": "completions",
    "embeddings": "embeddings",
}
"""The SDK methods the tracker records, and the Usage API endpoint of each."""

RECORD_COUNTS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
)
"""The token counts of a spool record; cached input is part of input, reasoning
and audio output part of output, as the API counts them."""

MAX_TEXT = 200
"""Longest model, label or service tier kept from a record."""
RECENT_SPANS_DAYS = (1, 7, 31, 366, None)
"""How far back the live feed looks, widening until it has enough calls."""


@dataclass(frozen=True)
class TrackedCall:
    """One tracked call, as the live feed shows it."""

    call_id: str
    at: datetime
    """When the call was made (aware, UTC)."""
    api: str
    model: str | None
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    service_tier: str | None
    latency_ms: float | None
    """Until the whole answer was read (for a stream, its last chunk)."""
    label: str | None
    cost_usd: Decimal | None
    """None when the model could not be priced, or the tokens are unknown."""
    price_state: str | None
    usage_known: bool = True
    """False for a stream stopped (or failed) before its usage came: its
    tokens are unknown, not zero."""

    @classmethod
    def from_row(cls, row: UsageRow) -> TrackedCall:
        cost = row.get("cost_usd")
        return cls(
            call_id=row["call_id"],
            at=datetime.fromtimestamp(row.get("time", row["start"]), UTC),
            api=row.get("api") or "",
            model=row.get("model"),
            input_tokens=row["input_tokens"],
            cached_input_tokens=row["cached_input_tokens"],
            output_tokens=row["output_tokens"],
            reasoning_tokens=int(row.get("reasoning_tokens") or 0),
            service_tier=row.get("service_tier"),
            latency_ms=row.get("latency_ms"),
            label=row.get("label"),
            cost_usd=None if cost is None else Decimal(cost),
            price_state=row.get("price_state"),
            usage_known=row.get("usage_known", True),
        )


@dataclass(frozen=True)
class LabelTotal:
    """The tracked calls of one label."""

    label: str | None
    calls: int
    spend_usd: Decimal
    """The priced calls' cost; a lower bound when ``unpriced_calls`` > 0."""
    unpriced_calls: int


@dataclass(frozen=True)
class TrackedTotals:
    """What the tracked calls of a span add up to."""

    calls: int
    spend_usd: Decimal
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    unpriced_models: tuple[str, ...]
    """Models of calls that could not be priced; they add nothing to spend."""
    labels: tuple[LabelTotal, ...]
    """By label, the most expensive first."""

    @property
    def spend_is_lower_bound(self) -> bool:
        """Some calls could not be priced, so the real spend is higher."""
        return bool(self.unpriced_models)


# From spool records to rows


def _text(record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"a record whose {name} is not text")
    return value[:MAX_TEXT]


def _count(record: dict[str, Any], name: str) -> int:
    value = record.get(name, 0)
    if type(value) is not int or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"a record whose {name} is not a count")
    return value


def call_row(record: Any) -> UsageRow:
    """Turn one spool record into the usage row of its call (not priced yet).

    Raises:
        ValueError: the record is not one the tracker writes; the message says
            why, without the record (which may hold a label the user chose).
    """
    if not isinstance(record, dict):
        raise ValueError("a record that is not an object")
    # Versions rise only when a record can no longer be read as before; fields a
    # newer tracker adds are ignored.
    if type(record.get("v")) is not int or record["v"] < 1:
        raise ValueError("a record without a version")
    call_id = record.get("call_id")
    if not isinstance(call_id, str) or not 0 < len(call_id) <= 100:
        raise ValueError("a record without a call id")
    api = record.get("api")
    if api not in USAGE_ENDPOINT_OF_API:
        raise ValueError("a record of an API the tracker does not record")
    moment = record.get("time")
    if (
        isinstance(moment, bool)
        or not isinstance(moment, int | float)
        or not math.isfinite(moment)
        or not 0 < moment < 2**33
    ):
        raise ValueError("a record without a time")
    latency = record.get("latency_ms")
    if latency is not None and (
        isinstance(latency, bool)
        or not isinstance(latency, int | float)
        or not 0 <= latency < 10**9
    ):
        raise ValueError("a record whose latency is not a duration")
    counts = {name: _count(record, name) for name in RECORD_COUNTS}
    # Records of trackers before this field always had their usage.
    usage_known = record.get("usage_known", True)
    if type(usage_known) is not bool:
        raise ValueError("a record whose usage_known is not true or false")
    return {
        "origin": TRACKED,
        "endpoint": USAGE_ENDPOINT_OF_API[api],
        "width": CALL_WIDTH,
        "start": int(moment),
        "call_id": call_id,
        "time": float(moment),
        "api": api,
        "model": _text(record, "model"),
        "label": _text(record, "label"),
        "service_tier": _text(record, "service_tier"),
        "input_tokens": counts["input_tokens"],
        "cached_input_tokens": counts["cached_input_tokens"],
        "output_tokens": counts["output_tokens"],
        "input_audio_tokens": counts["input_audio_tokens"],
        "output_audio_tokens": counts["output_audio_tokens"],
        "requests": 1,
        "reasoning_tokens": counts["reasoning_tokens"],
        "latency_ms": None if latency is None else float(latency),
        "usage_known": usage_known,
    }


@cache
def _pricer(overrides: tuple[PriceOverride, ...] = ()) -> Pricer:
    from monitor_tui.pricing import Pricer

    return Pricer({override.model: override for override in overrides})


def store_calls(
    store: Store,
    rows: Iterable[UsageRow],
    *,
    now: int,
    price_overrides: Mapping[str, PriceOverride] | None = None,
) -> int:
    """Price and store the rows of calls not stored yet; a call already stored
    (the same call id) is left as it is.

    The caller must keep other writers of tracked rows out meanwhile (``ingest``
    holds the spool's reader lock): the rows already stored are read, then
    written back with the new ones.

    Returns:
        How many calls were stored that were not stored before.
    """
    by_endpoint: dict[str, dict[str, UsageRow]] = {}
    for row in rows:
        by_endpoint.setdefault(row["endpoint"], {}).setdefault(row["call_id"], row)
    stored = 0
    for endpoint, calls in by_endpoint.items():
        # The store replaces every row of a window, so the window is kept to the
        # seconds of these calls and what is already there is written back.
        start = min(row["start"] for row in calls.values())
        end = max(row["start"] for row in calls.values()) + 1
        kept = {
            doc["call_id"]: dict(doc)
            for doc in store.usage_rows(TRACKED, CALL_WIDTH, start, end)
            if doc.get("width") == CALL_WIDTH
            and doc["endpoint"] == endpoint
            and isinstance(doc.get("call_id"), str)
        }
        new = [row for call_id, row in calls.items() if call_id not in kept]
        if not new:
            continue
        overrides = tuple((price_overrides or {}).values())
        # A call whose usage never came (a stream stopped early) is unpriced,
        # with that reason: the pricer says so for every such row.
        _pricer(overrides).price_rows(new)
        store.replace_usage(
            TRACKED, endpoint, CALL_WIDTH, (start, end), [*kept.values(), *new], now=now
        )
        stored += len(new)
    return stored


# Reading


def tracked_rows(store: Store, start: int, end: int) -> list[UsageRow]:
    """The rows of the calls made in [start, end) (epoch seconds); read-only."""
    return [
        row
        for row in store.usage_rows(TRACKED, CALL_WIDTH, start, end)
        if row.get("width") == CALL_WIDTH
    ]


def recent_calls(
    store: Store, limit: int = 50, *, now: int | None = None
) -> list[TrackedCall]:
    """The latest ``limit`` tracked calls, the newest first."""
    moment = int(time.time()) if now is None else now
    rows: list[UsageRow] = []
    for days in RECENT_SPANS_DAYS:
        start = 0 if days is None else moment - days * 86400
        # A little past now: a program's clock may run slightly ahead.
        rows = tracked_rows(store, start, moment + 3600)
        if len(rows) >= limit:
            break
    rows.sort(key=lambda row: (row.get("time", row["start"]), row["call_id"]))
    return [TrackedCall.from_row(row) for row in reversed(rows[-limit:])]


def tracked_totals(store: Store, start: int, end: int) -> TrackedTotals:
    """Add up the calls made in [start, end) (epoch seconds)."""
    rows = tracked_rows(store, start, end)
    spend = Decimal(0)
    unpriced: set[str] = set()
    labels: dict[str | None, list[Any]] = {}
    for row in rows:
        line = labels.setdefault(row.get("label"), [0, Decimal(0), 0])
        line[0] += 1
        if row.get("cost_usd") is None:
            unpriced.add(row.get("model") or "(no model)")
            line[2] += 1
        else:
            cost = Decimal(row["cost_usd"])
            spend += cost
            line[1] += cost
    by_label = sorted(
        (LabelTotal(label, *line) for label, line in labels.items()),
        key=lambda total: (-total.spend_usd, -total.calls, total.label or ""),
    )
    return TrackedTotals(
        calls=len(rows),
        spend_usd=spend,
        input_tokens=sum(row["input_tokens"] for row in rows),
        cached_input_tokens=sum(row["cached_input_tokens"] for row in rows),
        output_tokens=sum(row["output_tokens"] for row in rows),
        reasoning_tokens=sum(int(row.get("reasoning_tokens") or 0) for row in rows),
        unpriced_models=tuple(sorted(unpriced)),
        labels=tuple(by_label),
    )
