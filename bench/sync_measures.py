"""The sync's measures, taken in the benchmark's own process through the real SDK:
the backfill of an empty store, and the local work of a steady-state sync."""

from __future__ import annotations

import cProfile
import statistics
import time
from collections.abc import Callable
from typing import Any

from profiles import top_functions
from results import (
    MAX_BACKFILL_REQUESTS,
    MAX_STEADY_SYNC_MS,
    Finding,
    Measure,
)
from workbench import BenchError, Workbench

from monitor_tui.sync import Syncer, open_syncer


class HttpWait:
    """Counts the time a syncer's SDK spends in its HTTP client: sending each
    request, waiting for the server and reading the answer. A sync's local work
    is its duration without this."""

    def __init__(self, syncer: Syncer) -> None:
        self.seconds = 0.0
        # OpenAISource -> openai.OpenAI -> its httpx2.Client. The SDK asks for
        # answers that are read whole within send (not streamed).
        http = syncer.source._client._client  # type: ignore[attr-defined]
        send = http.send

        def timed_send(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return send(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began

        http.send = timed_send


def _profile(run: Callable[[], object]) -> cProfile.Profile:
    profiler = cProfile.Profile()
    profiler.runcall(run)
    return profiler


def _clock() -> int:
    return int(time.time())


def backfill(bench: Workbench) -> tuple[list[Measure], Syncer, HttpWait]:
    """Sync the whole history into the empty store, as a first sync does.

    Returns:
        The measures, and the syncer (with its HTTP timer) for the steady syncs.
    """
    syncer = open_syncer(bench.settings(), _clock)
    http = HttpWait(syncer)
    bench.api.clear()
    began = time.perf_counter()
    result = syncer.sync()
    seconds = time.perf_counter() - began
    if not result.ok:
        raise BenchError(f"the backfill failed: {result.error}")
    stats = bench.api.stats()
    on_disk = sum(p.stat().st_size for p in bench.data_dir.rglob("*.json"))
    paths = ", ".join(
        f"{path.rsplit('/', 1)[1]} {count}"
        for path, count in sorted(stats["by_path"].items())
    )
    measures = [
        Measure(
            "backfill_requests",
            "backfill from empty: requests",
            stats["requests"],
            "requests",
            MAX_BACKFILL_REQUESTS,
            note=f"{paths} (completions, embeddings and costs: what the app reads)",
        ),
        Measure(
            "backfill_seconds",
            "backfill from empty: seconds",
            seconds,
            "s",
            note=f"of which the server answering {stats['answer_seconds']:.2f} s",
        ),
        Measure(
            "backfill_rows",
            "backfill from empty: rows stored",
            result.rows,
            "rows",
            note=f"{on_disk / 2**20:.1f} MB of JSON in the store",
        ),
    ]
    if bench.profiling(*measures):
        fresh = open_syncer(bench.settings(bench.work / "profile-data"), _clock)
        profiler = _profile(fresh.sync)
        fresh.close()
        bench.findings.append(
            Finding(
                "backfill (cProfile of a second backfill into another store; own time)",
                top_functions(profiler, limit=15),
            )
        )
    return measures, syncer, http


def steady_sync(
    bench: Workbench, syncer: Syncer, http: HttpWait, runs: int
) -> list[Measure]:
    """Time ``runs`` syncs of a store that is up to date, as the app's syncs
    every 60 s are, without the time spent in HTTP."""
    # The first sync after the backfill re-reads what the backfill left
    # revisable; from the next one on, every sync reads the same windows.
    syncer.sync()
    local_ms, total_ms, requests, server_ms = [], [], [], []
    for _ in range(runs):
        bench.api.clear()
        waited = http.seconds
        began = time.perf_counter()
        result = syncer.sync()
        total = time.perf_counter() - began
        if not result.ok:
            raise BenchError(f"a steady sync failed: {result.error}")
        stats = bench.api.stats()
        total_ms.append(total * 1000)
        local_ms.append((total - (http.seconds - waited)) * 1000)
        requests.append(stats["requests"])
        server_ms.append(stats["answer_seconds"] * 1000)
    measure = Measure(
        "steady_sync_local_ms",
        f"steady sync: local work (median of {runs})",
        statistics.median(local_ms),
        "ms",
        MAX_STEADY_SYNC_MS,
        note=(
            f"{statistics.median(total_ms):.0f} ms in all with HTTP, "
            f"{statistics.median(requests):.0f} requests, the server answering "
            f"{statistics.median(server_ms):.0f} ms; runs "
            + " ".join(f"{ms:.0f}" for ms in local_ms)
        ),
    )
    if bench.profiling(measure):
        profiler = _profile(syncer.sync)
        bench.findings.append(
            Finding(
                "steady sync (cProfile of one sync, HTTP included; own time)",
                top_functions(profiler, limit=15),
            )
        )
        bench.findings.append(
            Finding(
                "steady sync (the same profile, with callees)",
                top_functions(profiler, limit=15, sort="cumtime"),
            )
        )
    return [measure]
