"""A local stand-in for OpenAI's organization Usage and Costs API, for tests.

It answers the real paths, parameters, buckets, pages and errors (as described in
shared/reference/openai-usage-api.md) from a list of fine-grained usage records.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import bisect
import contextlib
import itertools
import json
import re
import socket
import struct
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api_scenarios import busy_org, small_org


@dataclass(frozen=True)
class Endpoint:
    """What one path accepts and returns.

    Attributes:
        name: The path segment, also the ``endpoint`` value of its records.
        result_object: The ``object`` of each result row.
        dimensions: Every dimension a row carries, in output order; each may be
            named in ``group_by``.
        filters: Query parameter name (without ``[]``) to the dimension it filters.
        metrics: Counts every row has.
        optional_metrics: Counts a row has only when some record carried them.
    """

    name: str
    result_object: str
    dimensions: tuple[str, ...]
    filters: Mapping[str, str]
    metrics: tuple[str, ...]
    optional_metrics: tuple[str, ...] = ()


_WHO = ("project_id", "user_id", "api_key_id")
_MODEL = (*_WHO, "model")
_PROJECT = ("project_id",)
_REQUESTS = ("num_model_requests",)
_COMPLETIONS_OPTIONAL = (
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_cache_write_30m_tokens",
    "input_cache_write_12h_tokens",
    "input_uncached_tokens",
    "input_text_tokens",
    "input_cached_text_tokens",
    "input_audio_tokens",
    "input_cached_audio_tokens",
    "input_image_tokens",
    "input_cached_image_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
)


def _endpoint(
    name: str,
    dimensions: tuple[str, ...],
    filtered: tuple[str, ...],
    metrics: tuple[str, ...],
    optional: tuple[str, ...] = (),
    result: str = "",
) -> Endpoint:
    # Filters are named for the plural of their dimension, except the batch flag.
    filters = {(d if d == "batch" else f"{d}s"): d for d in filtered}
    result = result or f"organization.usage.{name}.result"
    return Endpoint(name, result, dimensions, filters, metrics, optional)


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        _endpoint(
            "completions",
            (*_MODEL, "batch", "service_tier", "api_source"),
            (*_MODEL, "batch"),
            ("input_tokens", "output_tokens", *_REQUESTS),
            _COMPLETIONS_OPTIONAL,
        ),
        _endpoint("embeddings", _MODEL, _MODEL, ("input_tokens", *_REQUESTS)),
        _endpoint("moderations", _MODEL, _MODEL, ("input_tokens", *_REQUESTS)),
        _endpoint(
            "images",
            (*_MODEL, "size", "source"),
            (*_MODEL, "size", "source"),
            ("images", *_REQUESTS),
        ),
        _endpoint("audio_speeches", _MODEL, _MODEL, ("characters", *_REQUESTS)),
        _endpoint("audio_transcriptions", _MODEL, _MODEL, ("seconds", *_REQUESTS)),
        _endpoint("vector_stores", _PROJECT, _PROJECT, ("usage_bytes",)),
        _endpoint("code_interpreter_sessions", _PROJECT, _PROJECT, ("num_sessions",)),
        _endpoint(
            "file_search_calls",
            (*_WHO, "vector_store_id"),
            (*_WHO, "vector_store_id"),
            ("num_requests",),
            result="organization.usage.file_searches.result",
        ),
        _endpoint(
            "web_search_calls",
            (*_MODEL, "context_level", "api_source"),
            (*_MODEL, "context_level"),
            (*_REQUESTS, "num_requests"),
            result="organization.usage.web_searches.result",
        ),
        _endpoint(
            "costs",
            ("line_item", "project_id", "api_key_id", "user_id", "api_source"),
            ("line_item", "project_id", "api_key_id"),
            (),
            result="organization.costs.result",
        ),
    )
}

# The API reports these dimensions with a value even for records that never name
# one, so a record without them stands for the common case.
_DIMENSION_DEFAULTS = {
    "batch": False,
    "service_tier": "default",
    "api_source": "unlabeled",
}
_FILTER_CHOICES = {
    "sizes": ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792"),
    "sources": ("image.generation", "image.edit", "image.variation"),
    "context_levels": ("low", "medium", "high"),
    "batch": ("true", "false"),
}
_WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}
# (default, max) buckets per page, per bucket width; costs has its own range.
_LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}
_COSTS_LIMITS = (7, 180)
_SCALARS = ("start_time", "end_time", "bucket_width", "limit", "page")
_INTEGER = re.compile(r"-?[0-9]+")
_USAGE_PREFIX = "/v1/organization/usage/"
_COSTS_PATH = "/v1/organization/costs"
_CURSOR_PREFIX = "page_"
_FORBIDDEN_MESSAGE = (
    "You have insufficient permissions for this operation. "
    "Missing scopes: api.usage.read."
)
_FAULT_ERRORS = {
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    503: ("The server is overloaded or not ready yet.", "server_error", None),
}


class ApiError(Exception):
    """An error answer: an HTTP status with OpenAI's error body.

    Args:
        status: The HTTP status.
        message: The ``error.message`` text.
        type: The ``error.type`` text.
        param: The parameter at fault, if any.
        code: The ``error.code``, if any.
    """

    def __init__(
        self,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {"message": message, "type": type, "param": param, "code": code}
        }


def _bad(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, param=param)


@dataclass
class _Fault:
    status: int | None
    retry_after: float | None
    count: int
    path_contains: str | None
    delay: float
    body: Any
    repeat_cursor: bool


@dataclass(frozen=True)
class _Query:
    start: int
    end: int
    width: int
    limit: int
    group_by: tuple[str, ...]
    filters: Mapping[str, frozenset[Any]]
    cursor: str | None


def _int_param(params: Mapping[str, list[str]], name: str) -> int | None:
    values = params.get(name)
    if not values:
        return None
    if not _INTEGER.fullmatch(values[-1]):
        raise _bad(f"Invalid value for '{name}': expected an integer.", name)
    return int(values[-1])


def _parse_query(endpoint: Endpoint, raw: Mapping[str, list[str]], now: int) -> _Query:
    """Reads a request's query string as the real API does, or raises a 400."""
    # The SDK sends arrays as `name[]=`, `requests` repeats `name=`: both mean one list.
    params: dict[str, list[str]] = {}
    for key, values in raw.items():
        params.setdefault(key.removesuffix("[]"), []).extend(values)
    for name in params:
        if name not in _SCALARS and name != "group_by" and name not in endpoint.filters:
            raise _bad(f"Unrecognized request argument supplied: {name}", name)

    start = _int_param(params, "start_time")
    if start is None:
        raise ApiError(
            400,
            "Missing required parameter: 'start_time'.",
            param="start_time",
            code="missing_required_parameter",
        )
    end = _int_param(params, "end_time")
    end = now if end is None else end
    if start < 0:
        raise _bad("'start_time' must not be negative.", "start_time")
    if end < start:
        raise _bad("'end_time' must not be earlier than 'start_time'.", "end_time")

    width_name = params.get("bucket_width", ["1d"])[-1]
    allowed_widths = ("1d",) if endpoint.name == "costs" else tuple(_WIDTHS)
    if width_name not in allowed_widths:
        raise _bad(
            f"Invalid value for 'bucket_width': '{width_name}'. "
            f"Supported values are: {', '.join(allowed_widths)}.",
            "bucket_width",
        )
    default, most = _COSTS_LIMITS if endpoint.name == "costs" else _LIMITS[width_name]
    limit = _int_param(params, "limit")
    limit = default if limit is None else limit
    if not 1 <= limit <= most:
        raise _bad(
            f"Invalid value for 'limit': {limit}. "
            f"It must be between 1 and {most} for bucket_width {width_name}.",
            "limit",
        )

    return _Query(
        start=start,
        end=end,
        width=_WIDTHS[width_name],
        limit=limit,
        group_by=_parse_group_by(endpoint, params.get("group_by", [])),
        filters=_parse_filters(endpoint, params),
        cursor=params["page"][-1] if params.get("page") else None,
    )


