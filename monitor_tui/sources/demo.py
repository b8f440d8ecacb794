"""Built-in demo data: a small made-up organization that answers like the API.

Every bucket is a pure function of the seed and the bucket's time, so re-reading a
bucket gives the same rows (as the real API does for closed buckets), the current
bucket grows as time passes, and tests can rely on exact figures.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from monitor_tui.names import Directory, KeyName, ProjectName
from monitor_tui.sources import Page
from monitor_tui.usage import USAGE_ENDPOINTS, WIDTH_SECONDS, align


@dataclass(frozen=True)
class DemoGroup:
    """One stream of usage: a model used by one key of one project."""

    endpoint: str
    model: str
    project_id: str
    api_key_id: str
    tokens_per_hour: int
    """Input tokens in a peak hour."""
    cached_share: float
    output_share: float
    tokens_per_request: int
    usd_per_million: Decimal
    """A blended rate for the demo's billed costs; estimates use real prices."""
    batch: bool = False
    service_tier: str = "default"


DEMO_GROUPS = (
    DemoGroup(
        "completions",
        "gpt-4o-2024-08-06",
        "proj_demo_webapp",
        "key_demo_web",
        900_000,
        0.45,
        0.18,
        2_400,
        Decimal("3.4"),
    ),
    DemoGroup(
        "completions",
        "gpt-4o-mini-2024-07-18",
        "proj_demo_webapp",
        "key_demo_web",
        2_600_000,
        0.30,
        0.22,
        1_800,
        Decimal("0.25"),
    ),
    DemoGroup(
        "completions",
        "gpt-4o-mini-2024-07-18",
        "proj_demo_support",
        "key_demo_helpdesk",
        1_400_000,
        0.55,
        0.15,
        1_200,
        Decimal("0.22"),
    ),
    DemoGroup(
        "completions",
        "gpt-4.1-2025-04-14",
        "proj_demo_research",
        "key_demo_notebooks",
        350_000,
        0.20,
        0.30,
        6_000,
        Decimal("3.8"),
    ),
    DemoGroup(
        "completions",
        "o3-2025-04-16",
        "proj_demo_research",
        "key_demo_notebooks",
        120_000,
        0.10,
        0.60,
        9_000,
        Decimal("6.5"),
    ),
    DemoGroup(
        "completions",
        "gpt-4o-mini-2024-07-18",
        "proj_demo_data",
        "key_demo_etl",
        1_900_000,
        0.00,
        0.10,
        3_000,
        Decimal("0.10"),
        batch=True,
        service_tier="default",
    ),
    DemoGroup(
        "embeddings",
        "text-embedding-3-small",
        "proj_demo_search",
        "key_demo_indexer",
        4_000_000,
        0.0,
        0.0,
        8_000,
        Decimal("0.02"),
    ),
)
"""The demo organization: several models, projects and keys."""

DEMO_PROJECTS = {
    "proj_demo_webapp": "Web app",
    "proj_demo_support": "Support assistant",
    "proj_demo_research": "Research",
    "proj_demo_data": "Data pipeline",
    "proj_demo_search": "Search index",
}
"""The demo's project names, by project id."""
DEMO_KEYS = {
    "key_demo_web": ("web-backend", "sk-proj-...W3bq"),
    "key_demo_helpdesk": ("helpdesk-bot", "sk-proj-...H7dk"),
    "key_demo_notebooks": ("notebooks", "sk-proj-...N0tb"),
    "key_demo_etl": ("nightly-etl", "sk-svcacct-...E7l9"),
    "key_demo_indexer": ("indexer", "sk-proj-...Ix42"),
}
"""The demo's API keys: id -> (name, redacted value)."""

# Share of the peak rate in each hour of the local day: quiet nights, a working
# day, and the busiest stretch late in the evening.
DAILY_RHYTHM = (
    0.35,
    0.22,
    0.12,
    0.08,
    0.07,
    0.08,
    0.12,
    0.2,
    0.34,
    0.46,
    0.52,
    0.55,
    0.5,
    0.52,
    0.56,
    0.58,
    0.6,
    0.62,
    0.66,
    0.74,
    0.86,
    0.97,
    1.0,
    0.7,
)

RESULT_OBJECTS = {name: e.result_object for name, e in USAGE_ENDPOINTS.items()}


@dataclass(frozen=True)
class DemoVolume:
    """One stream of usage read in daily buckets: images, speech, storage..."""

    endpoint: str
    field: str
    """The API's count field that measures it."""
    per_day: int
    """About how much of it a day brings (or holds, for storage)."""
    usd_per_unit: Decimal
    """A list-price rate for the demo's billed costs."""
    per_request: int = 0
    """Units per model request; 0 for endpoints that count no requests."""
    stock: bool = False
    """Stored, not used up: a day's bucket holds it whole, however short."""
    dims: tuple[tuple[str, str], ...] = ()
    """Its grouping dimensions (project, key, model...)."""


