"""The benchmark of monitor-tui on a busy organization: every measure beside its
target, from one command.

It starts the local fake Usage and Costs API with a busy organization (20 model,
project and key groups on completions and 4 on embeddings, 90 days of hourly data,
the last day at minute granularity; see ``bench/busy_api.py``), then measures the
backfill of an empty store, one steady-state sync, the cold start of the real app
to its painted Live tab, the Analytics recompute, peak memory, and the app's CPU
use while it sits on the Live tab, and prints each beside its target (for a
2-core machine) with PASS or MISS.

Run from the repository root, with the test extras installed (Linux only: it
reads ``/proc`` and drives the app on a pseudo-terminal)::

    python bench/run.py [--quick] [--json PATH] [--profile [miss|all]]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import app_measures  # noqa: E402
import core_measures  # noqa: E402
import sync_measures  # noqa: E402
from busy_api import BusyApi  # noqa: E402
from results import Measure, table  # noqa: E402
from workbench import BenchError, Workbench  # noqa: E402

BUSY_SHARE = 0.1
"""Above this share of the machine's CPU time used by other processes during the
run, the figures are flagged as taken on a busy machine."""


def describe_machine() -> dict[str, Any]:
    """The CPUs, their model, the Python and the system the figures come from."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def cpu_seconds() -> tuple[float, float, float]:
    """(CPU seconds the whole machine has been busy, CPU seconds of this process
    and its finished children, wall seconds), to tell what others used."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(value) for value in fields]
    # user, nice, system, idle, iowait, irq, softirq, steal: all but idle and
    # iowait are busy; guest time is already counted in user.
    busy = sum(ticks[:3]) + sum(ticks[5:8])
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime
    return busy / os.sysconf("SC_CLK_TCK"), own, time.monotonic()


def others_share(start: tuple[float, float, float]) -> float:
    """The share of the machine's CPU time that other processes used since
    ``start`` (from ``cpu_seconds``), once every child has ended."""
    busy, own, now = cpu_seconds()
    capacity = (now - start[2]) * (os.cpu_count() or 1)
    return max(0.0, (busy - start[0]) - (own - start[1])) / capacity


def describe_code() -> str:
    """The commit measured, and whether the app's code differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "monitor_tui"],
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    suffix = " with uncommitted changes in monitor_tui/" if changed else ""
    return f"commit {commit}{suffix}"


@contextlib.contextmanager
def _step(title: str) -> Iterator[None]:
    """Say on stderr what is being measured and how long it took."""
    print(f"  {title}…", end="", file=sys.stderr, flush=True)
    began = time.perf_counter()
    try:
        yield
    except BaseException:
        print(" failed", file=sys.stderr, flush=True)
        raise
    print(f" {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)


def measure_all(bench: Workbench, idle_seconds: float, into: list[Measure]) -> None:
    """Take every measure into ``into``, in an order where each finds the store
    it needs; what was taken stays there if a later measure fails."""
    runs = 5 if bench.quick else 9
    with _step("backfill"):
        taken, syncer, http = sync_measures.backfill(bench)
        into += taken
    try:
        with _step("steady syncs"):
            into += sync_measures.steady_sync(bench, syncer, http, runs)
    finally:
        syncer.close()
    with _step("cold starts"):
        into += app_measures.cold_start(bench, runs)
    with _step("Analytics recomputes"):
        into += core_measures.analytics(bench, runs, cold_runs=3)
    with _step("memory"):
        into += core_measures.memory(bench)
    with _step(f"the app on the Live tab for {idle_seconds:.0f} s"):
        into += app_measures.idle(bench, idle_seconds)


def main(argv: list[str] | None = None) -> int:
    """Run every measure and print the table; return 1 if a measure could not
    be taken (a MISS is a result, not a failure)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer runs, and 15 s instead of 60 s on the idle Live tab",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="miss",
        choices=("miss", "all"),
        help="profile each measure that misses its target (or every one) and "
        "print where the time goes",
    )
    parser.add_argument("--zone", default="Europe/Paris", help="display zone")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("the benchmark reads /proc: it runs on Linux only", file=sys.stderr)
        return 2

    machine = describe_machine()
    print(
        f"machine: {machine['cpus']} CPUs ({machine['cpus_usable']} usable), "
        f"{machine['cpu_model']}, Python {machine['python']}, {machine['system']}",
    )
    code = describe_code()
    print(f"code: {code}", flush=True)
    idle_seconds = 15.0 if args.quick else 60.0
    began = time.perf_counter()
    cpu_at_start = cpu_seconds()
    measures: list[Measure] = []
    error = None
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(
            tempfile.TemporaryDirectory(prefix="monitor-tui-bench-")
        )
        with _step("starting the fake API"):
            api = stack.enter_context(BusyApi())
        bench = Workbench(
            api, Path(scratch), quick=args.quick, zone=args.zone, profile=args.profile
        )
        days = bench.pin_budget(datetime.now(UTC))
        print(
            f"scenario: busy organization, {api.records:,} records (20 groups on "
            "completions, 4 on embeddings; 90 days hourly, the last day by "
            f"minute); display zone {args.zone}; a budget whose period has run "
            f"{days:.1f} days" + ("; --quick" if args.quick else "") + "\n",
            flush=True,
        )
        try:
            measure_all(bench, idle_seconds, measures)
        except (BenchError, TimeoutError) as exc:
            error = str(exc)
    seconds = time.perf_counter() - began
    others = others_share(cpu_at_start)

    if measures:
        print("\n".join(table(measures)))
    missed = sum(1 for m in measures if m.verdict == "MISS")
    judged = sum(1 for m in measures if m.verdict)
    print(f"\n{missed} of {judged} targets missed; the benchmark took {seconds:.0f} s")
    print(f"other processes used {others:.0%} of the machine's CPU meanwhile")
    if others > BUSY_SHARE:
        print("warning: the machine was busy with other work: the times are high")
    for finding in bench.findings:
        print(f"\n{finding.title}")
        print("\n".join(finding.lines))
    if error:
        print(f"\nthe benchmark stopped: {error}", file=sys.stderr)
    if args.json:
        results = {
            "machine": machine,
            "code": code,
            "quick": args.quick,
            "zone": args.zone,
            "seconds": round(seconds, 1),
            "others_cpu_share": round(others, 3),
            "error": error,
            "measures": [m.to_json() for m in measures],
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