def _parse_group_by(endpoint: Endpoint, values: list[str]) -> tuple[str, ...]:
    wanted: list[str] = []
    # Some collectors send one comma-joined value instead of an array.
    for part in itertools.chain.from_iterable(v.split(",") for v in values):
        part = part.strip()
        if not part or part in wanted:
            continue
        if part not in endpoint.dimensions:
            raise _bad(
                f"Invalid value for 'group_by': '{part}'. Supported values for "
                f"{endpoint.name} are: {', '.join(endpoint.dimensions)}.",
                "group_by",
            )
        wanted.append(part)
    return tuple(wanted)


def _parse_filters(
    endpoint: Endpoint, params: Mapping[str, list[str]]
) -> dict[str, frozenset[Any]]:
    filters: dict[str, frozenset[Any]] = {}
    for name, dimension in endpoint.filters.items():
        values = [v for v in params.get(name, []) if v != ""]
        if name == "batch":
            values = [v.lower() for v in values[-1:]]
        for value in values:
            if name in _FILTER_CHOICES and value not in _FILTER_CHOICES[name]:
                raise _bad(f"Invalid value for '{name}': '{value}'.", name)
        if name == "batch" and values:
            filters[dimension] = frozenset({values[0] == "true"})
        elif values:
            filters[dimension] = frozenset(values)
    return filters


