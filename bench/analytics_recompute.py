"""How long the Analytics tab takes to recompute on a busy organization's data.

Starts the local fake Usage API (``python -m tests.usage_api --scenario busy``) on
127.0.0.1, syncs its 90 days into a temporary data directory through the real
``openai`` SDK, then times ``compute_analytics`` for the last 7, 30 and 90 days
and prints the median of several runs, with the part spent reading the store.

Run from the repository root: ``python bench/analytics_recompute.py``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor_tui.analytics import compute_analytics, rolling_range  # noqa: E402
from monitor_tui.report import period_usage_rows  # noqa: E402
from monitor_tui.sources.openai_api import OpenAISource  # noqa: E402
from monitor_tui.store import Store  # noqa: E402
from monitor_tui.sync import Syncer  # noqa: E402

ADMIN_KEY = "sk-admin-bench-0123456789abcdefghijklmnop"
RANGES = ("7d", "30d", "90d")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def busy_server() -> Iterator[str]:
    """The fake API with the busy scenario, in its own process; yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.usage_api",
            "--port",
            str(port),
            "--admin-key",
            ADMIN_KEY,
            "--scenario",
            "busy",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "base URL:" in line:
                yield line.split("base URL:", 1)[1].strip()
                return
        raise SystemExit(f"the fake API did not start (exit code {server.wait()})")
    finally:
        server.terminate()
        server.wait(timeout=10)


def median_ms(run: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per range")
    parser.add_argument("--zone", default="Europe/Paris", help="display zone")
    args = parser.parse_args(argv)
    zone = ZoneInfo(args.zone)

    with tempfile.TemporaryDirectory() as data_dir, busy_server() as base_url:
        store = Store(Path(data_dir))
        source = OpenAISource(ADMIN_KEY, base_url, timeout=60, max_retries=0)
        began = time.perf_counter()
        result = Syncer(store, source, history_days=90).sync()
        source.close()
        if not result.ok:
            print(f"the sync failed: {result.error}", file=sys.stderr)
            return 1
        print(
            f"synced {result.rows:,} rows of the busy scenario in "
            f"{time.perf_counter() - began:.1f} s\n"
        )

        now = datetime.now(UTC)
        # The first computation builds the savings' pricer; the tab pays that once.
        began = time.perf_counter()
        compute_analytics(store, "openai", rolling_range("7d", now), zone, None, now)
        print(
            f"first computation, 7 days (builds the pricer): "
            f"{(time.perf_counter() - began) * 1000:.0f} ms\n"
        )

        print(f"{'range':<8} {'rows':>8} {'recompute':>10} {'store read':>11}")
        for kind in RANGES:
            span = rolling_range(kind, now)
            rows = len(period_usage_rows(store, "openai", *span.epochs))

            def compute(span=span) -> object:
                return compute_analytics(store, "openai", span, zone, None, now)

            def read(span=span) -> object:
                period_usage_rows(store, "openai", *span.epochs)
                return period_usage_rows(store, "openai", *span.previous.epochs)

            total = median_ms(compute, args.runs)
            reading = median_ms(read, args.runs)
            print(f"{span.label[5:]:<8} {rows:>8,} {total:>7.0f} ms {reading:>8.0f} ms")
    print(
        f"\nmedian of {args.runs} runs; 'store read' is the part of a recompute "
        "spent reading the range and the span before from the store"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
