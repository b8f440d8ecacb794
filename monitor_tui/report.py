"""The month so far: spend, tokens, burn rate, forecast and budget, from the store.

Totals come from hourly rows where an endpoint's hourly history reaches and from
daily rows only before it; minute rows feed the burn rate and never a total.
Endpoints counted in something other than tokens (images, speech characters...)
are summed per endpoint, model and unit as the period's usage volume.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from monitor_tui.billed_gap import BilledGap, billed_gap
from monitor_tui.money import json_money
from monitor_tui.names import NO_PROJECT, Names, read_names
from monitor_tui.period import BillingPeriod
from monitor_tui.pricing import combined_state, state_of
from monitor_tui.store import Store
from monitor_tui.tracked_calls import TRACKED, tracked_rows
from monitor_tui.usage import (
    USAGE_ENDPOINTS,
    CostRow,
    UsageRow,
    align,
    is_volume_row,
    total_tokens,
    usage_name,
)

BURN_RATE_SLACK_SECONDS = 180
"""A burn rate is shown only if minute buckets were read this recently: a sync
every minute keeps it; hours offline make it unknown rather than zero."""

NO_BILL_FOR_TRACKED = (
    "OpenAI's daily costs need an admin key; recorded calls are estimated only"
)

REVISABLE_HOURS = 2
"""The API may still revise the current and the previous hour."""


@dataclass(frozen=True)
class ModelLine:
    """One model's share of the period."""

    model: str
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    requests: int
    cost_usd: Decimal | None
    price_state: str
    price_source: str | None = None
    """Where the price came from, or why there is none."""

    @property
    def priced(self) -> bool:
        """True when every row of the model has a cost."""
        return self.cost_usd is not None


@dataclass(frozen=True)
class VolumeLine:
    """The period's usage of one endpoint counted in something other than
    tokens, for one model (or none, for endpoints without models)."""

    endpoint: str
    model: str | None
    unit: str
    """``images``, ``characters``, ``seconds``, ``byte_days``, ``sessions`` or
    ``tool_calls``."""
    quantity: int
    requests: int | None
    """Model requests; None for endpoints that do not count them."""
    cost_usd: Decimal | None
    """None when some of its rows could not be priced."""
    price_state: str


@dataclass(frozen=True)
class Report:
    """Everything ``monitor-tui report`` says about the current billing period."""

    period: BillingPeriod
    now: datetime
    source: str
    last_sync_at: datetime | None
    spend_usd: Decimal
    spend_is_lower_bound: bool
    billed_usd: Decimal | None
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    requests: int
    burn_rate_tokens_per_min: Decimal | None
    burn_rate_usd_per_hour: Decimal | None
    forecast_usd: Decimal
    forecast_recent_usd: Decimal
    budget_usd: Decimal | None
    budget_crossing_at: datetime | None
    unpriced_models: tuple[str, ...]
    data_state: str
    models: tuple[ModelLine, ...]
    project_spend: tuple[tuple[str, Decimal], ...] = ()
    """Estimated spend of the period by project id (``(no project)`` for usage
    without one), highest first."""
    skipped_results: int = 0
    """Results the last sync could not read (left out of every total)."""
    billed_other_currencies: tuple[str, ...] = ()
    """Currencies of cost rows left out of ``billed_usd``, which is in USD."""
    tracked_spend_usd: Decimal | None = None
    """Spend of the calls this machine's programs recorded with ``track``, in the
    period: a share of ``spend_usd``, never added to it. None when not read."""
    tracked_calls: int = 0
    """How many calls were recorded with ``track`` in the period."""
    usage_volume: tuple[VolumeLine, ...] = ()
    """Usage of the endpoints not counted in tokens; ``models`` has the rest."""
    billed_gap: BilledGap | None = None
    """How far the bill is from the estimate, and why."""
    names: Names = field(default_factory=Names)
    """The project and API key names known when the report was built."""

    def project_lines(self) -> tuple[tuple[str | None, str, Decimal], ...]:
        """(project id or None, what to call it, spend) for each project with
        spend, highest first; a project without a known name is called by its
        id."""
        lines = []
        for project, spend in self.project_spend:
            project_id = None if project == NO_PROJECT else project
            lines.append((project_id, self.names.project_label(project_id), spend))
        return tuple(lines)

    def to_json(self) -> dict[str, Any]:
        """The report as the documented JSON object (money as 6-place strings)."""

        def when(moment: datetime | None) -> str | None:
            if moment is None:
                return None
            return self.period.local(moment).replace(microsecond=0).isoformat()

        def rate(value: Decimal | None) -> float | None:
            return None if value is None else float(round(value, 1))

        return {
            "period_start": when(self.period.start),
            "period_end": when(self.period.end),
            "timezone": self.period.zone.key,
            "source": self.source,
            "last_sync_at": when(self.last_sync_at),
            "spend_usd": json_money(self.spend_usd),
            "spend_is_lower_bound": self.spend_is_lower_bound,
            "billed_usd": json_money(self.billed_usd),
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens,
            "requests": self.requests,
            "burn_rate_tokens_per_min": rate(self.burn_rate_tokens_per_min),
            "burn_rate_usd_per_hour": json_money(self.burn_rate_usd_per_hour),
            "forecast_usd": json_money(self.forecast_usd),
            "forecast_recent_usd": json_money(self.forecast_recent_usd),
            "budget_usd": json_money(self.budget_usd),
            "budget_crossing_at": when(self.budget_crossing_at),
            "unpriced_models": list(self.unpriced_models),
            "data_state": self.data_state,
            "skipped_results": self.skipped_results,
            "billed_other_currencies": list(self.billed_other_currencies),
            "tracked_spend_usd": json_money(self.tracked_spend_usd),
            "tracked_calls": self.tracked_calls,
            "billed_gap": (
                None
                if self.billed_gap is None
                else self.billed_gap.to_json(json_money, when)
            ),
            "projects": [
                {
                    "project_id": project,
                    "name": self.names.project_name(project),
                    "spend_usd": json_money(spend),
                }
                for project, _, spend in self.project_lines()
            ],
            "models": [
                {
                    "model": line.model,
                    "input_tokens": line.input_tokens,
                    "cached_input_tokens": line.cached_input_tokens,
                    "output_tokens": line.output_tokens,
                    "requests": line.requests,
                    "cost_usd": json_money(line.cost_usd),
                    "priced": line.priced,
                    "price_state": line.price_state,
                    "price_source": line.price_source,
                }
                for line in self.models
            ],
            "usage_volume": [
                {
                    "endpoint": line.endpoint,
                    "model": line.model,
                    "unit": line.unit,
                    "quantity": line.quantity,
                    "requests": line.requests,
                    "cost_usd": json_money(line.cost_usd),
                    "price_state": line.price_state,
                }
                for line in self.usage_volume
            ],
        }


