"""The benchmark's results: the issue's targets, one measure per line of the table
beside its target with PASS or MISS, and the findings of the profiles."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The targets, for a 2-core machine.
MAX_BACKFILL_REQUESTS = 60
MAX_FIRST_PAINT_SECONDS = 0.6
MAX_STEADY_SYNC_MS = 50.0
MAX_RECOMPUTE_90D_MS = 150.0
MAX_MEMORY_MB = 200.0
MAX_IDLE_CPU_PERCENT = 2.0
"""Of one core, while on the Live tab with a sync every 60 s; strictly under."""


@dataclass
class Measure:
    """One line of the table: a figure, and the target it is held to, if any."""

    key: str
    """Its name in the JSON output."""
    label: str
    value: float | None
    unit: str
    """``requests``, ``rows``, ``s``, ``ms``, ``MB`` or ``%``."""
    target: float | None = None
    strictly_under: bool = False
    """The target is met below it, not at it."""
    note: str = ""

    @property
    def verdict(self) -> str:
        """PASS or MISS against the target; empty when there is none."""
        if self.target is None or self.value is None:
            return ""
        met = (
            self.value < self.target
            if self.strictly_under
            else self.value <= self.target
        )
        return "PASS" if met else "MISS"

    def figure(self) -> str:
        """The value as printed."""
        return "—" if self.value is None else _with_unit(self.value, self.unit)

    def goal(self) -> str:
        """The target as printed."""
        if self.target is None:
            return ""
        sign = "<" if self.strictly_under else "≤"
        return f"{sign} {_with_unit(self.target, self.unit)}"

    def to_json(self) -> dict[str, Any]:
        """The measure as a JSON object, verdict included."""
        return {**asdict(self), "verdict": self.verdict}


def _with_unit(value: float, unit: str) -> str:
    if unit in ("requests", "rows"):
        return f"{value:,.0f}"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"
    if unit == "%":
        return f"{value:.2f} %"
    return f"{value:,.0f} {unit}"


@dataclass
class Finding:
    """Where the time or memory of one measure goes, as printable lines."""

    title: str
    lines: list[str] = field(default_factory=list)


def table(measures: list[Measure]) -> list[str]:
    """The measures, each with its figure, target and verdict, then the notes."""
    width = max(len(m.label) for m in measures)
    lines = [
        f"{'measure':<{width}}  {'figure':>10}  {'target':>10}  verdict",
        "-" * (width + 34),
    ]
    lines += [
        f"{m.label:<{width}}  {m.figure():>10}  {m.goal():>10}  {m.verdict}".rstrip()
        for m in measures
    ]
    lines.append("")
    lines += [f"- {m.label}: {m.note}" for m in measures if m.note]
    return lines
