"""Where the time went: the top functions of a cProfile run, and the slowest
imports of ``python -X importtime``, as short tables for the benchmark's output."""

from __future__ import annotations

import cProfile
import pstats
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _where(filename: str, line: int, name: str) -> str:
    """A function's place, short: paths inside the repository or a
    site-packages folder lose their prefix."""
    if filename.startswith("~") or filename.startswith("<"):
        return name  # a builtin, shown as {method 'read' of ...}
    path = filename
    if path.startswith(str(ROOT)):
        path = path[len(str(ROOT)) + 1 :]
    elif "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python" in path:
        path = "stdlib/" + path.split("/lib/python", 1)[1].split("/", 1)[1]
    return f"{path}:{line}({name})"


def top_functions(
    profile: cProfile.Profile | str | Path,
    *,
    limit: int = 12,
    sort: str = "tottime",
    only: str | None = None,
) -> list[str]:
    """The ``limit`` costliest functions of a profile as printable lines.

    Args:
        profile: A finished profiler, or the path of its dumped stats.
        limit: How many functions.
        sort: ``tottime`` (time in the function itself) or ``cumtime`` (with
            what it calls).
        only: Keep only functions whose file path contains this.
    """
    stats = pstats.Stats(str(profile) if isinstance(profile, Path) else profile)
    entries = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    column = 2 if sort == "tottime" else 3
    kept = [item for item in entries.items() if only is None or only in item[0][0]]
    ranked = sorted(kept, key=lambda item: item[1][column], reverse=True)
    lines = [
        f"  {'own ms':>8} {'with callees':>12} {'calls':>8}  function "
        f"(of {total * 1000:.0f} ms profiled)"
    ]
    for (filename, line, name), (_, calls, own, cumulative, _) in ranked[:limit]:
        lines.append(
            f"  {own * 1000:8.1f} {cumulative * 1000:12.1f} {calls:8d}  "
            f"{_where(filename, line, name)}"
        )
    return lines


_IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+\d+\s+\|\s*(\S+)")


def slowest_imports(importtime_stderr: str, *, limit: int = 12) -> list[str]:
    """The packages whose modules took longest to import, from the stderr of
    ``python -X importtime``, as printable lines.

    Each module's own time is counted to its top-level package, so a package
    is charged for its modules, not for the packages they import in turn.
    """
    packages: dict[str, int] = {}
    for line in importtime_stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is not None:
            own, module = match.groups()
            top = module.split(".", 1)[0]
            packages[top] = packages.get(top, 0) + int(own)
    total = sum(packages.values())
    ranked = sorted(packages.items(), key=lambda item: item[1], reverse=True)
    lines = [f"  {'ms':>7}  package (of {total / 1000:.0f} ms of imports)"]
    lines += [f"  {us / 1000:7.1f}  {name}" for name, us in ranked[:limit]]
    return lines
