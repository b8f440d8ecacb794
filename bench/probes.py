"""Measures that need a process of their own: a cold Analytics recompute, the
Live tab's cold read, the memory of the report and a 90-day Analytics together,
and the app under cProfile or with the steps of its start noted.

Each probe is run by the benchmark as ``python bench/probes.py <probe> ...`` and
prints one JSON object on its last line of output.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM) so far, in megabytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def analytics(
    data_dir: Path, kind: str, runs: int, zone: ZoneInfo, profile_to: Path | None
) -> dict[str, Any]:
    """Time one range's recompute: first in this process (every store file read
    from disk, every price looked up), then ``runs`` times more (from the store's
    read cache and the pricer's), then once with a new pricer (prices looked up
    again, files from the cache).

    The savings' pricer is built first and timed apart: the tab builds it once
    per process, whatever the range.
    """
    from monitor_tui.analytics import compute_analytics, rolling_range
    from monitor_tui.pricing import Pricer
    from monitor_tui.report import period_usage_rows
    from monitor_tui.store import Store

    began = time.perf_counter()
    pricer = Pricer()
    pricer_ms = _ms(began)

    store = Store(data_dir)
    now = datetime.now(UTC)
    span = rolling_range(kind, now)

    def compute(with_pricer: Pricer = pricer) -> float:
        began = time.perf_counter()
        compute_analytics(store, "openai", span, zone, None, now, pricer=with_pricer)
        return _ms(began)

    profiler = None
    if profile_to is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cold_ms = compute()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile_to.with_suffix(".cold.prof")))
    warm = [compute() for _ in range(runs)]
    if profile_to is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(compute)
        profiler.dump_stats(str(profile_to.with_suffix(".warm.prof")))
    # Files cached but prices not yet looked up: splits the cold figure in two.
    prices_cold_ms = compute(Pricer())
    rows = len(period_usage_rows(store, "openai", *span.epochs))
    return {
        "kind": kind,
        "rows": rows,
        "pricer_ms": pricer_ms,
        "cold_ms": cold_ms,
        "prices_cold_ms": prices_cold_ms,
        "warm_ms": statistics.median(warm),
        "warm_runs_ms": warm,
    }


def snapshot(data_dir: Path, zone: ZoneInfo, profile_to: Path | None) -> dict[str, Any]:
    """Time the read the Live tab waits for before it paints its figures: the
    budget and the snapshot, first in this process, then from the read cache."""
    from monitor_tui.snapshot import build_snapshot, load_budget
    from monitor_tui.store import Store

    def read() -> float:
        began = time.perf_counter()
        store = Store(data_dir)
        build_snapshot(
            store,
            "openai",
            load_budget(store),
            zone,
            datetime.now(UTC),
            burn_multiple=Decimal(3),
            fire_alerts=True,
        )
        return _ms(began)

    profiler = None
    if profile_to is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cold_ms = read()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile_to))
    return {"cold_ms": cold_ms, "warm_ms": statistics.median(read() for _ in range(3))}


def memory(data_dir: Path, zone: ZoneInfo, trace: bool) -> dict[str, Any]:
    """Peak memory of what the app keeps with the full store loaded: the Live
    tab's snapshot and a 90-day Analytics, in one process.

    With ``trace``, tracemalloc names the lines that allocated most (it costs
    memory of its own, so the figures of a traced run are not the measure).
    """
    if trace:
        import tracemalloc

        tracemalloc.start(1)
    from monitor_tui.analytics import compute_analytics, rolling_range
    from monitor_tui.snapshot import build_snapshot, load_budget
    from monitor_tui.store import Store

    after_imports = peak_rss_mb()
    now = datetime.now(UTC)
    store = Store(data_dir)
    snapshot = build_snapshot(
        store, "openai", load_budget(store), zone, now, burn_multiple=Decimal(3)
    )
    after_snapshot = peak_rss_mb()
    result = compute_analytics(
        store, "openai", rolling_range("90d", now), zone, snapshot.budget, now
    )
    answer: dict[str, Any] = {
        "after_imports_mb": after_imports,
        "after_snapshot_mb": after_snapshot,
        "peak_mb": peak_rss_mb(),
        "spend_usd": str(result.totals.spend_usd),
    }
    if trace:
        top = tracemalloc.take_snapshot().statistics("lineno")[:12]
        answer["top_allocations"] = [
            f"{stat.size / 2**20:7.1f} MB {stat.count:9,d} blocks  "
            f"{stat.traceback[0].filename.replace(str(ROOT) + '/', '')}"
            f":{stat.traceback[0].lineno}"
            for stat in top
        ]
    return answer


def app_profiled(profile_to: Path, argv: list[str], *, from_signal: bool) -> int:
    """Run the ``monitor-tui`` command under cProfile, imports included; the
    profile (of the main thread: the UI, not the sync) is written at exit.

    With ``from_signal``, profiling starts only at SIGUSR1, to profile an app
    that has already started.
    """
    import cProfile
    import signal

    profiler = cProfile.Profile()
    if from_signal:
        # The handler runs in the main thread, the one to profile.
        signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    else:
        profiler.enable()
    try:
        from monitor_tui.cli import main

        return main(argv)
    finally:
        profiler.disable()
        profiler.dump_stats(str(profile_to))


def app_timeline(timeline_to: Path, argv: list[str]) -> int:
    """Run the ``monitor-tui`` command, noting when its start reaches each step;
    the marks are written as JSON when it quits.

    The marks are ``time.perf_counter()``, the system's monotonic clock on
    Linux, so the benchmark can set them beside its own. The app's methods are
    wrapped here, for the measure only; the app itself is unchanged.
    """
    marks: list[tuple[str, float]] = [("Python is running", time.perf_counter())]
    from monitor_tui import app as app_module
    from monitor_tui.cli import main as cli_main

    marks.append(("monitor_tui.cli and monitor_tui.app imported", time.perf_counter()))
    seen: set[str] = set()

    def mark(label: str) -> None:
        if label not in seen:  # the first time only
            seen.add(label)
            marks.append((label, time.perf_counter()))

    def noting(method: Any, before: str, after: str | None = None) -> Any:
        # Textual passes the event only to handlers whose signature takes it.
        @functools.wraps(method)
        def noted(self: Any, *args: Any, **kwargs: Any) -> Any:
            mark(before)
            result = method(self, *args, **kwargs)
            if after is not None:
                mark(after)
            return result

        return noted

    monitor = app_module.MonitorApp
    monitor.on_mount = noting(monitor.on_mount, "the app is mounted")
    monitor.read_snapshot = noting(
        monitor.read_snapshot,
        "its thread starts reading the store",
        "its thread has read the store",
    )
    monitor.on_refreshed = noting(
        monitor.on_refreshed, "the UI gets the snapshot to paint"
    )
    try:
        return cli_main(argv)
    finally:
        timeline_to.write_text(json.dumps(marks))


def main(argv: list[str] | None = None) -> int:
    """Run one probe; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    probes = parser.add_subparsers(dest="probe", required=True)
    one = probes.add_parser("analytics", help="time one range's recompute")
    one.add_argument("data_dir", type=Path)
    one.add_argument("kind", choices=("24h", "7d", "30d", "90d"))
    one.add_argument("--runs", type=int, default=5)
    one.add_argument("--zone", default="UTC")
    one.add_argument("--profile", type=Path, help="write cProfile stats here")
    snap = probes.add_parser("snapshot", help="time the Live tab's read")
    snap.add_argument("data_dir", type=Path)
    snap.add_argument("--zone", default="UTC")
    snap.add_argument("--profile", type=Path, help="write cProfile stats here")
    mem = probes.add_parser("memory", help="peak memory of snapshot + 90 days")
    mem.add_argument("data_dir", type=Path)
    mem.add_argument("--zone", default="UTC")
    mem.add_argument("--trace", action="store_true", help="tracemalloc's top lines")
    app = probes.add_parser("app", help="the app under cProfile")
    app.add_argument("profile", type=Path, help="write cProfile stats here")
    app.add_argument(
        "--from-signal", action="store_true", help="start profiling at SIGUSR1"
    )
    app.add_argument("args", nargs=argparse.REMAINDER, help="monitor-tui's")
    timeline = probes.add_parser("timeline", help="the app's start, step by step")
    timeline.add_argument("timeline", type=Path, help="write the marks here")
    timeline.add_argument("args", nargs=argparse.REMAINDER, help="monitor-tui's")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    if args.probe == "timeline":
        return app_timeline(args.timeline, args.args)
    if args.probe == "app":
        return app_profiled(args.profile, args.args, from_signal=args.from_signal)
    if args.probe == "analytics":
        answer = analytics(
            args.data_dir, args.kind, args.runs, ZoneInfo(args.zone), args.profile
        )
    elif args.probe == "snapshot":
        answer = snapshot(args.data_dir, ZoneInfo(args.zone), args.profile)
    else:
        answer = memory(args.data_dir, ZoneInfo(args.zone), args.trace)
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
