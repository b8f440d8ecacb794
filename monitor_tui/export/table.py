"""What an export holds: a range's usage summed by hour, day, model, project or
API key, with the totals and the report's metadata, ready for any format."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor_tui.analytics import Range
from monitor_tui.analytics.tally import Totals, tally, totals
from monitor_tui.export.coverage import Coverage, read_coverage
from monitor_tui.export_choices import GROUPINGS
from monitor_tui.names import Names, read_names
from monitor_tui.pricing import combined_state
from monitor_tui.report import billed_usd, data_state, period_usage_rows
from monitor_tui.store import Store
from monitor_tui.tracked_calls import CALL_WIDTH
from monitor_tui.usage import WIDTH_SECONDS, UsageRow, usage_name

HOUR = WIDTH_SECONDS["1h"]


KEY_COLUMNS = {
    "hour": ("start", "end"),
    "day": ("date", "start", "end"),
    "model": ("model",),
    "project": ("project_id", "project_name"),
    "api_key": ("api_key_id", "api_key_name"),
}
"""The columns that say what each row is, by grouping; ids and names apart."""
COUNT_COLUMNS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "requests",
    "cost_usd",
    "priced",
    "price_state",
)
"""The columns every row has, named as the report's ``models`` name them."""
VOLUME_COLUMNS = {
    "images": ("images", "images"),
    "speech_characters": ("audio_speeches", "characters"),
    "transcription_seconds": ("audio_transcriptions", "seconds"),
    "vector_store_byte_days": ("vector_stores", "usage_bytes"),
    "code_interpreter_sessions": ("code_interpreter_sessions", "sessions"),
    "file_search_calls": ("file_search_calls", "tool_calls"),
    "web_search_calls": ("web_search_calls", "tool_calls"),
}
"""Column -> (endpoint, row field) of the usage not counted in tokens. Named for
the endpoint, since web and file search both count ``tool_calls``; after the
token columns, so a reader of the older columns finds them where they were."""

_ID_FIELDS = {"model": "model", "project": "project_id", "api_key": "api_key_id"}
"""The usage row field each grouping by name sums over."""


@dataclass(frozen=True)
class ExportRow:
    """One group's usage: a time slot, or one model, project or API key."""

    key: str | None
    """The model name, project id or key id (None for usage that names none);
    the local date (``2026-12-04``) for ``day``; None for ``hour``."""
    start: datetime | None
    """The slot's start (aware UTC) for ``hour`` and ``day``; None otherwise."""
    end: datetime | None
    """The slot's end, exclusive; None for groupings by name."""
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    requests: int
    cost_usd: Decimal | None
    """The cost of its priced rows; None when none of its rows has a price."""
    priced: bool
    """True when every row has a cost; else ``cost_usd`` is a lower bound."""
    price_state: str
    """``priced``, ``override`` (some row at the user's rates), ``free`` (every
    row free) or ``unpriced`` (some row is), as the report says it."""
    volume: tuple[int, ...] = (0,) * len(VOLUME_COLUMNS)
    """The sums of ``VOLUME_COLUMNS``, in their order."""


@dataclass(frozen=True)
class ExportTable:
    """Everything a CSV or JSON export says about one range."""

    range: Range
    zone: ZoneInfo
    """The display zone: days are its local days, and times are shown in it."""
    group_by: str
    """One of ``GROUPINGS``."""
    generated_at: datetime
    source: str
    """``openai`` or ``demo``, as the report says it."""
    last_sync_at: datetime | None
    data_state: str
    """``complete``, ``partial`` or ``empty``, as the report decides it."""
    totals: Totals
    billed_usd: Decimal | None
    """The Costs API's amounts for the UTC days starting in the range; None
    until the costs of all those days have been read."""
    rows: tuple[ExportRow, ...]
    project: str | None = None
    """The project the export is limited to (``""``: usage without a project);
    None for every project."""
    read_from: datetime | None = None
    """Where the usage read into the store begins; None if none was read. A
    range that starts before it is ``partial``: the days before were not read."""
    read_until: datetime | None = None
    """Where the usage read into the store ends: the last sync."""
    names: Names = field(default_factory=Names)
    """Project and key names for the ``project_name`` and ``api_key_name``
    columns, which are empty for an id without a known name."""

    @property
    def nothing_read(self) -> bool:
        """True when no usage has been read into the store yet."""
        return self.read_from is None

    @property
    def unread_before(self) -> datetime | None:
        """Where the read history begins, when the range starts before it."""
        if self.read_from is not None and self.read_from > self.range.start:
            return self.read_from
        return None

    def local(self, moment: datetime | None) -> str | None:
        """``moment`` as ISO 8601 with the display zone's offset, to the second."""
        if moment is None:
            return None
        return moment.astimezone(self.zone).replace(microsecond=0).isoformat()

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of a row's fields, in order, as CSV and JSON call them."""
        return (*KEY_COLUMNS[self.group_by], *COUNT_COLUMNS, *VOLUME_COLUMNS)

    def values(self, row: ExportRow) -> tuple[str | int | bool | Decimal | None, ...]:
        """A row's values in the order of ``columns``; money as ``Decimal``."""
        if self.group_by == "hour":
            keys: tuple[str | None, ...] = (self.local(row.start), self.local(row.end))
        elif self.group_by == "day":
            keys = (row.key, self.local(row.start), self.local(row.end))
        elif self.group_by == "model":
            keys = (row.key,)
        elif self.group_by == "project":
            keys = (row.key, self.names.project_name(row.key))
        else:
            keys = (row.key, self.names.key_name(row.key))
        return (
            *keys,
            row.input_tokens,
            row.cached_input_tokens,
            row.output_tokens,
            row.requests,
            row.cost_usd,
            row.priced,
            row.price_state,
            *row.volume,
        )


