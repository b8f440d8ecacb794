"""Scenario builders: usage and costs records for the fake OpenAI Usage API server.

Every builder returns plain record dicts (see ``UsageApiServer``), the same list
for the same arguments.
"""

from __future__ import annotations

import math
import random
import string
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

MINUTE = 60
HOUR = 3600
DAY = 86400

# List prices in USD per million tokens: (input, cached input, output). The
# scenarios only need plausible costs, not the monitor's price data.
PRICES: dict[str, tuple[str, str, str]] = {
    "gpt-4o-2024-08-06": ("2.50", "1.25", "10.00"),
    "gpt-4o-mini-2024-07-18": ("0.15", "0.075", "0.60"),
    "gpt-4.1-2025-04-14": ("2.00", "0.50", "8.00"),
    "gpt-4.1-mini-2025-04-14": ("0.40", "0.10", "1.60"),
    "o4-mini-2025-04-16": ("1.10", "0.275", "4.40"),
    "o3-2025-04-16": ("2.00", "0.50", "8.00"),
    "text-embedding-3-small": ("0.02", "0.02", "0"),
    "text-embedding-3-large": ("0.13", "0.13", "0"),
}
BUSY_CHAT_MODELS = (
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-2024-08-06",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "o4-mini-2025-04-16",
    "o3-2025-04-16",
)
BUSY_EMBEDDING_MODELS = ("text-embedding-3-small", "text-embedding-3-large")

OTHER_USAGE: tuple[tuple[str, dict[str, int], dict[str, str]], ...] = (
    (
        "moderations",
        {"input_tokens": 1_200, "num_model_requests": 4},
        {"model": "omni-moderation-latest"},
    ),
    (
        "images",
        {"images": 2, "num_model_requests": 2},
        {"model": "gpt-image-1", "size": "1024x1024", "source": "image.generation"},
    ),
    (
        "audio_speeches",
        {"characters": 5_000, "num_model_requests": 10},
        {"model": "tts-1"},
    ),
    (
        "audio_transcriptions",
        {"seconds": 300, "num_model_requests": 5},
        {"model": "whisper-1"},
    ),
    ("code_interpreter_sessions", {"num_sessions": 1}, {}),
    ("file_search_calls", {"num_requests": 7}, {"vector_store_id": "vs_demo0001"}),
    (
        "web_search_calls",
        {"num_model_requests": 3, "num_requests": 4},
        {"model": "gpt-4o-2024-08-06", "context_level": "medium"},
    ),
)
"""Usage of the endpoints not counted in tokens, per record: endpoint, counts
and the dimensions beyond project, key and user."""
VECTOR_STORE_BYTES = 300_000_000
"""What the scenarios keep in vector stores each day: one record a day, since
the API reports the bytes stored, not bytes added."""

SMALL_PROJECTS = ("proj_Ab12Cd34Ef56Gh78", "proj_Zy98Xw76Vu54Ts32")
SMALL_KEYS = ("key_small0alpha0001", "key_small0beta00002", "key_small0gamma0003")
SMALL_USERS = ("user-small0alice00000000", "user-small0bob0000000000")


