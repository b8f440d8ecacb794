"""The app's measures, each on the real app in a new process on a pseudo-terminal:
the cold start to a painted Live tab, and the CPU and memory it uses while it
sits on the Live tab."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from profiles import slowest_imports, top_functions
from results import (
    MAX_FIRST_PAINT_SECONDS,
    MAX_IDLE_CPU_PERCENT,
    MAX_MEMORY_MB,
    Finding,
    Measure,
)
from workbench import ROOT, BenchError, Workbench

FIGURES_SHOWN = "Burn rate"
"""A label of the Live tab's figures, painted once the store has been read."""
FIRST_FRAME = "1 Live"
"""The Live tab's label: in the app's very first frame."""
POLL_SECONDS = 60
"""The app's default poll interval, which the benchmark keeps."""
SYNC_SECONDS = 5
"""A short idle window counts its first seconds as the sync's."""


def cold_start(bench: Workbench, runs: int) -> list[Measure]:
    """Start the app in a new process ``runs`` times; time from the spawn to
    its first frame, and to the Live tab painted with the store's figures."""
    frames, paints = [], []
    for run in range(runs):
        with bench.app(f"cold-{run}") as app:
            frames.append(app.wait_for(FIRST_FRAME, 30) - app.started_at)
            paints.append(app.wait_for(FIGURES_SHOWN, 30) - app.started_at)
    measure = Measure(
        "first_paint_seconds",
        f"cold start to painted Live tab (median of {runs})",
        statistics.median(paints),
        "s",
        MAX_FIRST_PAINT_SECONDS,
        note=(
            f"first frame (before the store is read) at "
            f"{statistics.median(frames):.2f} s; runs "
            + " ".join(f"{s:.2f}" for s in paints)
        ),
    )
    read = bench.probe("snapshot", str(bench.data_dir), "--zone", bench.zone)
    reading = Measure(
        "live_read_cold_ms",
        "the Live tab's read of the store, cold",
        read["cold_ms"],
        "ms",
        note=(
            f"in a new process without the UI; {read['warm_ms']:.0f} ms once "
            "cached. The app paints its figures after this read, made in a "
            "thread of its own after the first frame"
        ),
    )
    if bench.profiling(measure):
        _profile_cold_start(bench)
    return [measure, reading]


def _timeline(bench: Workbench) -> Finding:
    """One start of the app with its steps noted, beside what the terminal saw."""
    timeline_to = bench.work / "timeline.json"
    with bench.app("cold-timeline", timeline_to=timeline_to) as app:
        seen = [
            ("the terminal gets the first frame", app.wait_for(FIRST_FRAME, 30)),
            ("the terminal gets the figures", app.wait_for(FIGURES_SHOWN, 30)),
        ]
        started = app.started_at
    marks = [(label, at) for label, at in json.loads(timeline_to.read_text())]
    lines = [
        f"  {(at - started) * 1000:6.0f} ms  {label}"
        for label, at in sorted([*marks, *seen], key=lambda mark: mark[1])
    ]
    return Finding(
        "cold start: one start step by step, from the spawn (no profiler; the "
        "app's own marks come from wrapping its methods in probes.py)",
        lines,
    )


def _profile_cold_start(bench: Workbench) -> None:
    bench.findings.append(_timeline(bench))
    profile_to = bench.work / "cold-start.prof"
    with bench.app("cold-profiled", profile_to) as app:
        app.wait_for(FIGURES_SHOWN, 30)
    bench.findings.append(
        Finding(
            "cold start: the app's main thread, from process start to quitting "
            "just after the figures were painted (cProfile; own time; waits on "
            "thread locks are mostly Textual joining its threads as it quits)",
            top_functions(profile_to, limit=15),
        )
    )
    bench.findings.append(
        Finding(
            "cold start: the same profile, the app's own functions with callees",
            top_functions(profile_to, limit=20, sort="cumtime", only="monitor_tui/"),
        )
    )
    imports = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import monitor_tui.cli, monitor_tui.app",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    bench.findings.append(
        Finding(
            "cold start: what the app imports before its first frame (python -X "
            "importtime of monitor_tui.cli and monitor_tui.app; own time per "
            "package)",
            slowest_imports(imports.stderr),
        )
    )
    read_to = bench.work / "snapshot.prof"
    bench.probe(
        "snapshot", str(bench.data_dir), "--zone", bench.zone, "--profile", str(read_to)
    )
    bench.findings.append(
        Finding(
            "cold start: the Live tab's read of the store in a new process "
            "(cProfile; own time)",
            top_functions(read_to, limit=12),
        )
    )


