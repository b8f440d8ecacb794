"""The endpoints the fake Usage and Costs API serves, and how it reads a request:
query parameters, group_by, filters, limits, the bucket layout and page cursors.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
_CURSOR_PREFIX = "page_"


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


def bad_request(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, param=param)


@dataclass(frozen=True)
class Query:
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
        raise bad_request(f"Invalid value for '{name}': expected an integer.", name)
    return int(values[-1])


def parse_query(endpoint: Endpoint, raw: Mapping[str, list[str]], now: int) -> Query:
    """Reads a request's query string as the real API does, or raises a 400."""
    # The SDK sends arrays as `name[]=`, `requests` repeats `name=`: both mean one list.
    params: dict[str, list[str]] = {}
    for key, values in raw.items():
        params.setdefault(key.removesuffix("[]"), []).extend(values)
    for name in params:
        if name not in _SCALARS and name != "group_by" and name not in endpoint.filters:
            raise bad_request(f"Unrecognized request argument supplied: {name}", name)

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
        raise bad_request("'start_time' must not be negative.", "start_time")
    if end < start:
        raise bad_request(
            "'end_time' must not be earlier than 'start_time'.", "end_time"
        )

    width_name = params.get("bucket_width", ["1d"])[-1]
    allowed_widths = ("1d",) if endpoint.name == "costs" else tuple(_WIDTHS)
    if width_name not in allowed_widths:
        raise bad_request(
            f"Invalid value for 'bucket_width': '{width_name}'. "
            f"Supported values are: {', '.join(allowed_widths)}.",
            "bucket_width",
        )
    default, most = _COSTS_LIMITS if endpoint.name == "costs" else _LIMITS[width_name]
    limit = _int_param(params, "limit")
    limit = default if limit is None else limit
    if not 1 <= limit <= most:
        raise bad_request(
            f"Invalid value for 'limit': {limit}. "
            f"It must be between 1 and {most} for bucket_width {width_name}.",
            "limit",
        )

    return Query(
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
            raise bad_request(
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
                raise bad_request(f"Invalid value for '{name}': '{value}'.", name)
        if name == "batch" and values:
            filters[dimension] = frozenset({values[0] == "true"})
        elif values:
            filters[dimension] = frozenset(values)
    return filters


def bucket_count(query: Query) -> int:
    if query.end <= query.start:
        return 0
    aligned = query.start - query.start % query.width
    return -(-(query.end - aligned) // query.width)


def bucket_bounds(query: Query, index: int) -> tuple[int, int]:
    # Only the first bucket may start off a UTC boundary; the real API does this too.
    aligned = query.start - query.start % query.width
    start = query.start if index == 0 else aligned + index * query.width
    return start, min(aligned + (index + 1) * query.width, query.end)


def _cursor_check(endpoint: Endpoint, query: Query, head: bytes) -> int:
    return zlib.crc32(head + f"{endpoint.name}/{query.width}".encode())


def encode_cursor(endpoint: Endpoint, query: Query, index: int) -> str:
    head = struct.pack(">qq", bucket_bounds(query, index)[0], query.start)
    tail = struct.pack(">I", _cursor_check(endpoint, query, head))
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(head + tail).decode()


def decode_cursor(endpoint: Endpoint, query: Query, cursor: str) -> int:
    """Returns the bucket index a cursor continues at, or raises a 400."""
    invalid = bad_request(f"Invalid value for 'page': '{cursor}'.", "page")
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