def small_org(now: int) -> list[dict[str, Any]]:
    """A small organization: three days of hourly usage, a busy last hour, costs.

    Completions on ``gpt-4o-mini-2024-07-18`` (project 0, keys 0 and 1, every
    sixth hour a batch record) and ``gpt-4o-2024-08-06`` (project 1, key 2, cached
    input only in even hours so the optional field is sometimes missing),
    embeddings on ``text-embedding-3-small`` (project 0, key 1), every sixth
    hour one record of each endpoint not counted in tokens and each day's vector
    store bytes (``other_usage``, project 0, key 0), a few records in the last
    hour at minute precision, and daily costs derived from the token usage,
    alternating string and numeric amounts.

    Args:
        now: The scenario's current time in unix seconds; every record is older.

    Returns:
        The records, in time order.
    """
    records: list[dict[str, Any]] = []
    this_hour = now - now % HOUR
    for hours_ago in range(72, 0, -1):
        hour = this_hour - hours_ago * HOUR
        wave = 1 + (hour // HOUR) % 24
        records.append(
            _completion(
                hour + 10 * MINUTE,
                "gpt-4o-mini-2024-07-18",
                SMALL_PROJECTS[0],
                SMALL_KEYS[hours_ago % 2],
                SMALL_USERS[0],
                input_tokens=1_000 * wave,
                output_tokens=200 * wave,
                num_model_requests=2 + wave // 4,
                input_cached_tokens=250 * wave,
                batch=hours_ago % 6 == 0,
            )
        )
        gpt_4o = _completion(
            hour + 30 * MINUTE,
            "gpt-4o-2024-08-06",
            SMALL_PROJECTS[1],
            SMALL_KEYS[2],
            SMALL_USERS[1],
            input_tokens=3_000 + 100 * wave,
            output_tokens=500 + 10 * wave,
            num_model_requests=3,
        )
        if hours_ago % 2 == 0:
            gpt_4o["input_cached_tokens"] = 1_000
        records.append(gpt_4o)
        records.append(
            _embedding(
                hour + 50 * MINUTE,
                "text-embedding-3-small",
                SMALL_PROJECTS[0],
                SMALL_KEYS[1],
                SMALL_USERS[0],
                input_tokens=5_000 + 50 * wave,
                num_model_requests=5,
            )
        )

    records.extend(
        other_usage(
            this_hour - 72 * HOUR,
            now,
            6 * HOUR,
            (SMALL_PROJECTS[0], SMALL_KEYS[0], SMALL_USERS[0]),
        )
    )

    # Usage at minute precision, some of it inside the current hour.
    for minutes_ago in (55, 41, 23, 11, 5, 2):
        records.append(
            _completion(
                now - minutes_ago * MINUTE - 17,
                "gpt-4o-mini-2024-07-18",
                SMALL_PROJECTS[0],
                SMALL_KEYS[0],
                SMALL_USERS[0],
                input_tokens=700 + minutes_ago,
                output_tokens=90,
                num_model_requests=1,
                input_cached_tokens=100,
            )
        )
    records.sort(key=lambda r: r["time"])
    return records + costs_from_usage(records)


def busy_org(
    now: int, days: int = 90, groups: int = 20, seed: int = 0
) -> list[dict[str, Any]]:
    """The benchmark's busy organization.

    ``groups`` (model, project_id, api_key_id) groups on completions and one
    embeddings group per five of them. Each group has one record per hour for
    ``days`` days, then one per minute for the last 24 hours; volumes follow a
    daily rhythm that peaks in the late evening UTC (hundreds of thousands of
    input tokens per group-hour at the peak, a share of them cached). Daily
    costs records per project and line item are derived from the usage.

    Args:
        now: The scenario's current time in unix seconds; every record is older.
        days: How many days of history.
        groups: How many completions groups.
        seed: Seeds the random volumes and ids; the same seed, the same records.

    Returns:
        The records: usage in time order, then costs.
    """
    rng = random.Random(seed)
    projects = [_make_id(rng, "proj_", 16) for _ in range(4)]
    keys_per_project = max(3, math.ceil(groups / (len(projects) * 6)))
    keys = [
        [_make_id(rng, "key_", 16) for _ in range(keys_per_project)] for _ in projects
    ]
    users = [_make_id(rng, "user-", 24) for _ in projects]
    slots = [
        (p, k, m)
        for p in range(len(projects))
        for k in range(keys_per_project)
        for m in range(len(BUSY_CHAT_MODELS))
    ]
    rng.shuffle(slots)
    chat = [
        (BUSY_CHAT_MODELS[m], projects[p], keys[p][k], users[p], rng.random() < 0.1)
        for p, k, m in slots[:groups]
    ]
    embedding = [
        (BUSY_EMBEDDING_MODELS[i % 2], projects[i % 4], keys[i % 4][0], users[i % 4])
        for i in range(max(1, groups // 5))
    ]

    # Volume per hour of the UTC day: a quarter at the quietest, full at 22:00.
    rhythm = [
        0.25 + 0.75 * ((1 + math.cos(2 * math.pi * (h - 22) / 24)) / 2) ** 2
        for h in range(24)
    ]
    first_hour = now - days * DAY
    first_hour -= first_hour % HOUR
    # Minute records start on an hour boundary so no hour is counted twice.
    first_minute = now - DAY + (-(now - DAY)) % HOUR
    steps = [(t, HOUR) for t in range(first_hour, first_minute, HOUR)]
    steps += [(t, MINUTE) for t in range(first_minute, now, MINUTE)]

    chat_shapes = [
        (
            rng.uniform(200_000, 800_000),
            rng.uniform(0.15, 0.6),
            rng.uniform(0.08, 0.3),
            rng.uniform(1_500, 4_000),
        )
        for _ in chat
    ]
    embedding_sizes = [rng.uniform(50_000, 300_000) for _ in embedding]
    records: list[dict[str, Any]] = []
    add = records.append
    random_ = rng.random
    for t, width in steps:
        share = rhythm[(t // HOUR) % 24] * width / HOUR
        for (model, project, key, user, batch), shape in zip(
            chat, chat_shapes, strict=True
        ):
            base, cached_share, output_share, tokens_per_request = shape
            tokens = int(base * share * (0.8 + 0.4 * random_()))
            add(
                {
                    "endpoint": "completions",
                    "time": t,
                    "model": model,
                    "project_id": project,
                    "api_key_id": key,
                    "user_id": user,
                    "batch": batch,
                    "input_tokens": tokens,
                    "input_cached_tokens": int(tokens * cached_share),
                    "output_tokens": int(tokens * output_share),
                    "num_model_requests": max(1, int(tokens / tokens_per_request)),
                }
            )
        for (model, project, key, user), size in zip(
            embedding, embedding_sizes, strict=True
        ):
            tokens = int(size * share * (0.8 + 0.4 * random_()))
            add(
                {
                    "endpoint": "embeddings",
                    "time": t,
                    "model": model,
                    "project_id": project,
                    "api_key_id": key,
                    "user_id": user,
                    "input_tokens": tokens,
                    "num_model_requests": max(1, tokens // 800),
                }
            )
    records.extend(
        other_usage(first_hour, now, 6 * HOUR, (projects[0], keys[0][0], users[0]))
    )
    records.sort(key=lambda r: r["time"])
    return records + costs_from_usage(records)


def other_usage(
    first: int, now: int, step: int, who: tuple[str, str, str]
) -> list[dict[str, Any]]:
    """Records of every endpoint not counted in tokens, from ``first`` to ``now``.

    One record of each ``OTHER_USAGE`` line every ``step`` seconds from
    ``first``, and one vector store record of ``VECTOR_STORE_BYTES`` at one
    minute past each UTC midnight from the day of ``first`` on.

    Args:
        first: The time of the first records, unix seconds.
        now: Every record is older.
        step: Seconds between records.
        who: The project, API key and user of every record.

    Returns:
        The records, in time order.
    """
    project, key, user = who
    records: list[dict[str, Any]] = []
    for day in range(first - first % DAY, now, DAY):
        if day + MINUTE < now:
            records.append(
                {
                    "endpoint": "vector_stores",
                    "time": day + MINUTE,
                    "project_id": project,
                    "usage_bytes": VECTOR_STORE_BYTES,
                }
            )
    for when in range(first, now, step):
        for endpoint, counts, dims in OTHER_USAGE:
            records.append(
                {
                    "endpoint": endpoint,
                    "time": when,
                    "project_id": project,
                    "api_key_id": key,
                    "user_id": user,
                    **dims,
                    **counts,
                }
            )
    records.sort(key=lambda r: r["time"])
    return records


def costs_from_usage(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Daily costs records for usage records, one per UTC day, project, line item.

    Line items read ``"<model>, input"``, ``"<model>, cached input"`` and
    ``"<model>, output"``; batch usage costs half. Amounts are exact to seven
    decimals and alternate between numeric strings and numbers, as the live API
    has sent both.

    Args:
        records: Usage records; those of models without a price are skipped.

    Returns:
        The costs records, ordered by day, project and line item.
    """
    tokens: defaultdict[tuple[int, str, str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)]
    )
    for record in records:
        model = record.get("model")
        if (
            record["endpoint"] not in ("completions", "embeddings")
            or model not in PRICES
        ):
            continue
        day = record["time"] - record["time"] % DAY
        project = record.get("project_id")
        factor = Decimal("0.5") if record.get("batch") else Decimal(1)
        cached = record.get("input_cached_tokens") or 0
        parts = (
            ("input", 0, record.get("input_tokens", 0) - cached),
            ("cached input", 1, cached),
            ("output", 2, record.get("output_tokens", 0)),
        )
        for kind, column, count in parts:
            if count:
                totals = tokens[(day, project, model, kind)]
                totals[0] += count
                totals[1] += count * Decimal(PRICES[model][column]) * factor

    costs: list[dict[str, Any]] = []
    for (day, project, model, kind), (count, micro_dollars) in sorted(tokens.items()):
        amount = (micro_dollars / 1_000_000).quantize(Decimal("0.0000001"))
        value: Any = str(amount) if len(costs) % 2 == 0 else float(amount)
        costs.append(
            {
                "endpoint": "costs",
                "time": day,
                "project_id": project,
                "line_item": f"{model}, {kind}",
                "amount": value,
                "currency": "usd",
                "quantity": int(count),
                "quantity_unit": "tokens",
            }
        )
    return costs


def _usage(
    endpoint: str, when: int, model: str, project: str, key: str, user: str
) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "time": when,
        "model": model,
        "project_id": project,
        "api_key_id": key,
        "user_id": user,
    }


def _completion(
    when: int,
    model: str,
    project: str,
    key: str,
    user: str,
    *,
    batch: bool = False,
    **counts: int,
) -> dict[str, Any]:
    record = _usage("completions", when, model, project, key, user)
    return {**record, "batch": batch, "service_tier": "default", **counts}


def _embedding(
    when: int, model: str, project: str, key: str, user: str, **counts: int
) -> dict[str, Any]:
    return {**_usage("embeddings", when, model, project, key, user), **counts}


def _make_id(rng: random.Random, prefix: str, length: int) -> str:
    return prefix + "".join(rng.choices(string.ascii_letters + string.digits, k=length))