def idle(bench: Workbench, seconds: float) -> list[Measure]:
    """The app's CPU use on the Live tab over ``seconds`` with one sync in them,
    as with 60 s syncs, and its peak memory after showing 90 days of Analytics.

    The window starts with `r` (sync now), so it holds exactly one sync whatever
    the timer's phase. A window shorter than the poll interval is counted as its
    first ``SYNC_SECONDS`` (the sync) plus the rest's rate over the remainder of
    60 s. A profile is taken in a run of its own: cProfile slows what it sees.
    """
    measures = _idle_run(bench, "idle", seconds, None)
    if bench.profiling(*measures):
        profile_to = bench.work / "idle.prof"
        _idle_run(bench, "idle-profiled", seconds, profile_to)
        bench.findings.append(
            Finding(
                f"idle on Live: the app's main thread over the {seconds:.0f} s "
                "window (cProfile; own time; the sync's thread is not in it)",
                top_functions(profile_to, limit=15),
            )
        )
    return measures


def _wait_for_syncs(bench: Workbench, name: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while bench.syncs_logged(name) < count:
        if time.monotonic() > deadline:
            raise BenchError(f"the app did not finish {count} sync(s) in {timeout} s")
        time.sleep(0.05)


def _idle_run(
    bench: Workbench, name: str, seconds: float, profile_to: Path | None
) -> list[Measure]:
    with bench.app(name, profile_to, from_signal=True) as app:
        app.wait_for(FIGURES_SHOWN, 30)
        # The app's first sync loads the SDK and the price data: not idle.
        _wait_for_syncs(bench, name, 1, 60)
        mark = app.mark()
        app.press("2")
        app.wait_for("Computing", 30, after=mark)
        mark = app.mark()
        app.press("n")
        app.wait_for("Last 90 days:", 60, after=mark)
        app.press("1")
        time.sleep(2)

        if profile_to is not None:
            os.kill(app.pid, signal.SIGUSR1)
        syncs = bench.syncs_logged(name)
        bench.api.clear()
        cpu_start, began = app.cpu_seconds(), time.perf_counter()
        app.press("r")
        split, synced_in_time = None, True
        if seconds < POLL_SECONDS:
            time.sleep(SYNC_SECONDS)
            split = (app.cpu_seconds(), time.perf_counter())
            synced_in_time = bench.syncs_logged(name) > syncs
        time.sleep(max(0.0, began + seconds - time.perf_counter()))
        cpu_end, ended = app.cpu_seconds(), time.perf_counter()
        syncs = bench.syncs_logged(name) - syncs
        requests = bench.api.stats()["requests"]
        peak_mb = app.peak_rss_mb()

    cpu, window = cpu_end - cpu_start, ended - began
    percent = cpu / window * 100
    note = f"{cpu:.2f} s of CPU in {window:.0f} s"
    if split is not None:
        cpu_split, at_split = split
        rest_rate = (cpu_end - cpu_split) / (ended - at_split)
        first = at_split - began
        percent = (cpu_split - cpu_start + rest_rate * (POLL_SECONDS - first)) * 100
        percent /= POLL_SECONDS
        note = (
            f"estimated for 60 s from {window:.0f} s: {cpu_split - cpu_start:.2f} s "
            f"of CPU in the first {first:.0f} s (the sync), then "
            f"{rest_rate * 100:.2f} %"
        )
        if not synced_in_time:
            note += f" (the sync took more than {SYNC_SECONDS} s: the figure is off)"
    note += f"; {syncs} sync, {requests} requests"
    if syncs != 1:
        note += " (not the 1 sync expected: the figure is off)"
    return [
        Measure(
            "idle_cpu_percent",
            "CPU on the Live tab, 60 s syncs (% of a core)",
            percent,
            "%",
            MAX_IDLE_CPU_PERCENT,
            strictly_under=True,
            note=note,
        ),
        Measure(
            "app_peak_rss_mb",
            "peak memory of the app (after 90-day Analytics)",
            peak_mb,
            "MB",
            MAX_MEMORY_MB,
            note="VmHWM of the app process at the end of the idle window",
        ),
    ]