def _who(project: str, key: str | None = None, **more: str) -> tuple:
    dims = {"project_id": project, **({"api_key_id": key} if key else {}), **more}
    return tuple(dims.items())


DEMO_VOLUMES = (
    DemoVolume(
        "moderations",
        "input_tokens",
        150_000,
        Decimal(0),
        300,
        dims=_who("proj_demo_webapp", "key_demo_web", model="omni-moderation-latest"),
    ),
    DemoVolume(
        "images",
        "images",
        6,
        Decimal("0.042"),
        1,
        dims=_who(
            "proj_demo_webapp",
            "key_demo_web",
            model="gpt-image-1",
            size="1024x1024",
            source="image.generation",
        ),
    ),
    DemoVolume(
        "audio_speeches",
        "characters",
        40_000,
        Decimal("0.000015"),
        400,
        dims=_who("proj_demo_support", "key_demo_helpdesk", model="tts-1"),
    ),
    DemoVolume(
        "audio_transcriptions",
        "seconds",
        1_800,
        Decimal("0.0001"),
        60,
        dims=_who("proj_demo_support", "key_demo_helpdesk", model="whisper-1"),
    ),
    # About 350 MB kept in a vector store, at $0.10 per GB-day.
    DemoVolume(
        "vector_stores",
        "usage_bytes",
        350_000_000,
        Decimal("1e-10"),
        stock=True,
        dims=_who("proj_demo_search"),
    ),
    DemoVolume(
        "code_interpreter_sessions",
        "num_sessions",
        4,
        Decimal("0.03"),
        dims=_who("proj_demo_research"),
    ),
    DemoVolume(
        "file_search_calls",
        "num_requests",
        60,
        Decimal("0.0025"),
        dims=_who("proj_demo_support", "key_demo_helpdesk"),
    ),
    DemoVolume(
        "web_search_calls",
        "num_requests",
        25,
        Decimal("0.01"),
        1,
        dims=_who(
            "proj_demo_research",
            "key_demo_notebooks",
            model="gpt-4.1-2025-04-14",
            context_level="medium",
        ),
    ),
)
"""What the demo organization uses besides tokens: a little of everything."""


