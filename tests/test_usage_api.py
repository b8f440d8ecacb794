"""The local Usage and Costs API server, driven by the real openai SDK.

Each test states what the reference (shared/reference/openai-usage-api.md) says the
API does, and checks the server does it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.usage_api import UsageApiServer, busy_org, small_org

KEY = "sk-admin-test-key-0123456789"
NOW = 1764806400
"""2025-12-04T00:00:00Z: a UTC midnight, so day and hour buckets align on it."""
HOUR = 3600
DAY = 86400
MINI = "gpt-4o-mini-2024-07-18"
GPT_4O = "gpt-4o-2024-08-06"


def completion(when: int, model: str = MINI, **fields: Any) -> dict[str, Any]:
    """A completions record with small default counts."""
    record = {
        "endpoint": "completions",
        "time": when,
        "model": model,
        "project_id": "proj_a",
        "api_key_id": "key_a",
        "input_tokens": 100,
        "output_tokens": 10,
        "num_model_requests": 1,
    }
    record.update(fields)
    return record


def cost(when: int, amount: Any, **fields: Any) -> dict[str, Any]:
    """A costs record for one line item."""
    record = {
        "endpoint": "costs",
        "time": when,
        "project_id": "proj_a",
        "line_item": f"{MINI}, input",
        "amount": amount,
    }
    record.update(fields)
    return record


@contextmanager
def serving(
    records: list[dict[str, Any]], key: str = KEY, **options: Any
) -> Iterator[tuple[UsageApiServer, OpenAI]]:
    """A started server and an SDK client with retries off, both closed after."""
    with (
        UsageApiServer(records, now=NOW, admin_key=KEY, **options) as server,
        OpenAI(admin_api_key=key, base_url=server.base_url, max_retries=0) as client,
    ):
        yield server, client


def raw_get(
    server: UsageApiServer, path_and_query: str, key: str | None = KEY
) -> tuple[int, dict]:
    """GETs a URL by hand, for wire forms the SDK never sends."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(server.base_url + path_and_query, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_pages_return_every_hourly_bucket_exactly_once() -> None:
    start = NOW - 3 * DAY
    records = [completion(t + 120) for t in range(start, NOW, HOUR)]
    with serving(records) as (server, client):
        seen, cursor = [], None
        while True:
            extra = {"page": cursor} if cursor else {}
            page = client.admin.organization.usage.completions(
                start_time=start, end_time=NOW, bucket_width="1h", limit=10, **extra
            )
            seen += [(b.start_time, b.end_time, len(b.results)) for b in page.data]
            if not page.has_more:
                assert page.next_page is None
                break
            cursor = page.next_page

        assert seen == [(t, t + HOUR, 1) for t in range(start, NOW, HOUR)]
        # 72 buckets at 10 per page.
        assert len(server.requests) == 8


def test_an_unaligned_start_gives_a_short_first_bucket() -> None:
    start = NOW - 2 * DAY + 5 * HOUR + 1234
    with serving([]) as (_, client):
        days = client.admin.organization.usage.completions(
            start_time=start, end_time=NOW, bucket_width="1d"
        )
        hours = client.admin.organization.usage.completions(
            start_time=start, end_time=start + 2 * HOUR, bucket_width="1h"
        )

    assert [(b.start_time, b.end_time) for b in days.data] == [
        (start, NOW - DAY),
        (NOW - DAY, NOW),
    ]
    aligned = start - start % HOUR
    assert [(b.start_time, b.end_time) for b in hours.data] == [
        (start, aligned + HOUR),
        (aligned + HOUR, aligned + 2 * HOUR),
        (aligned + 2 * HOUR, start + 2 * HOUR),
    ]


def test_buckets_without_usage_are_present_and_empty() -> None:
    start = NOW - 4 * HOUR
    records = [completion(start + 60), completion(start + 3 * HOUR + 60)]
    with serving(records) as (_, client):
        page = client.admin.organization.usage.completions(
            start_time=start, end_time=NOW, bucket_width="1h"
        )

    assert [len(b.results) for b in page.data] == [1, 0, 0, 1]