def period_usage_rows(
    store: Store, origin: str, start: int, end: int
) -> list[UsageRow]:
    """Return the rows that make the totals of [start, end), each counted once.

    Each endpoint's hourly rows cover its hourly history; daily rows are used
    only for the time before it, so no hour is counted twice. Tracked calls
    are a row each.
    """
    if origin == TRACKED:
        return tracked_rows(store, start, end)
    splits = {}
    for name in USAGE_ENDPOINTS:
        mark = store.watermark(origin, name, "1h")
        splits[name] = (
            end if mark is None else min(max(start, mark["synced_from"]), end)
        )
    # One pass over each width's rows: a 90-day range holds tens of thousands.
    rows = [
        r
        for r in store.usage_rows(origin, "1h", start, end)
        if r["start"] >= splits.get(r["endpoint"], end)
    ]
    if any(split > start for split in splits.values()):
        rows.extend(
            r
            for r in store.usage_rows(origin, "1d", start, end)
            if r["start"] < splits.get(r["endpoint"], start)
        )
    return rows


def _cost(rows: Iterable[UsageRow]) -> Decimal:
    return sum(
        (Decimal(r["cost_usd"]) for r in rows if r.get("cost_usd") is not None),
        Decimal(0),
    )


def _model_lines(rows: list[UsageRow]) -> tuple[ModelLine, ...]:
    # One pass over the rows: a month of a busy organization is tens of
    # thousands of them, read before the Live tab can paint.
    sums: dict[str, list] = {}
    for row in rows:
        name = usage_name(row) or "(no model)"
        acc = sums.get(name)
        if acc is None:
            # tokens in, cached, out, requests, cost, unpriced rows, states,
            # sources of priced rows, sources of unpriced rows
            acc = sums[name] = [0, 0, 0, 0, Decimal(0), 0, set(), set(), set()]
        acc[0] += row["input_tokens"]
        acc[1] += row["cached_input_tokens"]
        acc[2] += row["output_tokens"]
        acc[3] += row["requests"]
        cost = row.get("cost_usd")
        source = row.get("price_source")
        if cost is None:
            acc[5] += 1
            if source:
                acc[8].add(str(source))
        else:
            acc[4] += Decimal(cost)
            acc[6].add(row.get("price_state"))
            if source:
                acc[7].add(str(source))
    lines = []
    for model, acc in sums.items():
        unpriced = bool(acc[5])
        state = state_of(acc[6] | {"unpriced"} if unpriced else acc[6])
        # The reason a model has no price matters most; else where its price
        # came from.
        sources = sorted(acc[8] if unpriced else acc[7])
        lines.append(
            ModelLine(
                model=model,
                input_tokens=acc[0],
                cached_input_tokens=acc[1],
                output_tokens=acc[2],
                requests=acc[3],
                cost_usd=None if unpriced else acc[4],
                price_state=state,
                price_source="; ".join(sources) or None,
            )
        )
    lines.sort(key=lambda line: (-(line.cost_usd or 0), line.model))
    return tuple(lines)