class DemoOrganization:
    """Answers usage and cost queries for the demo organization."""

    origin = "demo"

    def __init__(
        self,
        *,
        seed: int = 7,
        zone: ZoneInfo | None = None,
        now: Callable[[], int] | None = None,
        groups: Sequence[DemoGroup] = DEMO_GROUPS,
        volumes: Sequence[DemoVolume] = DEMO_VOLUMES,
    ) -> None:
        self.seed = seed
        self.zone = zone or ZoneInfo("UTC")
        self._now = now or (lambda: int(datetime.now(UTC).timestamp()))
        self.groups = tuple(groups)
        self.volumes = tuple(volumes)
        self.requests = 0

    def close(self) -> None:
        """Nothing to release; present so every source closes the same way."""

    # The model of usage

    def _hour_factor(self, hour_start: int) -> float:
        local_hour = datetime.fromtimestamp(hour_start, self.zone).hour
        rng = random.Random(f"{self.seed}:spike:{hour_start}")
        spike = 5.0 if rng.random() < 0.012 else 1.0
        return DAILY_RHYTHM[local_hour] * spike * rng.uniform(0.85, 1.15)

    def _hour_input(self, group: DemoGroup, index: int, hour_start: int) -> float:
        rng = random.Random(f"{self.seed}:{index}:{hour_start}")
        return (
            group.tokens_per_hour
            * self._hour_factor(hour_start)
            * rng.uniform(0.8, 1.2)
        )

    def _amount(self, group: DemoGroup, index: int, start: int, end: int) -> float:
        """Input tokens of ``group`` in [start, end), spread evenly over each hour."""
        total = 0.0
        hour = align(start, "1h")
        while hour < end:
            overlap = min(end, hour + 3600) - max(start, hour)
            if overlap > 0:
                share = overlap / 3600
                if overlap < 3600 and end - start <= 60:
                    # Minute buckets wobble around the hour's average.
                    rng = random.Random(f"{self.seed}:{index}:m{start}")
                    share *= rng.uniform(0.3, 1.7)
                total += self._hour_input(group, index, hour) * share
            hour += 3600
        return total

    def _result(self, group: DemoGroup, input_tokens: int) -> dict[str, Any]:
        result: dict[str, Any] = {
            "object": RESULT_OBJECTS[group.endpoint],
            "input_tokens": input_tokens,
            "num_model_requests": max(1, input_tokens // group.tokens_per_request),
            "project_id": group.project_id,
            "user_id": None,
            "api_key_id": group.api_key_id,
            "model": group.model,
        }
        if group.endpoint == "completions":
            result.update(
                input_cached_tokens=int(input_tokens * group.cached_share),
                output_tokens=int(input_tokens * group.output_share),
                input_audio_tokens=0,
                output_audio_tokens=0,
                batch=group.batch,
                service_tier=group.service_tier,
            )
        return result

    def _volume(self, volume: DemoVolume, index: int, start: int, end: int) -> int:
        """How much of ``volume`` falls in [start, end): each day's amount wobbles
        around ``per_day``, spread evenly over the day unless it is a stock."""
        total = 0.0
        day = align(start, "1d")
        while day < end:
            rng = random.Random(f"{self.seed}:volume{index}:{day}")
            amount = volume.per_day * rng.uniform(0.6, 1.4)
            overlap = min(end, day + 86400) - max(start, day)
            total += amount if volume.stock else amount * overlap / 86400
            day += 86400
        return int(total)

    def _volume_result(self, volume: DemoVolume, quantity: int) -> dict[str, Any]:
        result: dict[str, Any] = {
            "object": RESULT_OBJECTS[volume.endpoint],
            volume.field: quantity,
        }
        if volume.per_request:
            result["num_model_requests"] = max(1, quantity // volume.per_request)
        dims = dict(volume.dims)
        for dim in USAGE_ENDPOINTS[volume.endpoint].dimensions:
            result[dim] = dims.get(dim)
        return result

    def _results(
        self, endpoint: str, lo: int, hi: int
    ) -> Iterator[tuple[dict[str, Any], Decimal]]:
        """Each stream's result in [lo, hi), with its billed cost."""
        for index, group in enumerate(self.groups):
            if group.endpoint == endpoint:
                tokens = int(self._amount(group, index, lo, hi))
                if tokens > 0:
                    cost = tokens * group.usd_per_million / 1_000_000
                    yield self._result(group, tokens), cost
        for index, volume in enumerate(self.volumes):
            if volume.endpoint == endpoint:
                quantity = self._volume(volume, index, lo, hi)
                if quantity > 0:
                    cost = quantity * volume.usd_per_unit
                    yield self._volume_result(volume, quantity), cost

    # The API's answers

    def _buckets(self, width: str, start: int, end: int) -> Iterator[tuple[int, int]]:
        end = min(end, self._now())
        cursor = start
        while cursor < end:
            upto = min(align(cursor, width) + WIDTH_SECONDS[width], end)
            yield cursor, upto
            cursor = upto

    def usage_pages(
        self,
        endpoint: str,
        width: str,
        start: int,
        end: int,
        group_by: Sequence[str],
    ) -> Iterator[Page]:
        """Yield one page with every bucket of ``endpoint`` in [start, end)."""
        self.requests += 1
        dims = USAGE_ENDPOINTS[endpoint].dimensions
        data = []
        for lo, hi in self._buckets(width, start, end):
            merged: dict[tuple[Any, ...], dict[str, Any]] = {}
            for result, _ in self._results(endpoint, lo, hi):
                for dim in dims:
                    if dim not in group_by:
                        result[dim] = None
                key = tuple(result[d] for d in dims)
                if key in merged:
                    for field, value in result.items():
                        if isinstance(value, int) and not isinstance(value, bool):
                            merged[key][field] += value
                else:
                    merged[key] = result
            data.append(
                {
                    "object": "bucket",
                    "start_time": lo,
                    "end_time": hi,
                    "results": list(merged.values()),
                }
            )
        yield {"object": "page", "data": data, "has_more": False, "next_page": None}

    def cost_pages(
        self, start: int, end: int, group_by: Sequence[str]
    ) -> Iterator[Page]:
        """Yield one page of daily costs per project for [start, end)."""
        self.requests += 1
        data = []
        for lo, hi in self._buckets("1d", start, end):
            by_project: dict[str | None, Decimal] = {}
            for endpoint in USAGE_ENDPOINTS:
                for result, amount in self._results(endpoint, lo, hi):
                    project = result["project_id"] if "project_id" in group_by else None
                    by_project[project] = by_project.get(project, Decimal(0)) + amount
            results = [
                {
                    "object": "organization.costs.result",
                    "amount": {
                        "value": str(amount.quantize(Decimal("1e-6"))),
                        "currency": "usd",
                    },
                    "line_item": None,
                    "project_id": project,
                    "api_key_id": None,
                }
                for project, amount in sorted(
                    by_project.items(), key=lambda p: str(p[0])
                )
            ]
            data.append(
                {
                    "object": "bucket",
                    "start_time": lo,
                    "end_time": hi,
                    "results": results,
                }
            )
        yield {"object": "page", "data": data, "has_more": False, "next_page": None}

    def read_names(self) -> Directory:
        """The demo's projects and keys, as the admin list endpoints name them."""
        keys = {(g.api_key_id, g.project_id) for g in self.groups}
        return Directory(
            tuple(ProjectName(pid, name) for pid, name in DEMO_PROJECTS.items()),
            tuple(
                KeyName(key, *DEMO_KEYS[key], project)
                for key, project in sorted(keys)
                if key in DEMO_KEYS
            ),
        )
