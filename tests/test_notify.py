"""Alerts leave the app: a webhook on a local server receives Slack-compatible JSON,
retried as HTTP says, never blocking the caller and never logging its secret; a
desktop notifier is started with the notice as plain arguments."""

from __future__ import annotations

import json
import logging
import socket
import stat
import sys
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor_tui.desktop import desktop_command, desktop_notify, spawn_detached
from monitor_tui.notify import Notice, WebhookSender, redact_url, slack_payload
from tests.conftest import NOW
from tests.webhook_server import SECRET_PATH, SECRET_QUERY, WebhookServer

NOTICE = Notice(
    title="Budget 75% reached",
    text="$75.10 of $100.00 spent; forecast $130.00 by Jan 1",
    severity="warning",
)
SECRETS = ("pathsecret0123456789", "querysecret0123", "T0SECRET", "B0SECRET")
"""Pieces of the webhook URL that must never reach a log or a message."""


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    with WebhookServer() as server:
        yield server


class Waits:
    """Stands in for ``time.sleep``: records each wait instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def sender_for(url: str, **options) -> WebhookSender:
    options = {"timeout": 2.0, "sleep": Waits(), "jitter": lambda: 0.5, **options}
    return WebhookSender(url, **options)


def deliver(sender: WebhookSender, *notices: Notice) -> None:
    for notice in notices or (NOTICE,):
        sender.send(notice)
    assert sender.flush(timeout=10)
    sender.close(timeout=5)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def notify_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name in ("monitor_tui.notify", "monitor_tui.desktop")
        and record.levelno == logging.WARNING
    ]


# The message


def test_payload_is_slack_text_with_the_title_on_its_own_line():
    assert slack_payload(NOTICE) == {
        "text": "⚠️ Budget 75% reached\n"
        "$75.10 of $100.00 spent; forecast $130.00 by Jan 1"
    }


def test_payload_escapes_what_slack_would_read_as_mentions_or_links():
    notice = Notice("Project <!channel> at 90%", "R&D <https://x.example|here>")

    text = slack_payload(notice)["text"]

    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt;" in text
    assert "R&amp;D" in text


def test_payload_marks_each_severity_differently():
    icons = {
        severity: slack_payload(Notice("t", "x", severity))["text"].split()[0]
        for severity in ("information", "warning", "critical")
    }
    assert len(set(icons.values())) == 3


def test_an_unknown_severity_is_refused():
    with pytest.raises(ValueError, match="severity"):
        Notice("t", "x", severity="error")


# Delivery


def test_the_webhook_receives_the_slack_json_once(webhook):
    sender = sender_for(webhook.url)

    deliver(sender)

    [request] = webhook.requests
    assert request.method == "POST"
    assert request.target == f"{SECRET_PATH}?{SECRET_QUERY}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == slack_payload(NOTICE)
    assert (sender.delivered, sender.failed, sender.pending) == (1, 0, 0)


def test_notices_arrive_in_the_order_they_were_sent(webhook):
    notices = [Notice(f"Budget {p}% reached", "x") for p in (50, 75, 90)]

    deliver(sender_for(webhook.url), *notices)

    assert [r.json() for r in webhook.requests] == [slack_payload(n) for n in notices]


def test_a_server_error_is_retried_and_delivered_once(webhook):
    webhook.answer(500, "oops")
    waits = Waits()
    sender = sender_for(webhook.url, sleep=waits, backoff_seconds=1.0)

    deliver(sender)

    assert len(webhook.requests) == 2
    assert webhook.requests[0].body == webhook.requests[1].body
    # Half the first step fixed, half scaled by the jitter (0.5): 0.5 + 0.25.
    assert waits.seconds == [0.75]
    assert (sender.delivered, sender.failed) == (1, 0)


def test_backoff_doubles_with_each_retry(webhook):
    webhook.answer(503, times=3)
    waits = Waits()
    sender = sender_for(webhook.url, sleep=waits, attempts=4, jitter=lambda: 0.0)

    deliver(sender)

    assert waits.seconds == [0.5, 1.0, 2.0]
    assert sender.delivered == 1


def test_a_rate_limit_waits_as_long_as_retry_after_says(webhook):
    webhook.answer(429, "rate_limited", headers={"Retry-After": "7"})
    waits = Waits()
    sender = sender_for(webhook.url, sleep=waits)

    deliver(sender)

    assert waits.seconds == [7.0]
    assert len(webhook.requests) == 2
    assert sender.delivered == 1


def test_a_long_retry_after_is_capped(webhook):
    webhook.answer(429, headers={"Retry-After": "3600"})
    waits = Waits()

    deliver(sender_for(webhook.url, sleep=waits, max_wait_seconds=30))

    assert waits.seconds == [30.0]


def test_a_retry_after_date_already_past_retries_at_once(webhook):
    webhook.answer(503, headers={"Retry-After": format_datetime(NOW, usegmt=True)})
    waits = Waits()

    deliver(sender_for(webhook.url, sleep=waits))

    assert waits.seconds == [0.0]


def test_a_not_found_is_not_retried_and_is_logged_once(webhook, caplog):
    webhook.answer(404, "no_service")
    waits = Waits()
    sender = sender_for(webhook.url, sleep=waits)

    deliver(sender)

    assert len(webhook.requests) == 1
    assert waits.seconds == []
    assert (sender.delivered, sender.failed) == (0, 1)
    [warning] = notify_warnings(caplog)
    assert "HTTP 404: no_service" in warning
    assert "Budget 75% reached" in warning


def test_errors_that_persist_are_given_up_after_the_last_attempt(webhook, caplog):
    webhook.answer(502, "bad gateway", times=3)
    sender = sender_for(webhook.url, attempts=3)

    deliver(sender)

    assert len(webhook.requests) == 3
    assert sender.failed == 1
    [warning] = notify_warnings(caplog)
    assert "HTTP 502: bad gateway, after 3 attempts" in warning


def test_a_refused_connection_is_retried_then_logged(caplog):
    url = f"http://127.0.0.1:{closed_port()}{SECRET_PATH}"
    waits = Waits()
    sender = sender_for(url, sleep=waits, attempts=3)

    deliver(sender)

    assert len(waits.seconds) == 2
    assert (sender.delivered, sender.failed) == (0, 1)
    [warning] = notify_warnings(caplog)
    assert "connection failed (ConnectError" in warning
    assert "after 3 attempts" in warning


def test_a_hanging_webhook_does_not_block_send_and_times_out(webhook):
    webhook.hang(times=2)
    waits = Waits()
    results: list[str | None] = []
    sender = sender_for(
        webhook.url,
        timeout=0.3,
        attempts=2,
        sleep=waits,
        on_result=lambda notice, error: results.append(error),
    )

    sender.send(NOTICE)

    # send() came back while the worker has not finished: the notice is neither
    # delivered nor failed, and the server is holding its request.
    assert (sender.delivered, sender.failed, sender.pending) == (0, 0, 1)
    assert webhook.wait_for_requests(1)
    assert sender.flush(timeout=10)
    assert len(webhook.requests) == 2
    assert (sender.delivered, sender.failed) == (0, 1)
    assert results == ["timed out (ReadTimeout), after 2 attempts"]
    sender.close(timeout=5)


def test_close_while_a_post_hangs_returns_and_stops_retrying(webhook):
    webhook.hang()
    waits = Waits()
    sender = sender_for(webhook.url, timeout=0.3, attempts=3, sleep=waits)
    sender.send(NOTICE)
    sender.send(Notice("Budget 90% reached", "queued behind the first"))
    assert webhook.wait_for_requests(1)

    sender.close()

    assert sender.flush(timeout=10)
    assert waits.seconds == [0.75]
    assert len(webhook.requests) == 1
    assert (sender.delivered, sender.failed) == (0, 2)


def test_a_notice_sent_after_close_is_dropped_without_raising(webhook, caplog):
    sender = sender_for(webhook.url)
    sender.close()

    sender.send(NOTICE)

    assert sender.failed == 1
    assert webhook.requests == []
    assert "sender is closed" in notify_warnings(caplog)[0]


def test_a_failing_result_callback_does_not_stop_the_sender(webhook):
    def broken(notice: Notice, error: str | None) -> None:
        raise RuntimeError("bug in the caller")

    sender = sender_for(webhook.url, on_result=broken)

    deliver(sender, NOTICE, NOTICE)

    assert sender.delivered == 2


# The URL is a secret


def test_no_log_line_or_result_contains_the_url_path_or_query(webhook, caplog):
    caplog.set_level(logging.DEBUG)
    webhook.answer(500)
    webhook.answer(400, f"invalid_payload for {SECRET_PATH}?{SECRET_QUERY}")
    results: list[str | None] = []
    sender = sender_for(
        webhook.url, on_result=lambda notice, error: results.append(error)
    )

    deliver(sender, NOTICE, NOTICE)

    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    # httpx2 logs each request with its URL; it was logged, and redacted.
    assert any(record.name == "httpx2" for record in caplog.records)
    assert "127.0.0.1" in logged
    assert not [secret for secret in SECRETS if secret in logged]
    assert not [secret for secret in SECRETS if secret in str(results)]


def test_a_bad_url_is_refused_without_repeating_it():
    for url in (
        f"ftp://hooks.example{SECRET_PATH}",
        f"hooks.example{SECRET_PATH}",
        f"https://{SECRET_PATH}",
        f"https://hooks.example:port{SECRET_PATH}",
    ):
        with pytest.raises(ValueError) as raised:
            WebhookSender(url)
        assert "pathsecret" not in str(raised.value), url


def test_redacted_url_keeps_scheme_host_and_port_only():
    url = f"https://user:pw@hooks.example:8443{SECRET_PATH}?{SECRET_QUERY}#frag"
    assert redact_url(url) == "https://hooks.example:8443"
    assert redact_url(f"https://[::1]{SECRET_PATH}") == "https://[::1]"


# Desktop notifications


def fake_notifier(directory: Path, name: str, *, executable: bool = True) -> Path:
    """A real program standing in for a notifier: it writes its arguments to
    ``argv.json`` next to itself."""
    script = directory / name
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        "out = pathlib.Path(sys.argv[0]).with_name('argv.json')\n"
        "out.write_text(json.dumps(sys.argv[1:]))\n"
    )
    if executable:
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_notify_send_gets_the_notice_as_plain_arguments(tmp_path):
    script = fake_notifier(tmp_path, "notify-send")
    started = []

    def spawn(argv: list[str]):
        started.append(spawn_detached(argv))

    shown = desktop_notify(
        Notice("-Budget\x1b[31m reached\n", "$100.00 <b>of</b> R&D", "critical"),
        which=lambda name: str(script) if name == "notify-send" else None,
        platform="linux",
        spawn=spawn,
    )

    assert shown
    assert started[0].wait(timeout=10) == 0
    assert json.loads((tmp_path / "argv.json").read_text()) == [
        "--app-name=monitor-tui",
        "--urgency=critical",
        "--icon=dialog-error",
        "--",
        "-Budget[31m reached",
        "$100.00 &lt;b&gt;of&lt;/b&gt; R&amp;D",
    ]


def test_osascript_reads_the_notice_as_arguments_of_a_fixed_script():
    argv = desktop_command(
        Notice('Budget "90%"', 'end"\nbeep'),
        which=lambda name: "/usr/bin/osascript" if name == "osascript" else None,
        platform="darwin",
    )

    assert argv is not None
    assert argv[0] == "/usr/bin/osascript"
    assert argv[-3:] == ["--", 'Budget "90%"', 'end"\nbeep']
    script = argv[1:-3]
    assert script[::2] == ["-e"] * 3
    assert not [line for line in script if "90%" in line or "beep" in line]


def test_long_text_is_cut_for_the_notifier():
    argv = desktop_command(
        Notice("t" * 500, "x" * 5000),
        which=lambda name: "/bin/notify-send",
        platform="linux",
    )
    assert argv is not None
    assert len(argv[-2]) == 120 and argv[-2].endswith("…")
    assert len(argv[-1]) == 500


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_no_notifier_means_no_desktop_notification(platform):
    started = []

    shown = desktop_notify(
        NOTICE, which=lambda name: None, platform=platform, spawn=started.append
    )

    assert shown is False
    assert started == []


def test_windows_gets_no_desktop_notification_even_with_a_notify_send():
    assert desktop_command(NOTICE, which=lambda n: "C:/x.exe", platform="win32") is None


def test_a_notifier_that_cannot_start_returns_false(tmp_path, caplog):
    script = fake_notifier(tmp_path, "notify-send", executable=False)

    shown = desktop_notify(NOTICE, which=lambda name: str(script), platform="linux")

    assert shown is False
    assert not (tmp_path / "argv.json").exists()
    assert "could not start" in notify_warnings(caplog)[0]
