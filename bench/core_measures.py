"""The measures of the core without the UI, each in new processes (see
``probes.py``): the Analytics recompute, cold and warm, and the peak memory of the
Live tab's report with a 90-day Analytics."""

from __future__ import annotations

import statistics

from profiles import top_functions
from results import MAX_MEMORY_MB, MAX_RECOMPUTE_90D_MS, Finding, Measure
from workbench import Workbench

RANGES = ("7d", "30d", "90d")


def analytics(bench: Workbench, runs: int, cold_runs: int) -> list[Measure]:
    """Each range's recompute: cold, as the first in a new process (the store's
    files read from disk, the prices looked up), median of ``cold_runs``
    processes; warm, from the store's and the pricer's caches, median of ``runs``
    in each of those processes."""
    measures, pricer_ms = [], []
    for kind in RANGES:
        results = [
            bench.probe(
                "analytics",
                str(bench.data_dir),
                kind,
                "--runs",
                str(runs),
                "--zone",
                bench.zone,
            )
            for _ in range(cold_runs)
        ]
        pricer_ms += [r["pricer_ms"] for r in results]
        cold = [r["cold_ms"] for r in results]
        warm = statistics.median(r["warm_ms"] for r in results)
        prices = statistics.median(r["prices_cold_ms"] for r in results) - warm
        reading = statistics.median(cold) - warm - prices
        days = kind.removesuffix("d")
        target = MAX_RECOMPUTE_90D_MS if kind == "90d" else None
        measures.append(
            Measure(
                f"recompute_{kind}_cold_ms",
                f"Analytics recompute, {days} days, cold (median of {cold_runs})",
                statistics.median(cold),
                "ms",
                target,
                note=(
                    f"{results[0]['rows']:,} rows in the range; the first in a new "
                    f"process; above the warm figure, about {reading:.0f} ms go to "
                    f"reading the files from disk and {prices:.0f} ms to looking up "
                    "prices; runs " + " ".join(f"{ms:.0f}" for ms in cold)
                ),
            )
        )
        measures.append(
            Measure(
                f"recompute_{kind}_warm_ms",
                f"Analytics recompute, {days} days, warm "
                f"(median of {cold_runs}×{runs})",
                warm,
                "ms",
                target,
            )
        )
    measures.append(
        Measure(
            "pricer_ms",
            "building the savings' pricer (once a process)",
            statistics.median(pricer_ms),
            "ms",
            note="not in the recompute figures; the tab's first recompute pays it",
        )
    )
    if bench.profiling(*measures[-3:-1]):
        _profile_recompute(bench)
    return measures


def _profile_recompute(bench: Workbench) -> None:
    profile_to = bench.work / "analytics-90d"
    bench.probe(
        "analytics",
        str(bench.data_dir),
        "90d",
        "--runs",
        "1",
        "--zone",
        bench.zone,
        "--profile",
        str(profile_to),
    )
    for state in ("cold", "warm"):
        bench.findings.append(
            Finding(
                f"Analytics recompute, 90 days, {state} (cProfile; own time)",
                top_functions(profile_to.with_suffix(f".{state}.prof"), limit=15),
            )
        )


def memory(bench: Workbench) -> list[Measure]:
    """Peak memory of the Live tab's report and a 90-day Analytics, in one new
    process without the UI."""
    result = bench.probe("memory", str(bench.data_dir), "--zone", bench.zone)
    measure = Measure(
        "core_peak_rss_mb",
        "peak memory: Live report + 90-day Analytics",
        result["peak_mb"],
        "MB",
        MAX_MEMORY_MB,
        note=(
            f"one process without the UI: {result['after_imports_mb']:.0f} MB after "
            f"its imports, {result['after_snapshot_mb']:.0f} MB after the Live "
            "tab's snapshot"
        ),
    )
    if bench.profiling(measure):
        traced = bench.probe(
            "memory", str(bench.data_dir), "--zone", bench.zone, "--trace"
        )
        bench.findings.append(
            Finding(
                "memory: the lines whose allocations are still held at the end "
                "(tracemalloc)",
                ["  " + line for line in traced["top_allocations"]],
            )
        )
    return [measure]
