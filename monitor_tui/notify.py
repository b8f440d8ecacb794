"""Delivers an alert outside the app's screen as a Slack-compatible webhook
message, posted and retried on a background thread (``desktop.py`` shows it on
the desktop)."""

from __future__ import annotations

import logging
import math
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SEVERITIES = ("information", "warning", "critical")
"""How serious a notice is, mildest first."""

_SLACK_ICONS = {"information": "ℹ️", "warning": "⚠️", "critical": "🚨"}
_STOP = object()


@dataclass(frozen=True)
class Notice:
    """One alert, worded for a person, ready for any channel."""

    title: str
    """A short headline, such as ``Budget 75% reached``."""
    text: str
    """The detail, such as ``$75.10 of $100.00 spent; forecast $130.00 by Jan 1``."""
    severity: str = "warning"
    """``information``, ``warning`` or ``critical``."""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"severity must be one of {', '.join(SEVERITIES)}: {self.severity!r}"
            )


def slack_payload(notice: Notice) -> dict[str, Any]:
    """The JSON body of an incoming-webhook message for ``notice``.

    Only ``text`` is used, in two plain lines: Slack, Mattermost and Discord's
    ``/slack`` endpoint all show it the same way, while their markup and blocks
    differ.
    """
    icon = _SLACK_ICONS[notice.severity]
    title = _slack_escape(notice.title)
    return {"text": f"{icon} {title}\n{_slack_escape(notice.text)}"}


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions: a project named "<!channel>" must
    # not page a whole channel.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def redact_url(url: str) -> str:
    """The part of a webhook URL that may be logged or shown: scheme, host, port.

    A webhook URL's path and query are its secret; whoever has them can post.
    """
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