def volume_lines(rows: list[UsageRow]) -> tuple[VolumeLine, ...]:
    """Sum the rows of endpoints not counted in tokens per endpoint and model,
    in the order the endpoints are synced, then by model."""
    grouped: dict[tuple[str, str | None], list[UsageRow]] = {}
    for row in rows:
        if is_volume_row(row):
            key = (row["endpoint"], row.get("model") or None)
            grouped.setdefault(key, []).append(row)
    order = list(USAGE_ENDPOINTS)
    lines = []
    for (name, model), group in sorted(
        grouped.items(), key=lambda item: (order.index(item[0][0]), item[0][1] or "")
    ):
        endpoint = USAGE_ENDPOINTS[name]
        field, unit = str(endpoint.volume), str(endpoint.unit)
        unpriced = any(r.get("cost_usd") is None for r in group)
        state = combined_state(group)
        lines.append(
            VolumeLine(
                endpoint=name,
                model=model,
                unit=unit,
                quantity=sum(r.get(field, 0) for r in group),
                requests=(
                    sum(r["requests"] for r in group) if endpoint.has_requests else None
                ),
                cost_usd=None if unpriced else _cost(group),
                price_state=state,
            )
        )
    return tuple(lines)


def _project_spend(rows: list[UsageRow]) -> tuple[tuple[str, Decimal], ...]:
    spend: dict[str, Decimal] = {}
    for row in rows:
        if row.get("cost_usd") is not None:
            project = row.get("project_id") or NO_PROJECT
            spend[project] = spend.get(project, Decimal(0)) + Decimal(row["cost_usd"])
    return tuple(sorted(spend.items(), key=lambda item: (-item[1], item[0])))


def _burn_rate(
    store: Store, origin: str, now: int
) -> tuple[Decimal | None, Decimal | None]:
    """Tokens per minute and dollars per hour over the 60 minutes before the
    current minute; None when those minutes have not been read (no minute data
    yet, or the last sync is older than the window)."""
    minute = align(now, "1m")
    if origin == TRACKED:
        # Each call is known to the second as soon as it is ingested.
        rows = period_usage_rows(store, origin, minute - 3600, minute)
        tokens = sum(total_tokens(r) for r in rows)
        return Decimal(tokens) / 60, _cost(rows)
    read_until = _read_until(store, origin, "1m")
    if not read_until or min(read_until) < minute - BURN_RATE_SLACK_SECONDS:
        return None, None
    rows = store.usage_rows(origin, "1m", minute - 3600, minute)
    tokens = sum(total_tokens(r) for r in rows)
    return max(Decimal(tokens) / 60, Decimal(0)), max(_cost(rows), Decimal(0))


def _read_until(store: Store, origin: str, width: str) -> list[int]:
    """How far each usage endpoint has been read at ``width``, where it has."""
    marks = [store.watermark(origin, name, width) for name in USAGE_ENDPOINTS]
    return [mark["synced_until"] for mark in marks if mark]


def _recent_rate(store: Store, origin: str, now: int) -> Decimal:
    """Dollars per second over the last 24 hours that have been read.

    The 24 hours end at the last hourly read, not at ``now``: hours not read yet
    would otherwise count as hours without spend. Hourly buckets make them 23
    whole hours and the current one as far as it has gone.
    """
    if origin == TRACKED:
        rows = period_usage_rows(store, origin, now - 24 * 3600, now)
        return _cost(rows) / (24 * 3600)
    read_until = min([now, *_read_until(store, origin, "1h")])
    since = align(read_until, "1h") - 23 * 3600
    # TODO: endpoints read only in daily buckets add today's bucket (from UTC
    # midnight) here, not a 24-hour share: their recent rate is low in the
    # morning until they are read by the hour or spread over the day.
    rows = period_usage_rows(store, origin, since, read_until)
    return _cost(rows) / (read_until - since)


