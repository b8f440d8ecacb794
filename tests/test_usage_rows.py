"""Parsing API pages into usage and cost rows: identity, nulls, exact amounts."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor_tui.usage import (
    COMPLETIONS,
    EMBEDDINGS,
    align,
    check_coverage,
    parse_amount,
    parse_cost_buckets,
    parse_usage_buckets,
    usage_identity,
)


def completions_result(**fields):
    result = {
        "object": "organization.usage.completions.result",
        "input_tokens": 10,
        "output_tokens": 5,
        "num_model_requests": 1,
        "project_id": None,
        "user_id": None,
        "api_key_id": None,
        "model": "gpt-4o-2024-08-06",
        "batch": None,
        "service_tier": None,
    }
    result.update(fields)
    return result


def test_missing_optional_counts_read_as_zero_and_names_follow_the_report():
    bucket = {"start_time": 3600, "end_time": 7200, "results": [completions_result()]}
    (row,) = parse_usage_buckets([bucket], COMPLETIONS, "1h", "openai")
    assert row["cached_input_tokens"] == 0
    assert row["requests"] == 1
    assert row["start"] == 3600


def test_null_counts_read_as_zero():
    result = completions_result(input_cached_tokens=None, output_audio_tokens=None)
    bucket = {"start_time": 0, "end_time": 60, "results": [result]}
    (row,) = parse_usage_buckets([bucket], COMPLETIONS, "1m", "openai")
    assert row["cached_input_tokens"] == 0 and row["output_audio_tokens"] == 0


def test_results_of_an_unknown_kind_are_skipped():
    strange = {"object": "organization.usage.mystery.result", "input_tokens": 10**9}
    bucket = {"start_time": 0, "end_time": 60, "results": [strange]}
    assert list(parse_usage_buckets([bucket], EMBEDDINGS, "1h", "openai")) == []


def test_empty_buckets_give_no_rows():
    buckets = [{"start_time": 0, "end_time": 3600, "results": []}]
    assert list(parse_usage_buckets(buckets, COMPLETIONS, "1h", "openai")) == []


def test_a_result_whose_count_is_not_a_number_is_skipped_and_counted():
    good = completions_result(input_tokens=5)
    bucket = {
        "start_time": 0,
        "results": [completions_result(input_tokens="many"), good],
    }
    skipped: Counter[str] = Counter()
    rows = list(parse_usage_buckets([bucket], COMPLETIONS, "1h", "openai", skipped))
    assert [r["input_tokens"] for r in rows] == [5], "the rest of the page is kept"
    assert skipped == Counter({"input_tokens is not a number": 1})


def test_cost_amounts_are_exact_whether_strings_or_numbers():
    results = [
        {
            "object": "organization.costs.result",
            "amount": {"value": value, "currency": "usd"},
        }
        for value in ("0.1396239", Decimal("0.0684288"), 0.1209324, "12.50")
    ]
    rows = list(parse_cost_buckets([{"start_time": 0, "results": results}], "openai"))
    total = sum(Decimal(r["amount"]) for r in rows)
    assert total == Decimal("12.8289851")


@pytest.mark.parametrize(
    "value", ["twelve", None, "NaN", "Infinity", "sNaN", "1e999999", 1e400, True]
)
def test_an_amount_that_is_not_a_plausible_number_is_refused(value):
    with pytest.raises(ValueError):
        parse_amount(value)


def test_a_credit_is_a_negative_amount_and_is_kept():
    assert parse_amount("-5.25") == Decimal("-5.25")


def test_an_amount_in_exponent_form_is_stored_as_plain_digits():
    results = [
        {
            "object": "organization.costs.result",
            "amount": {"value": "1.5E-7", "currency": "usd"},
        }
    ]
    (row,) = parse_cost_buckets([{"start_time": 0, "results": results}], "openai")
    assert row["amount"] == "0.00000015"


@pytest.mark.parametrize("value", [-1, 2.5, float("nan"), 10**16])
def test_a_result_with_an_implausible_count_is_skipped_and_counted(value):
    bucket = {"start_time": 0, "results": [completions_result(output_tokens=value)]}
    skipped: Counter[str] = Counter()
    assert (
        list(parse_usage_buckets([bucket], COMPLETIONS, "1h", "openai", skipped)) == []
    )
    assert skipped == Counter(
        {"output_tokens is negative, fractional or implausibly large": 1}
    )


def test_a_cost_without_a_usable_amount_is_skipped_and_counted():
    results = [
        {"object": "organization.costs.result", "amount": {"value": "NaN"}},
        {"object": "organization.costs.result", "amount": None},
        {"object": "organization.costs.result", "amount": {"value": "2.5"}},
        {"object": "organization.costs.mystery", "amount": {"value": "1"}},
    ]
    skipped: Counter[str] = Counter()
    rows = list(
        parse_cost_buckets([{"start_time": 0, "results": results}], "o", skipped)
    )
    assert [r["amount"] for r in rows] == ["2.5"]
    assert sum(skipped.values()) == 3


def test_identity_covers_every_dimension_of_the_endpoint():
    result = completions_result(
        project_id="p", api_key_id="k", batch=True, service_tier="flex"
    )
    bucket = {"start_time": 0, "results": [result]}
    (row,) = parse_usage_buckets([bucket], COMPLETIONS, "1h", "openai")
    assert usage_identity(row) == (
        "openai",
        "completions",
        "1h",
        0,
        "p",
        None,
        "k",
        "gpt-4o-2024-08-06",
        True,
        "flex",
    )


@given(st.integers(min_value=0, max_value=2**40), st.sampled_from(["1m", "1h", "1d"]))
def test_align_gives_the_bucket_that_contains_the_moment(epoch, width):
    step = {"1m": 60, "1h": 3600, "1d": 86400}[width]
    start = align(epoch, width)
    assert start % step == 0
    assert start <= epoch < start + step


counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**15))


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "input_tokens": counts,
                "output_tokens": counts,
                "input_cached_tokens": counts,
                "num_model_requests": counts,
                "model": st.sampled_from([None, "gpt-4o", "o3-2025-04-16"]),
                "object": st.sampled_from([COMPLETIONS.result_object, "other.result"]),
            }
        ),
        max_size=8,
    )
)
def test_parser_counts_what_it_keeps_and_never_crashes_on_nulls(results):
    bucket = {"start_time": 60, "end_time": 120, "results": results}
    rows = list(parse_usage_buckets([bucket], COMPLETIONS, "1m", "openai"))
    kept = [r for r in results if r["object"] == COMPLETIONS.result_object]
    assert len(rows) == len(kept)
    assert sum(r["input_tokens"] for r in rows) == sum(
        r["input_tokens"] or 0 for r in kept
    )


def test_a_window_must_be_covered_by_its_buckets_exactly_once():
    check_coverage([0, 3600, 7200], 0, 7500, "1h")
    with pytest.raises(ValueError, match="expected 3"):
        check_coverage([0, 7200], 0, 7500, "1h")
    with pytest.raises(ValueError):
        check_coverage([0, 0, 3600, 7200], 0, 7500, "1h")


def test_the_newest_buckets_may_be_missing_when_the_apis_clock_is_behind():
    # At 02:01:30 the server's clock may still say 01:59:50: the 02:00 and 02:01
    # minute buckets are new enough to be missing; 01:59 is not.
    start, end = 0, 2 * 3600 + 90
    every = list(range(start, end, 60))
    check_coverage(every[:-2], start, end, "1m")
    with pytest.raises(ValueError):
        check_coverage(every[:-4], start, end, "1m")