def test_an_omitted_end_time_runs_to_now_and_a_future_one_is_served() -> None:
    start = NOW - 2 * HOUR
    with serving([completion(start)]) as (_, client):
        to_now = client.admin.organization.usage.completions(
            start_time=start, bucket_width="1h"
        )
        future = client.admin.organization.usage.completions(
            start_time=start, end_time=NOW + 2 * HOUR, bucket_width="1h"
        )

    assert to_now.data[-1].end_time == NOW
    assert len(future.data) == 4
    assert [len(b.results) for b in future.data[2:]] == [0, 0]


def test_usage_is_reported_once_now_has_passed_it() -> None:
    with serving([completion(NOW + 30)]) as (server, client):
        usage = client.admin.organization.usage
        before = usage.completions(start_time=NOW, end_time=NOW + HOUR)
        server.now = NOW + 60
        server.add_records([completion(NOW + 40, input_tokens=5)])
        after = usage.completions(start_time=NOW, end_time=NOW + HOUR)

    assert before.data[0].results == []
    assert after.data[0].results[0].input_tokens == 105


def test_dimensions_not_grouped_are_present_as_null() -> None:
    with serving([completion(NOW - HOUR)]) as (_, client):
        raw = client.admin.organization.usage.with_raw_response.completions(
            start_time=NOW - DAY, end_time=NOW, group_by=["model"]
        )

    (result,) = raw.http_response.json()["data"][0]["results"]
    assert result["object"] == "organization.usage.completions.result"
    assert result["model"] == MINI
    for name in ("project_id", "user_id", "api_key_id", "batch", "service_tier"):
        assert name in result
        assert result[name] is None


def test_grouping_sums_the_records_of_each_combination() -> None:
    records = [
        completion(NOW - 3 * HOUR, input_tokens=100, input_cached_tokens=40),
        completion(NOW - 2 * HOUR, input_tokens=200, project_id="proj_b"),
        completion(NOW - HOUR, GPT_4O, input_tokens=1000, output_tokens=50),
    ]
    with serving(records) as (_, client):
        by_model = client.admin.organization.usage.completions(
            start_time=NOW - DAY, end_time=NOW, group_by=["model"]
        )
        by_both = client.admin.organization.usage.completions(
            start_time=NOW - DAY, end_time=NOW, group_by=["model", "project_id"]
        )
        total = client.admin.organization.usage.completions(
            start_time=NOW - DAY, end_time=NOW
        )

    rows = {r.model: r for r in by_model.data[0].results}
    assert (rows[MINI].input_tokens, rows[MINI].num_model_requests) == (300, 2)
    assert rows[MINI].input_cached_tokens == 40
    assert (rows[GPT_4O].input_tokens, rows[GPT_4O].output_tokens) == (1000, 50)
    assert rows[GPT_4O].input_cached_tokens is None
    assert {(r.model, r.project_id) for r in by_both.data[0].results} == {
        (MINI, "proj_a"),
        (MINI, "proj_b"),
        (GPT_4O, "proj_a"),
    }
    (row,) = total.data[0].results
    assert (row.input_tokens, row.output_tokens, row.model) == (1300, 70, None)


def test_group_by_is_read_in_all_three_wire_forms() -> None:
    records = [completion(NOW - HOUR), completion(NOW - HOUR, GPT_4O)]
    window = f"start_time={NOW - DAY}&end_time={NOW}"
    with serving(records) as (server, _):
        answers = [
            raw_get(server, f"/organization/usage/completions?{window}&{form}")
            for form in (
                "group_by[]=model&group_by[]=project_id",
                "group_by=model&group_by=project_id",
                "group_by=model,project_id",
            )
        ]

    for status, body in answers:
        assert status == 200
        results = body["data"][0]["results"]
        assert [(r["model"], r["project_id"]) for r in results] == [
            (GPT_4O, "proj_a"),
            (MINI, "proj_a"),
        ]