def _bucket_count(query: _Query) -> int:
    if query.end <= query.start:
        return 0
    aligned = query.start - query.start % query.width
    return -(-(query.end - aligned) // query.width)


def _bucket_bounds(query: _Query, index: int) -> tuple[int, int]:
    # Only the first bucket may start off a UTC boundary; the real API does this too.
    aligned = query.start - query.start % query.width
    start = query.start if index == 0 else aligned + index * query.width
    return start, min(aligned + (index + 1) * query.width, query.end)


def _cursor_check(endpoint: Endpoint, query: _Query, head: bytes) -> int:
    return zlib.crc32(head + f"{endpoint.name}/{query.width}".encode())


def _encode_cursor(endpoint: Endpoint, query: _Query, index: int) -> str:
    head = struct.pack(">qq", _bucket_bounds(query, index)[0], query.start)
    tail = struct.pack(">I", _cursor_check(endpoint, query, head))
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(head + tail).decode()


def _decode_cursor(endpoint: Endpoint, query: _Query, cursor: str) -> int:
    """Returns the bucket index a cursor continues at, or raises a 400."""
    invalid = _bad(f"Invalid value for 'page': '{cursor}'.", "page")
    if not cursor.startswith(_CURSOR_PREFIX):
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor.removeprefix(_CURSOR_PREFIX))
    except (binascii.Error, ValueError):
        raise invalid from None
    if len(raw) != 20:
        raise invalid
    next_start, start, check = struct.unpack(">qqI", raw)
    if check != _cursor_check(endpoint, query, raw[:16]) or start != query.start:
        raise invalid
    if next_start == query.start:
        return 0
    aligned = query.start - query.start % query.width
    index, rest = divmod(next_start - aligned, query.width)
    if rest or index < 1:
        raise invalid
    return index


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is not None, str(value)) for value in key)


def _dimension(record: Mapping[str, Any], name: str) -> Any:
    value = record.get(name)
    return _DIMENSION_DEFAULTS.get(name) if value is None else value


def _passes(record: Mapping[str, Any], filters: Mapping[str, frozenset[Any]]) -> bool:
    return all(_dimension(record, d) in allowed for d, allowed in filters.items())


def _decimal(value: Any, what: str) -> Decimal:
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


def _redact(key: str) -> str:
    return f"{key[:3]}...{key[-3:]}" if len(key) >= 12 else "***"


