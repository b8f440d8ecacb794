"""A local incoming webhook on 127.0.0.1 for tests: it records every POST and
answers with the statuses a test queues, or holds a request and never answers."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_PATH = "/services/T0SECRET/B0SECRET/pathsecret0123456789"
"""The path of the server's URL; like a real webhook's, it is a secret."""
SECRET_QUERY = "token=querysecret0123"
"""The query of the server's URL, also secret."""


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the webhook received."""

    method: str
    target: str
    """Path and query, as the client sent them."""
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Answer:
    status: int
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class WebhookServer:
    """An incoming webhook on 127.0.0.1; use it as a context manager.

    Each request takes the next queued answer; with none queued it gets 200 "ok",
    as Slack answers. ``hang`` queues requests that are held unanswered until the
    server closes, like a webhook host that accepted the connection and stalled.
    """

    def __init__(self, path: str = SECRET_PATH, query: str = SECRET_QUERY) -> None:
        self.path = path
        self.query = query
        self._answers: deque[_Answer] = deque()
        self._requests: list[ReceivedRequest] = []
        self._changed = threading.Condition()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WebhookServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        server.daemon_threads = True
        self._server = server
        # A short poll keeps closing the server quick; the default takes 0.5 s.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="webhook server",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._release.set()
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def url(self) -> str:
        """The webhook's full URL, secret path and query included."""
        assert self._server is not None
        port = self._server.server_address[1]
        query = f"?{self.query}" if self.query else ""
        return f"http://127.0.0.1:{port}{self.path}{query}"

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far, oldest first."""
        with self._changed:
            return list(self._requests)

    def answer(
        self,
        status: int,
        body: str = "ok",
        *,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests with ``status``, ``body``, ``headers``."""
        for _ in range(times):
            self._answers.append(_Answer(status, body.encode(), dict(headers or {})))

    def hang(self, times: int = 1) -> None:
        """Hold the next ``times`` requests unanswered until the server closes."""
        for _ in range(times):
            self._answers.append(_Answer(0, hang=True))

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until ``count`` requests have arrived; False if ``timeout`` ran
        out first."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._requests) >= count, timeout)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = webhook._record(
                    ReceivedRequest(
                        method="POST",
                        target=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                if answer.hang:
                    webhook._release.wait()
                    self.close_connection = True
                    return
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def _record(self, request: ReceivedRequest) -> _Answer:
        with self._changed:
            self._requests.append(request)
            answer = self._answers.popleft() if self._answers else _Answer(200)
            self._changed.notify_all()
        return answer
