"""The fake API's HTTP server on 127.0.0.1: it routes and authorizes requests,
injects the faults a test queues, and logs every request it answered.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .directory import answer_listing
from .pages import as_decimal, render_page
from .queries import ENDPOINTS, ApiError, Endpoint, bad_request, parse_query

_USAGE_PREFIX = "/v1/organization/usage/"
_COSTS_PATH = "/v1/organization/costs"
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


@dataclass
class _Fault:
    status: int | None
    retry_after: float | None
    count: int
    path_contains: str | None
    delay: float
    body: Any
    repeat_cursor: bool


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
        projects: The projects and their API keys the admin list endpoints
            serve (see ``directory``).
        list_page_cap: At most this many projects or keys per list page.
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
        projects: Iterable[Mapping[str, Any]] = (),
        list_page_cap: int | None = None,
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
        self.projects: list[Mapping[str, Any]] = list(projects)
        """The projects (with their keys) the list endpoints answer from."""
        self.list_page_cap = list_page_cap
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
                as_decimal(record.get("amount", 0), "costs amount")
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
        query = parse_query(endpoint, params, now)
        if self.reject_future_end_time and query.end > now:
            raise bad_request("'end_time' must not be in the future.", "end_time")
        times, records = self._index.get(endpoint.name, ([], []))
        return render_page(
            endpoint,
            query,
            times,
            records,
            now,
            page_cap=self.page_cap,
            amounts_as=self.amounts_as,
            null_optional_fields=self.null_optional_fields,
            unknown_result_objects=self.unknown_result_objects,
            repeat_cursor=fault is not None and fault.repeat_cursor,
        )


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
                body = self._listing(split.path, params) or self.app._answer(
                    self._route(split.path), params, fault
                )
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

    def _listing(self, path: str, params: Mapping[str, list[str]]) -> str | None:
        if self.command != "GET":
            return None
        app = self.app
        return answer_listing(path, params, app.projects, app.list_page_cap)

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