class UsageApiServer:
    """Serves the organization Usage and Costs API on 127.0.0.1 from records.

    A record is a plain dict: ``endpoint`` (a usage endpoint name or ``"costs"``),
    ``time`` (unix seconds of the usage), the endpoint's dimensions (``model``,
    ``project_id``, ...) and its counts (``input_tokens``, ...; for costs
    ``amount`` as a number or numeric string and ``currency``, default ``"usd"``,
    plus optional ``quantity`` and ``quantity_unit``). Records from ``now`` on are
    not reported yet, so moving ``now`` forward makes usage arrive.

    Args:
        records: The scenario's records.
        now: The server's current time in unix seconds; None follows the clock.
        admin_key: The only bearer key accepted; None accepts any bearer.
        forbidden_keys: Keys answered with 403 (a key without ``api.usage.read``).
        page_cap: At most this many buckets per page, whatever the limit asks.
        amounts_as: Costs amounts as ``"number"``, ``"string"`` or ``"mixed"``
            (alternating per result).
        null_optional_fields: Write absent optional counts as null, not omit them.
        unknown_result_objects: Add a result of an unknown ``object`` to every
            non-empty bucket.
        reject_future_end_time: Answer 400 to an ``end_time`` after ``now``, one
            of the two behaviours reported for the real API.
        port: The port to bind; 0 picks a free one.
    """

    def __init__(
        self,
        records: Iterable[Mapping[str, Any]] = (),
        *,
        now: int | None = None,
        admin_key: str | None = "sk-admin-test",
        forbidden_keys: Iterable[str] = (),
        page_cap: int | None = None,
        amounts_as: str = "number",
        null_optional_fields: bool = False,
        unknown_result_objects: bool = False,
        reject_future_end_time: bool = False,
        port: int = 0,
    ) -> None:
        if amounts_as not in ("number", "string", "mixed"):
            raise ValueError(
                f"amounts_as must be number, string or mixed: {amounts_as}"
            )
        if page_cap is not None and page_cap < 1:
            raise ValueError("page_cap must be at least 1")
        self.admin_key = admin_key
        self.forbidden_keys = set(forbidden_keys)
        self.page_cap = page_cap
        self.amounts_as = amounts_as
        self.null_optional_fields = null_optional_fields
        self.unknown_result_objects = unknown_result_objects
        self.reject_future_end_time = reject_future_end_time
        self._now = now
        self._port = port
        self._lock = threading.Lock()
        self._index: dict[str, tuple[list[int], list[Mapping[str, Any]]]] = {}
        self._faults: list[_Fault] = []
        self._requests: list[tuple[str, dict[str, list[str]], int]] = []
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._request_ids = itertools.count(1)
        self.set_records(records)

    @property
    def now(self) -> int:
        """The server's current time: the default ``end_time``."""
        return int(time.time()) if self._now is None else self._now

    @now.setter
    def now(self, value: int | None) -> None:
        self._now = value

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """The SDK's ``base_url`` for this server, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[tuple[str, dict[str, list[str]], int]]:
        """Every request so far as ``(path, params as lists, status)``, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forgets the requests seen so far."""
        with self._lock:
            self._requests.clear()

    def set_records(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replaces every record the server answers from."""
        index = self._build_index({}, records)
        with self._lock:
            self._index = index

    def add_records(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Adds records to those the server answers from."""
        with self._lock:
            current = self._index
        index = self._build_index(current, records)
        with self._lock:
            self._index = index

    def add_fault(
        self,
        status: int | None = 429,
        retry_after: float | None = 2,
        count: int = 1,
        path_contains: str | None = None,
        delay: float = 0.0,
        body: Any = None,
        repeat_cursor: bool = False,
    ) -> None:
        """Makes the next ``count`` matching requests misbehave.

        Args:
            status: The HTTP status to answer with; None gives the normal answer.
            retry_after: Seconds for a ``Retry-After`` header; None sends none.
            count: How many matching requests get this fault.
            path_contains: Match only requests whose path and query contain this.
            delay: Seconds to wait before answering.
            body: The error body: a dict sent as JSON, str or bytes sent as is;
                None sends OpenAI's error body for the status.
            repeat_cursor: Make the normal answer's ``next_page`` the cursor the
                request was sent with, so a client that trusts it loops.
        """
        if status is not None:
            HTTPStatus(status)  # raises ValueError for a status HTTP does not know
        fault = _Fault(
            status, retry_after, count, path_contains, delay, body, repeat_cursor
        )
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Drops every queued fault."""
        with self._lock:
            self._faults.clear()

    def start(self) -> UsageApiServer:
        """Starts serving in a daemon thread; returns the server."""
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        httpd.daemon_threads = True
        httpd.app = self  # type: ignore[attr-defined]
        self._httpd = httpd
        # A short poll keeps stop() quick; the loop is idle most of the time.
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="usage-api-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and closes every open connection."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        # Keep-alive connections would otherwise hold their threads until the
        # client closes them.
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> UsageApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _build_index(
        self,
        current: Mapping[str, tuple[list[int], list[Mapping[str, Any]]]],
        records: Iterable[Mapping[str, Any]],
    ) -> dict[str, tuple[list[int], list[Mapping[str, Any]]]]:
        grouped: dict[str, list[Mapping[str, Any]]] = {
            name: list(rows) for name, (_, rows) in current.items()
        }
        for record in records:
            name = record.get("endpoint")
            when = record.get("time")
            if name not in ENDPOINTS:
                raise ValueError(f"record with unknown endpoint: {record!r}")
            if not isinstance(when, int) or isinstance(when, bool):
                raise ValueError(f"record time must be int unix seconds: {record!r}")
            if name == "costs":
                _decimal(record.get("amount", 0), "costs amount")
            grouped.setdefault(name, []).append(record)
        # Sorted by time, a bucket's records are one bisected slice.
        index = {}
        for name, rows in grouped.items():
            rows.sort(key=lambda r: r["time"])
            index[name] = ([r["time"] for r in rows], rows)
        return index

    def _take_fault(self, target: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path_contains is None or fault.path_contains in target:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _authorize(self, header: str | None) -> None:
        scheme, _, key = (header or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in "
                "an Authorization header using Bearer auth "
                "(i.e. Authorization: Bearer YOUR_KEY).",
            )
        if key in self.forbidden_keys:
            raise ApiError(403, _FORBIDDEN_MESSAGE)
        if self.admin_key is not None and key != self.admin_key:
            raise ApiError(
                401,
                f"Incorrect API key provided: {_redact(key)}.",
                code="invalid_api_key",
            )

    def _answer(
        self, endpoint: Endpoint, params: Mapping[str, list[str]], fault: _Fault | None
    ) -> str:
        """Builds one page of buckets for a request that passed every check."""
        now = self.now
        query = _parse_query(endpoint, params, now)
        if self.reject_future_end_time and query.end > now:
            raise _bad("'end_time' must not be in the future.", "end_time")
        count = _bucket_count(query)
        first = _decode_cursor(endpoint, query, query.cursor) if query.cursor else 0
        size = query.limit if self.page_cap is None else min(query.limit, self.page_cap)
        last = min(first + size, count)
        times, records = self._index.get(endpoint.name, ([], []))
        # Usage from `now` on has not happened yet, whatever the scenario holds.
        visible = bisect.bisect_left(times, now)
        number_turn = itertools.cycle((True, False))

        data = []
        for index in range(first, last):
            start, end = _bucket_bounds(query, index)
            low = bisect.bisect_left(times, start, 0, visible)
            rows = records[low : bisect.bisect_left(times, end, low, visible)]
            if endpoint.name == "costs":
                results = self._cost_results(endpoint, query, rows, number_turn)
            else:
                results = self._usage_results(endpoint, query, rows)
            if results and self.unknown_result_objects:
                results.append({"object": "organization.usage.mystery.result"})
            bucket = {"object": "bucket", "start_time": start, "end_time": end}
            bucket["results"] = results
            data.append(bucket)

        has_more = last < count
        next_page = _encode_cursor(endpoint, query, last) if has_more else None
        if fault is not None and fault.repeat_cursor:
            has_more = True
            next_page = query.cursor or _encode_cursor(endpoint, query, first)
        page = {"object": "page", "data": data, "has_more": has_more}
        page["next_page"] = next_page
        if endpoint.name == "costs":
            return _to_json(page)
        return json.dumps(page, separators=(",", ":"))

    def _usage_results(
        self, endpoint: Endpoint, query: _Query, rows: Iterable[Mapping[str, Any]]
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
                if name in totals or self.null_optional_fields:
                    row[name] = totals.get(name)
            grouped = dict(zip(query.group_by, key, strict=True))
            row.update((name, grouped.get(name)) for name in endpoint.dimensions)
            results.append(row)
        return results

    def _cost_results(
        self,
        endpoint: Endpoint,
        query: _Query,
        rows: Iterable[Mapping[str, Any]],
        number_turn: Iterable[bool],
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
            totals[0] += _decimal(record.get("amount", 0), "costs amount")
            if by_line_item and record.get("quantity") is not None:
                quantity = _decimal(record["quantity"], "costs quantity")
                totals[1] = quantity if totals[1] is None else totals[1] + quantity
                totals[2].add(record.get("quantity_unit"))

        results = []
        for key, turn in zip(sorted(groups, key=_sort_key), number_turn, strict=False):
            amount, quantity, units = groups[key]
            as_number = self.amounts_as == "number" or (
                self.amounts_as == "mixed" and turn
            )
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


class _Handler(BaseHTTPRequestHandler):
    """Turns one HTTP request into one answer of the owning UsageApiServer."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the second
    # waits for the client's delayed ACK and every answer takes 40 ms more.
    disable_nagle_algorithm = True
    server_version = "usage-api-fake/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        # Tests and the benchmark read the console; per-request lines are noise.
        pass

    @property
    def app(self) -> UsageApiServer:
        return self.server.app  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        with self.app._lock:
            self.app._connections.add(self.connection)

    def finish(self) -> None:
        with self.app._lock:
            self.app._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        split = urlsplit(self.path)
        params = parse_qs(split.query, keep_blank_values=True)
        headers: dict[str, str] = {}
        content_type = "application/json"

        fault = self.app._take_fault(self.path)
        try:
            if fault is not None and fault.delay > 0:
                time.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                status = fault.status
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                body, content_type = self._fault_body(fault)
            else:
                self.app._authorize(self.headers.get("Authorization"))
                body = self.app._answer(self._route(split.path), params, fault)
                status = 200
        except ApiError as error:
            status, body = error.status, json.dumps(error.body)
        except Exception:
            # A bug in this server must show up as a failure, never as data.
            traceback.print_exc(file=sys.stderr)
            status, body = 500, json.dumps(ApiError(500, "fake server bug").body)

        # Recorded before answering, so a client that has its answer sees it counted.
        with self.app._lock:
            self.app._requests.append((split.path, params, status))
        self._send(status, body, content_type, headers)

    def _route(self, path: str) -> Endpoint:
        name = None
        if self.command == "GET" and path == _COSTS_PATH:
            name = "costs"
        elif self.command == "GET" and path.startswith(_USAGE_PREFIX):
            name = path.removeprefix(_USAGE_PREFIX)
        if name not in ENDPOINTS or (name == "costs" and path != _COSTS_PATH):
            raise ApiError(404, f"Invalid URL ({self.command} {path})")
        return ENDPOINTS[name]

    @staticmethod
    def _fault_body(fault: _Fault) -> tuple[str | bytes, str]:
        if isinstance(fault.body, (str, bytes)):
            return fault.body, "text/plain; charset=utf-8"
        if fault.body is not None:
            return json.dumps(fault.body), "application/json"
        status = fault.status or 500
        default = (
            HTTPStatus(status).phrase,
            "server_error" if status >= 500 else "invalid_request_error",
            None,
        )
        message, kind, code = _FAULT_ERRORS.get(status, default)
        body = ApiError(status, message, kind, None, code).body
        return json.dumps(body), "application/json"

    def _send(
        self, status: int, body: str | bytes, content_type: str, headers: dict[str, str]
    ) -> None:
        payload = body.encode() if isinstance(body, str) else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-request-id", f"req_{next(self.app._request_ids):08d}")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); nothing is left to tell it.
            self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    """Runs the server in the foreground until interrupted.

    Args:
        argv: Command-line arguments; None reads ``sys.argv``.

    Returns:
        The process exit code.
    """
    parser = argparse.ArgumentParser(
        prog="python -m tests.openai_server",
        description="Serve a fake OpenAI Usage and Costs API on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--admin-key", default="sk-admin-test")
    parser.add_argument("--scenario", choices=("small", "busy"), default="small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--days", type=int, default=90, help="history of --scenario busy"
    )
    args = parser.parse_args(argv)

    now = int(time.time())
    if args.scenario == "busy":
        records = busy_org(now, days=args.days, seed=args.seed)
    else:
        records = small_org(now)
    server = UsageApiServer(records, admin_key=args.admin_key, port=args.port)
    server.start()
    print(f"Fake OpenAI Usage API ({args.scenario}, {len(records)} records)")
    print(f"  base URL: {server.base_url}")
    print("Point the monitor at it with:")
    print(
        f"  OPENAI_BASE_URL={server.base_url} OPENAI_ADMIN_KEY={args.admin_key} "
        "monitor-tui"
    )
    print("Ctrl-C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