def _price_state(rows: list[UsageRow]) -> tuple[Decimal | None, bool, str]:
    """The cost of ``rows``' priced part, whether all are priced, and the state."""
    costs = [Decimal(r["cost_usd"]) for r in rows if r.get("cost_usd") is not None]
    priced = len(costs) == len(rows)
    state = combined_state(rows) if rows else "priced"
    return (sum(costs, Decimal(0)) if costs else None), priced, state


def _row(
    key: str | None,
    rows: list[UsageRow],
    start: datetime | None = None,
    end: datetime | None = None,
) -> ExportRow:
    cost, priced, state = _price_state(rows)
    return ExportRow(
        key=key,
        start=start,
        end=end,
        input_tokens=sum(r["input_tokens"] for r in rows),
        cached_input_tokens=sum(r["cached_input_tokens"] for r in rows),
        output_tokens=sum(r["output_tokens"] for r in rows),
        requests=sum(r["requests"] for r in rows),
        cost_usd=cost if rows else Decimal(0),
        priced=priced,
        price_state=state,
        volume=tuple(
            sum(r.get(field, 0) for r in rows if r["endpoint"] == endpoint)
            for endpoint, field in VOLUME_COLUMNS.values()
        ),
    )


def _by_name(rows: list[UsageRow], field: str) -> list[ExportRow]:
    groups: dict[str | None, list[UsageRow]] = {}
    for row in rows:
        key = usage_name(row) if field == "model" else row.get(field) or None
        groups.setdefault(key, []).append(row)
    lines = [_row(key, group) for key, group in groups.items()]
    # As the Analytics breakdowns: the most expensive first, then the most tokens.
    lines.sort(
        key=lambda line: (
            -(line.cost_usd or 0),
            -line.input_tokens - line.output_tokens,
            line.key or "",
        )
    )
    return lines