def data_state(
    store: Store, origin: str, rows: list[UsageRow], period_end: int, now: int
) -> str:
    """``partial`` when the last sync did not finish or the span reaches hours
    the API may still revise, ``empty`` without usage, else ``complete``."""
    last = store.last_sync(origin)
    if last is not None and last.get("ok") is not True:
        return "partial"
    if not rows:
        return "empty"
    if origin == TRACKED:
        return "complete"  # a recorded call is never revised
    revisable_from = align(now, "1h") - (REVISABLE_HOURS - 1) * 3600
    if period_end > revisable_from:
        return "partial"
    return "complete"


def billed_usd(
    store: Store, origin: str, start: int, end: int
) -> tuple[Decimal | None, set[str]]:
    """The Costs API's USD amounts for the UTC days starting in [start, end)
    (None before costs have been read), and the other currencies seen there,
    which are never converted: an exchange rate would be a guess."""
    if store.watermark(origin, "costs", "1d") is None:
        return None, set()
    return _billed(store.cost_rows(origin, start, end))


def _billed(cost_rows: list[CostRow]) -> tuple[Decimal, set[str]]:
    billed = sum(
        (Decimal(r["amount"]) for r in cost_rows if r["currency"] == "usd"),
        Decimal(0),
    )
    return billed, {r["currency"] for r in cost_rows} - {"usd"}


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def build_report(
    store: Store,
    origin: str,
    period: BillingPeriod,
    now: datetime,
    budget_usd: Decimal | None = None,
) -> Report:
    """Compute the report of ``period`` as it stands at ``now`` from the store."""
    start, end = int(period.start.timestamp()), int(period.end.timestamp())
    at = int(now.timestamp())
    rows = period_usage_rows(store, origin, start, end)
    spend = _cost(rows)
    lines = _model_lines([r for r in rows if not is_volume_row(r)])
    volume = volume_lines(rows)
    # Only lines of ``models`` are named: a web search's model is the model
    # that searched, whose tokens may well be priced, and usage such as vector
    # storage has no model. A volume line says its own price state.
    unpriced = tuple(sorted(line.model for line in lines if not line.priced))
    lower_bound = bool(unpriced) or any(v.cost_usd is None for v in volume)

    elapsed = max(min(at, end) - start, 0)
    length = end - start
    forecast = spend * length / elapsed if elapsed else spend
    forecast_recent = spend + _recent_rate(store, origin, at) * max(end - at, 0)

    crossing: datetime | None = None
    if budget_usd is not None:
        if spend >= budget_usd:
            crossing = now
        elif spend > 0 and elapsed:
            reach = start + float(budget_usd / spend * elapsed)
            crossing = _at(reach) if reach < end else None

    billed, other_currencies = billed_usd(store, origin, start, end)
    if origin == TRACKED:
        gap = BilledGap(None, None, None, (NO_BILL_FOR_TRACKED,))
    else:
        gap = billed_gap(
            rows,
            store.cost_rows(origin, start, end) if billed is not None else [],
            billed,
            period.start,
            other_currencies,
        )

    last = store.last_sync(origin) or {}
    tokens_per_min, usd_per_hour = _burn_rate(store, origin, at)
    return Report(
        period=period,
        now=now,
        source=origin,
        last_sync_at=_at(last["last_ok_at"]) if last.get("last_ok_at") else None,
        spend_usd=spend,
        spend_is_lower_bound=lower_bound,
        billed_usd=billed,
        input_tokens=sum(r["input_tokens"] for r in rows),
        cached_input_tokens=sum(r["cached_input_tokens"] for r in rows),
        output_tokens=sum(r["output_tokens"] for r in rows),
        requests=sum(r["requests"] for r in rows),
        burn_rate_tokens_per_min=tokens_per_min,
        burn_rate_usd_per_hour=usd_per_hour,
        forecast_usd=forecast,
        forecast_recent_usd=forecast_recent,
        budget_usd=budget_usd,
        budget_crossing_at=crossing,
        unpriced_models=unpriced,
        data_state=data_state(store, origin, rows, end, at),
        models=lines,
        project_spend=_project_spend(rows),
        skipped_results=last["skipped"] if type(last.get("skipped")) is int else 0,
        billed_other_currencies=tuple(sorted(other_currencies)),
        billed_gap=gap,
        names=read_names(store, origin),
        usage_volume=volume,
    )


def time_left(period: BillingPeriod, now: datetime) -> timedelta:
    """Time until the period ends (zero once it has)."""
    return max(period.end - now, timedelta(0))