def test_filters_keep_only_matching_records() -> None:
    records = [
        completion(NOW - HOUR, input_tokens=1),
        completion(NOW - HOUR, GPT_4O, input_tokens=20),
        completion(NOW - HOUR, input_tokens=300, batch=True, project_id="proj_b"),
    ]
    with serving(records) as (_, client):
        usage = client.admin.organization.usage

        def total(**filters: Any) -> int:
            page = usage.completions(start_time=NOW - DAY, end_time=NOW, **filters)
            return sum(r.input_tokens for b in page.data for r in b.results)

        assert total(models=[MINI]) == 301
        assert total(batch=False) == 21
        assert total(batch=True) == 300
        assert total(project_ids=["proj_b"], models=[MINI, GPT_4O]) == 300
        assert total(api_key_ids=["key_other"]) == 0


def test_embeddings_refuse_grouping_by_batch() -> None:
    with serving([]) as (_, client), pytest.raises(openai.BadRequestError) as caught:
        client.admin.organization.usage.embeddings(
            start_time=NOW - DAY,
            group_by=["batch"],  # type: ignore[list-item]
        )

    assert caught.value.status_code == 400
    assert "'batch'" in caught.value.message
    assert caught.value.body["param"] == "group_by"


@pytest.mark.parametrize(
    ("width", "limit"), [("1d", 32), ("1h", 169), ("1m", 1441), ("1h", 0)]
)
def test_a_limit_outside_the_documented_range_is_refused(
    width: str, limit: int
) -> None:
    with serving([]) as (_, client), pytest.raises(openai.BadRequestError):
        client.admin.organization.usage.completions(
            start_time=NOW - DAY,
            bucket_width=width,  # type: ignore[arg-type]
            limit=limit,
        )


def test_costs_accept_up_to_180_daily_buckets_and_only_daily_width() -> None:
    with serving([]) as (_, client):
        usage = client.admin.organization.usage
        page = usage.costs(start_time=NOW - 180 * DAY, end_time=NOW, limit=180)
        assert (len(page.data), page.has_more) == (180, False)
        with pytest.raises(openai.BadRequestError):
            usage.costs(start_time=NOW - DAY, limit=181)
        with pytest.raises(openai.BadRequestError):
            hourly: Any = "1h"  # costs only accept "1d"; the type says so too
            usage.costs(start_time=NOW - DAY, bucket_width=hourly)


def test_bad_requests_get_400_with_the_error_body() -> None:
    with serving([]) as (server, _):
        missing = raw_get(server, "/organization/usage/completions")
        cursor = raw_get(
            server, f"/organization/usage/completions?start_time={NOW}&page=page_x"
        )
        unknown = raw_get(server, f"/organization/costs?start_time={NOW}&models=m")
        path = raw_get(server, "/organization/usage/nothing?start_time=1")

    assert missing[0] == cursor[0] == unknown[0] == 400
    assert missing[1]["error"]["param"] == "start_time"
    assert cursor[1]["error"]["param"] == "page"
    assert path[0] == 404
    assert set(path[1]["error"]) == {"message", "type", "param", "code"}


