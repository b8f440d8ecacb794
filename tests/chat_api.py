"""A local stand-in for OpenAI's chat completions, responses and embeddings on
127.0.0.1, for the tracker's tests: the real paths and shapes, streamed (server-sent
events) or not, with a fixed usage per model so tests know what each call costs.
"""

from __future__ import annotations

import base64
import itertools
import json
import struct
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED = 1796398220
"""The ``created`` time of every answer (2026-12-04 15:30:20 UTC)."""

SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
}
"""The dated model the API answers with for an alias, as the real API does."""


@dataclass(frozen=True)
class Usage:
    """The tokens one call of a model uses."""

    input_tokens: int
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0


USAGE = {
    "gpt-4o-mini": Usage(1200, cached_input_tokens=200, output_tokens=300),
    "gpt-5-mini": Usage(
        2000, cached_input_tokens=1000, output_tokens=500, reasoning_tokens=128
    ),
    "text-embedding-3-small": Usage(42),
}
"""What each model's calls use; a model not listed uses ``DEFAULT_USAGE``."""
DEFAULT_USAGE = Usage(100, output_tokens=10)

TEXT = ("Hel", "lo ", "there.")
"""The answer, in the pieces a stream sends it in."""


def usage_of(model: str) -> Usage:
    """The usage the server answers a call of ``model`` with."""
    return USAGE.get(model, DEFAULT_USAGE)


def _chat_usage(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _responses_usage(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": 0,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


class ChatApiServer:
    """Serves ``/v1/chat/completions``, ``/v1/responses`` and ``/v1/embeddings`` on
    127.0.0.1; use it as a context manager.

    Every answer is the same text with the model's fixed usage (``USAGE``); ids
    count up from 1. ``fail_next`` makes the next requests fail with a status.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._requests: list[tuple[str, dict[str, Any]]] = []
        self._failures: list[int] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ChatApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        # A short poll makes stopping quick: shutdown waits for the next poll.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.01,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        """The SDK's ``base_url`` for this server, ending in ``/v1``."""
        assert self._server is not None, "the server is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        """Every request so far as ``(path, JSON body)``, oldest first."""
        with self._lock:
            return list(self._requests)

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` requests with ``status`` and an error body."""
        with self._lock:
            self._failures.extend([status] * count)

    # Answers

    def _note(self, path: str, body: dict[str, Any]) -> tuple[int | None, int]:
        with self._lock:
            self._requests.append((path, body))
            failure = self._failures.pop(0) if self._failures else None
            return failure, next(self._ids)

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """The status and the JSON body, or the events of a stream."""
        failure, number = self._note(path, body)
        if failure is not None:
            error = {"message": "Injected failure", "type": "server_error"}
            return failure, {"error": error}
        model = str(body.get("model"))
        if path == "/v1/chat/completions":
            return 200, _chat(body, model, number)
        if path == "/v1/responses":
            return 200, _responses(body, model, number)
        if path == "/v1/embeddings":
            return 200, _embeddings(body, model)
        return 404, {"error": {"message": f"Unknown path {path}", "type": "invalid"}}


def _chat(body: Mapping[str, Any], model: str, number: int) -> Any:
    head = {
        "id": f"chatcmpl-{number}",
        "created": CREATED,
        "model": SNAPSHOTS.get(model, model),
        "service_tier": body.get("service_tier") or "default",
        "system_fingerprint": "fp_test",
    }
    usage = _chat_usage(usage_of(model))
    if not body.get("stream"):
        message = {"role": "assistant", "content": "".join(TEXT), "refusal": None}
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": "stop",
        }
        return {
            **head,
            "object": "chat.completion",
            "choices": [choice],
            "usage": usage,
        }
    return _chat_chunks(
        head, usage, bool((body.get("stream_options") or {}).get("include_usage"))
    )


def _chat_chunks(
    head: dict[str, Any], usage: dict[str, Any], include_usage: bool
) -> Iterator[tuple[str | None, Any]]:
    head = {**head, "object": "chat.completion.chunk"}
    # Once usage is asked for, the API sends "usage": null in every chunk.
    empty = {"usage": None} if include_usage else {}
    deltas = [{"role": "assistant", "content": ""}] + [{"content": t} for t in TEXT]
    for delta in deltas:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        yield None, {**head, "choices": [choice], **empty}
    last = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    yield None, {**head, "choices": [last], **empty}
    if include_usage:
        yield None, {**head, "choices": [], "usage": usage}


def _responses(body: Mapping[str, Any], model: str, number: int) -> Any:
    text = "".join(TEXT)
    message = {
        "type": "message",
        "id": f"msg_{number}",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    done = {
        "id": f"resp_{number}",
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "model": SNAPSHOTS.get(model, model),
        "output": [message],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "service_tier": body.get("service_tier") or "default",
        "usage": _responses_usage(usage_of(model)),
    }
    if not body.get("stream"):
        return done
    return _response_events(done, number)


def _response_events(done: dict[str, Any], number: int) -> Iterator[tuple[str, Any]]:
    started = {**done, "status": "in_progress", "output": [], "usage": None}
    [message] = done["output"]
    part = message["content"][0]
    where = {"item_id": message["id"], "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**message, "status": "in_progress", "content": []},
        },
        {
            "type": "response.content_part.added",
            **where,
            "part": {**part, "text": ""},
        },
        *(
            {"type": "response.output_text.delta", **where, "delta": t, "logprobs": []}
            for t in TEXT
        ),
        {
            "type": "response.output_text.done",
            **where,
            "text": part["text"],
            "logprobs": [],
        },
        {"type": "response.content_part.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": message},
        {"type": "response.completed", "response": done},
    ]
    for sequence, event in enumerate(events):
        yield event["type"], {**event, "sequence_number": sequence}


def _embeddings(body: Mapping[str, Any], model: str) -> Any:
    inputs = body.get("input")
    count = len(inputs) if isinstance(inputs, list) else 1
    vector = [0.25, -0.5, 1.0]
    if body.get("encoding_format") == "base64":
        packed = struct.pack(f"<{len(vector)}f", *vector)
        embedding: Any = base64.b64encode(packed).decode()
    else:
        embedding = vector
    usage = usage_of(model)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": embedding}
            for i in range(count)
        ],
        "model": model,
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "total_tokens": usage.input_tokens,
        },
    }


def _handler(api: ChatApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, answer = api.answer(self.path.split("?")[0], body)
            if isinstance(answer, Iterator):
                # Chat completion streams end with [DONE]; response streams end
                # with their response.completed event.
                self._send_events(answer, done="chat" in self.path)
                return
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _send_events(
            self, events: Iterator[tuple[str | None, Any]], *, done: bool
        ) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for event, data in events:
                head = f"event: {event}\n" if event else ""
                self.wfile.write(f"{head}data: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
            if done:
                self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test output stays readable

    return Handler