def _by_hour(rows: list[UsageRow], read: tuple[int, int] | None) -> list[ExportRow]:
    """One row per bucket start: hourly buckets, and the daily buckets counted
    before an endpoint's hourly history, which cannot say their hour; recorded
    calls by the hour they were made in.

    The hours of ``read`` (the hourly history in the range) are all listed, those
    without usage with zeros; hours not read are left out rather than shown as
    hours without usage.
    """
    groups: dict[tuple[int, int], list[UsageRow]] = {}
    if read is not None:
        first = -(-read[0] // HOUR) * HOUR
        for start in range(first, read[1], HOUR):
            groups[(start, HOUR)] = []
    for row in rows:
        if row["width"] == CALL_WIDTH:  # a recorded call counts in its hour
            slot = (row["start"] - row["start"] % HOUR, HOUR)
        else:
            slot = (row["start"], WIDTH_SECONDS[row["width"]])
        groups.setdefault(slot, []).append(row)
    return [
        _row(
            None,
            group,
            datetime.fromtimestamp(start, UTC),
            datetime.fromtimestamp(start + length, UTC),
        )
        for (start, length), group in sorted(groups.items())
    ]


def _local_days(
    span: Range, zone: ZoneInfo
) -> Iterable[tuple[date, datetime, datetime]]:
    """Each local day the range touches, with the part of it inside the range."""
    day = span.start.astimezone(zone).date()
    last = (span.end - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        after = day + timedelta(days=1)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        next_midnight = datetime(after.year, after.month, after.day, tzinfo=zone)
        yield day, max(midnight, span.start), min(next_midnight, span.end)
        day = after


def _by_day(
    rows: list[UsageRow], span: Range, zone: ZoneInfo, read: tuple[int, int] | None
) -> list[ExportRow]:
    """One row per local day of the range, days without usage included, so a
    chart of the column has no holes; a day none of which was read (``read``:
    the part of the range read) is left out rather than shown as zero."""
    groups: dict[date, list[UsageRow]] = {}
    for row in rows:
        day = datetime.fromtimestamp(row["start"], zone).date()
        groups.setdefault(day, []).append(row)
    lines = []
    for day, start, end in _local_days(span, zone):
        was_read = read is not None and (
            read[0] < end.timestamp() and start.timestamp() < read[1]
        )
        if day in groups or was_read:
            lines.append(_row(day.isoformat(), groups.get(day, []), start, end))
    return lines


def group_rows(
    rows: list[UsageRow],
    group_by: str,
    span: Range,
    zone: ZoneInfo,
    coverage: Coverage,
) -> list[ExportRow]:
    """Sum usage rows into the export's rows.

    Args:
        rows: the range's usage rows, each counted once (``period_usage_rows``).
        group_by: one of ``GROUPINGS``.
        span: the range, whose local days the ``day`` grouping lists.
        zone: the display zone.
        coverage: what has been read, so that only days and hours read are
            listed without usage.

    Raises:
        ValueError: ``group_by`` is not one of ``GROUPINGS``.
    """
    start, end = span.epochs
    if group_by == "hour":
        return _by_hour(rows, coverage.hourly_part(start, end))
    if group_by == "day":
        return _by_day(rows, span, zone, coverage.read_part(start, end))
    if group_by in _ID_FIELDS:
        return _by_name(rows, _ID_FIELDS[group_by])
    raise ValueError(f"{group_by!r} is not one of {', '.join(GROUPINGS)}")


def _billed(
    store: Store,
    origin: str,
    span: Range,
    project: str | None,
    coverage: Coverage,
) -> Decimal | None:
    """The bill of the range (of ``project`` only, when one is given); None when
    the costs of some of its days were never read."""
    start, end = span.epochs
    if not coverage.costs_cover(start, end):
        return None
    if project is None:
        return billed_usd(store, origin, start, end)[0]
    return sum(
        (
            Decimal(row["amount"])
            for row in store.cost_rows(origin, start, end)
            if row["currency"] == "usd" and (row.get("project_id") or "") == project
        ),
        Decimal(0),
    )


def _state(
    store: Store,
    origin: str,
    rows: list[UsageRow],
    span: Range,
    coverage: Coverage,
    now: datetime,
) -> str:
    """The report's data state, and ``partial`` for a range that reaches past
    what has been read, since its unread days would otherwise pass for days
    without usage. A store that never read anything keeps the report's state
    (``empty``, unless a first sync is under way)."""
    start, end = span.epochs
    state = data_state(store, origin, rows, end, int(now.timestamp()))
    if not coverage.nothing_read and not coverage.covers(start, end):
        return "partial"
    return state


def _moment(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def build_table(
    store: Store,
    origin: str,
    span: Range,
    zone: ZoneInfo,
    group_by: str,
    now: datetime,
    *,
    project: str | None = None,
) -> ExportTable:
    """Read the store once and build the export of ``span`` grouped by ``group_by``.

    The rows are those the report counts (hourly where the hourly history
    reaches, daily before it), so their sums equal the report's totals.

    Args:
        project: count only this project's usage (``""``: usage without a
            project), as the Analytics tab's filter does; None for all.
    """
    rows = period_usage_rows(store, origin, *span.epochs)
    if project is not None:
        rows = [row for row in rows if (row.get("project_id") or "") == project]
    coverage = read_coverage(store, origin)
    last = (store.last_sync(origin) or {}).get("last_ok_at")
    return ExportTable(
        range=span,
        zone=zone,
        group_by=group_by,
        generated_at=now,
        source=origin,
        last_sync_at=_moment(last),
        data_state=_state(store, origin, rows, span, coverage, now),
        totals=totals(tally(rows)),
        billed_usd=_billed(store, origin, span, project, coverage),
        rows=tuple(group_rows(rows, group_by, span, zone, coverage)),
        project=project,
        read_from=_moment(coverage.usage_from),
        read_until=_moment(coverage.usage_until),
        names=read_names(store, origin),
    )