class _RequestLogRedactor(logging.Filter):
    """Cuts webhook URLs in httpx2's request log lines down to scheme and host."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.hosts and isinstance(record.args, tuple):
            record.args = tuple(self._redacted(arg) for arg in record.args)
        return True

    def _redacted(self, arg: object) -> object:
        if not (isinstance(arg, str) or type(arg).__name__ == "URL"):
            return arg
        text = str(arg)
        if text.startswith("http") and redact_url(text) in self.hosts:
            return redact_url(text)
        return arg


# httpx2 logs each request's full URL at INFO; anyone who turns logging up must
# still not find the webhook's secret in the log.
_REQUEST_LOG_REDACTOR = _RequestLogRedactor()


class WebhookSender:
    """Posts notices to one webhook, in order, from a daemon thread.

    ``send`` only queues. Connection errors, timeouts, 429 and 5xx answers are
    retried with exponential backoff and jitter, honouring ``Retry-After``; other
    answers are final. A notice that is not delivered is logged once, with the URL
    cut to its scheme and host.

    Args:
        url: The incoming-webhook URL, ``https://`` (or ``http://``) with a host.
        timeout: Seconds each connect, read or write may take.
        attempts: Tries per notice, the first included.
        backoff_seconds: The wait before the first retry; it doubles each retry.
        max_wait_seconds: The longest wait between tries, ``Retry-After`` included.
        sleep: Waits between tries; the default wakes early when the sender closes.
        on_result: Called on the sender's thread after each notice with None when
            it was delivered, or why it was not (safe to show: no URL path).
        jitter: A number in [0, 1) each call; spreads the retries.

    Raises:
        ValueError: The URL is not http(s) with a host, or a number is out of
            range. The message never contains the URL.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        attempts: int = 4,
        backoff_seconds: float = 1.0,
        max_wait_seconds: float = 60.0,
        sleep: Callable[[float], object] | None = None,
        on_result: Callable[[Notice, str | None], object] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        _check_url(url)
        if not timeout > 0:
            raise ValueError("the webhook timeout must be more than 0 seconds")
        if attempts < 1:
            raise ValueError("a webhook needs at least 1 attempt")
        if not (backoff_seconds >= 0 and max_wait_seconds >= 0):
            raise ValueError("webhook waits cannot be negative")
        self._url = url
        self._host = redact_url(url)
        self._timeout = timeout
        self._attempts = attempts
        self._backoff_seconds = backoff_seconds
        self._max_wait = max_wait_seconds
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._on_result = on_result
        self._jitter = jitter

        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._pending = 0
        self._delivered = 0
        self._failed = 0

        _REQUEST_LOG_REDACTOR.hosts.add(self._host)
        httpx_log = logging.getLogger("httpx2")
        if _REQUEST_LOG_REDACTOR not in httpx_log.filters:
            httpx_log.addFilter(_REQUEST_LOG_REDACTOR)

    @property
    def host(self) -> str:
        """The webhook's scheme and host, safe to show."""
        return self._host

    @property
    def delivered(self) -> int:
        """Notices the webhook accepted (a 2xx answer)."""
        with self._lock:
            return self._delivered

    @property
    def failed(self) -> int:
        """Notices given up on, including those dropped by ``close``."""
        with self._lock:
            return self._failed

    @property
    def pending(self) -> int:
        """Notices queued or being posted."""
        with self._lock:
            return self._pending

    def send(self, notice: Notice) -> None:
        """Queue ``notice`` for posting and return at once; never raises."""
        try:
            with self._lock:
                if self._closed:
                    self._failed += 1
                    closed = True
                else:
                    closed = False
                    self._start_thread()
                    self._pending += 1
                    self._queue.put(notice)
        except Exception:
            log.exception("Could not queue a webhook message to %s", self._host)
            return
        if closed:
            log.warning(
                "Webhook message %r to %s not sent: the sender is closed",
                notice.title,
                self._host,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued notice is delivered or given up on.

        Returns:
            True when nothing is pending; False when ``timeout`` ran out first.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 0.0) -> None:
        """Stop the thread: no more retries, and queued notices are dropped.

        A post in flight ends at its own timeout. Call ``flush`` first to give
        queued notices a chance. ``timeout`` is how long to wait for the thread.
        """
        with self._lock:
            self._closed = True
            self._stopping.set()
            thread = self._thread
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None and timeout > 0:
            thread.join(timeout)

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"webhook {self._host}", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        try:
            # Imported here, off the UI thread: only a configured webhook needs it.
            import httpx2

            client = httpx2.Client(
                timeout=self._timeout,
                follow_redirects=False,
                headers={"User-Agent": "monitor-tui"},
            )
        except Exception as exc:
            log.exception("The webhook sender for %s could not start", self._host)
            self._give_up(f"the sender could not start ({type(exc).__name__})")
            return

        with client:
            while (notice := self._queue.get()) is not _STOP:
                if self._stopping.is_set():
                    self._finish(notice, "not sent: the sender was closed")
                    continue
                try:
                    error = self._deliver(httpx2, client, notice)
                except Exception as exc:
                    error = f"unexpected {type(exc).__name__}"
                self._finish(notice, error)

    def _give_up(self, error: str) -> None:
        with self._lock:
            self._closed = True
        while True:
            try:
                notice = self._queue.get_nowait()
            except queue.Empty:
                return
            if notice is not _STOP:
                self._finish(notice, error)

    def _deliver(self, httpx2: Any, client: Any, notice: Notice) -> str | None:
        payload = slack_payload(notice)
        for attempt in range(1, self._attempts + 1):
            error, wait = self._post(httpx2, client, payload, attempt)
            if error is None:
                return None
            if wait is None:
                return error
            if attempt == self._attempts:
                return f"{error}, after {attempt} attempts"
            log.debug("Webhook %s: %s; retrying in %.1f s", self._host, error, wait)
            self._sleep(wait)
            if self._stopping.is_set():
                return f"{error}; not retried: the sender was closed"
        raise AssertionError("unreachable")

    def _post(
        self, httpx2: Any, client: Any, payload: dict[str, Any], attempt: int
    ) -> tuple[str | None, float | None]:
        """One try: (None, None) when delivered, else why and the wait before
        the next try (None when trying again would not help)."""
        try:
            response = client.post(self._url, json=payload)
        except httpx2.TimeoutException as exc:
            return f"timed out ({type(exc).__name__})", self._backoff(attempt)
        except httpx2.TransportError as exc:
            detail = self._scrub(str(exc))
            return f"connection failed ({type(exc).__name__}: {detail})", (
                self._backoff(attempt)
            )
        except httpx2.HTTPError as exc:
            return f"failed ({type(exc).__name__})", None

        status = response.status_code
        if 200 <= status < 300:
            return None, None
        error = f"HTTP {status}" + self._body_hint(response.text)
        if status != 429 and status < 500:
            return error, None
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
        if retry_after is None:
            return error, self._backoff(attempt)
        return error, min(retry_after, self._max_wait)

    def _backoff(self, attempt: int) -> float:
        # Half fixed, half random: retries from several apps spread out, and the
        # wait still grows with each attempt.
        step = min(self._backoff_seconds * 2 ** (attempt - 1), self._max_wait)
        return step / 2 + self._jitter() * step / 2

    def _body_hint(self, body: str) -> str:
        # Slack and Mattermost explain a refusal in the body ("no_service",
        # "invalid_payload"): the one thing an operator needs to fix it.
        first_line = self._scrub(body.strip().splitlines()[0]) if body.strip() else ""
        return f": {first_line[:120]}" if first_line else ""

    def _scrub(self, text: str) -> str:
        parts = urlsplit(self._url)
        for secret in (self._url, parts.path, parts.query):
            if secret and secret != "/":
                text = text.replace(secret, "…")
        return text

    def _finish(self, notice: Notice, error: str | None) -> None:
        with self._lock:
            if error is None:
                self._delivered += 1
            else:
                self._failed += 1
        if error is not None:
            log.warning(
                "Webhook message %r to %s failed: %s", notice.title, self._host, error
            )
        if self._on_result is not None:
            try:
                self._on_result(notice, error)
            except Exception:
                log.exception("The webhook result callback failed")
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("the webhook URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the webhook URL must start with https:// and name a host")


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number or an HTTP date."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)