def test_a_wrong_key_gets_401_without_the_key_echoed() -> None:
    wrong = "sk-admin-wrong-secret-987654321"
    with (
        serving([], key=wrong) as (_, client),
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.admin.organization.usage.completions(start_time=NOW - DAY)

    error = caught.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    assert "Incorrect API key provided" in error.message
    assert wrong not in error.response.text
    assert "secret" not in error.response.text


def test_a_request_without_a_key_gets_401() -> None:
    with serving([]) as (server, _):
        status, body = raw_get(server, f"/organization/costs?start_time={NOW}", None)

    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"


def test_any_bearer_is_accepted_when_no_admin_key_is_set() -> None:
    with (
        UsageApiServer([], now=NOW, admin_key=None) as server,
        OpenAI(admin_api_key="sk-anything", base_url=server.base_url) as client,
    ):
        page = client.admin.organization.usage.costs(start_time=NOW - DAY)

    assert len(page.data) == 1


def test_a_key_without_the_usage_scope_gets_403() -> None:
    project_key = "sk-proj-no-usage-scope-123456"
    with (
        serving([], key=project_key, forbidden_keys={project_key}) as (_, client),
        pytest.raises(openai.PermissionDeniedError) as caught,
    ):
        client.admin.organization.usage.costs(start_time=NOW - DAY)

    assert "Missing scopes: api.usage.read" in caught.value.message


def test_a_rate_limit_arrives_with_retry_after_then_clears() -> None:
    with serving([]) as (server, client):
        server.add_fault(status=429, retry_after=2, count=1)
        with pytest.raises(openai.RateLimitError) as caught:
            client.admin.organization.usage.completions(start_time=NOW - DAY)
        page = client.admin.organization.usage.completions(start_time=NOW - DAY)

    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.code == "rate_limit_exceeded"
    assert len(page.data) == 1
    assert [status for _, _, status in server.requests] == [429, 200]


def test_a_server_error_raises_internal_server_error() -> None:
    with serving([]) as (server, client):
        server.add_fault(status=500, retry_after=None, path_contains="/costs")
        client.admin.organization.usage.completions(start_time=NOW - DAY)
        with pytest.raises(openai.InternalServerError):
            client.admin.organization.usage.costs(start_time=NOW - DAY)


def test_page_cap_limits_buckets_per_page_whatever_the_limit() -> None:
    start = NOW - DAY
    with serving([], page_cap=5) as (server, client):
        starts, cursor = [], None
        while True:
            extra = {"page": cursor} if cursor else {}
            page = client.admin.organization.usage.completions(
                start_time=start, bucket_width="1h", limit=24, **extra
            )
            assert len(page.data) <= 5
            starts += [b.start_time for b in page.data]
            cursor = page.next_page
            if not page.has_more:
                break

    assert starts == list(range(start, NOW, HOUR))
    assert len(server.requests) == 5


def test_costs_amounts_are_exact_sums_as_numbers_or_strings() -> None:
    day = NOW - DAY
    records = [
        cost(day + 60, "0.1"),
        cost(day + 120, 0.2),
        cost(day + 180, "12.20", project_id="proj_b"),
    ]
    answers = {}
    for mode in ("number", "string", "mixed"):
        with serving(records, amounts_as=mode) as (_, client):
            raw = client.admin.organization.usage.with_raw_response.costs(
                start_time=day, end_time=NOW, group_by=["project_id"]
            )
            answers[mode] = raw.http_response
            typed = raw.parse()
            assert typed.data[0].results[0].amount.currency == "usd"

    # A float sum would give 0.30000000000000004.
    assert '"value":0.3,' in answers["number"].text
    amounts = {
        mode: [r["amount"]["value"] for r in answer.json()["data"][0]["results"]]
        for mode, answer in answers.items()
    }
    assert amounts["string"] == ["0.3", "12.20"]
    assert amounts["mixed"] == [0.3, "12.20"]


def test_optional_counts_are_omitted_or_null_as_configured() -> None:
    records = [completion(NOW - HOUR)]
    results = {}
    for nulls in (False, True):
        with serving(records, null_optional_fields=nulls) as (_, client):
            raw = client.admin.organization.usage.with_raw_response.completions(
                start_time=NOW - DAY
            )
            results[nulls] = raw.http_response.json()["data"][0]["results"][0]

    assert "input_cached_tokens" not in results[False]
    assert results[True]["input_cached_tokens"] is None


def test_unknown_result_objects_are_added_to_non_empty_buckets() -> None:
    records = [completion(NOW - 2 * HOUR)]
    with serving(records, unknown_result_objects=True) as (_, client):
        page = client.admin.organization.usage.completions(
            start_time=NOW - 2 * HOUR, bucket_width="1h"
        )

    assert [[r.object for r in b.results] for b in page.data] == [
        ["organization.usage.completions.result", "organization.usage.mystery.result"],
        [],
    ]


def test_repeat_cursor_sends_back_the_cursor_it_was_given() -> None:
    with serving([]) as (server, client):
        usage = client.admin.organization.usage
        first = usage.completions(start_time=NOW - DAY, bucket_width="1h", limit=6)
        server.add_fault(status=None, retry_after=None, repeat_cursor=True)
        again = usage.completions(
            start_time=NOW - DAY, bucket_width="1h", limit=6, page=first.next_page
        )

    assert first.next_page is not None
    assert again.next_page == first.next_page
    assert again.has_more


def test_a_slow_reply_takes_at_least_the_delay() -> None:
    with serving([]) as (server, client):
        server.add_fault(status=None, retry_after=None, delay=0.2)
        began = time.monotonic()
        page = client.admin.organization.usage.completions(start_time=NOW - DAY)
        elapsed = time.monotonic() - began

    assert elapsed >= 0.2
    assert len(page.data) == 1


def test_requests_are_logged_and_can_be_cleared() -> None:
    with serving([]) as (server, client):
        client.admin.organization.usage.completions(
            start_time=NOW - DAY, group_by=["model"]
        )
        path, params, status = server.requests[0]
        server.clear_requests()

        assert server.requests == []
    assert (path, status) == ("/v1/organization/usage/completions", 200)
    assert params["group_by[]"] == ["model"]


def test_small_org_is_served_for_every_width() -> None:
    records = small_org(NOW)
    assert records == small_org(NOW)
    last_hour = [
        r for r in records if r["endpoint"] == "completions" and r["time"] >= NOW - HOUR
    ]
    with serving(records) as (_, client):
        usage = client.admin.organization.usage
        minutes = usage.completions(
            start_time=NOW - HOUR, bucket_width="1m", limit=60, group_by=["model"]
        )
        embeddings = usage.embeddings(start_time=NOW - 3 * DAY, group_by=["model"])
        costs = usage.costs(start_time=NOW - 4 * DAY, group_by=["line_item"])

    assert sum(1 for b in minutes.data if b.results) == len(last_hour) == 8
    assert sum(r.input_tokens for b in minutes.data for r in b.results) == sum(
        r["input_tokens"] for r in last_hour
    )
    assert {r.model for b in embeddings.data for r in b.results} == {
        "text-embedding-3-small"
    }
    assert any(r.amount.value for b in costs.data for r in b.results)


def test_busy_org_builds_quickly_and_serves_a_week_of_hours_in_one_page() -> None:
    began = time.perf_counter()
    records = busy_org(NOW, days=90, groups=20, seed=7)
    assert time.perf_counter() - began < 2.0
    assert busy_org(NOW, days=2, seed=7) == busy_org(NOW, days=2, seed=7)

    with serving(records) as (_, client):
        began = time.perf_counter()
        page = client.admin.organization.usage.completions(
            start_time=NOW - 7 * DAY,
            bucket_width="1h",
            limit=168,
            group_by=["model", "project_id", "api_key_id"],
        )
        elapsed = time.perf_counter() - began

    assert elapsed < 2.0
    assert (len(page.data), page.has_more) == (168, False)
    assert all(len(b.results) == 20 for b in page.data)
    peak = max(r.input_tokens for b in page.data for r in b.results)
    assert 100_000 < peak < 2_000_000


def test_records_must_name_a_known_endpoint_and_an_integer_time() -> None:
    with pytest.raises(ValueError):
        UsageApiServer([{"endpoint": "chat", "time": NOW}])
    with pytest.raises(ValueError):
        UsageApiServer([completion(NOW + 0.5)])  # type: ignore[arg-type]
