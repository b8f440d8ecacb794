"""The Analytics core: totals that equal the report's, hours and days grouped in the
display zone (west and east of UTC, across daylight-saving changes), the spans each
range is compared with, and savings worked out from list prices."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from monitor_tui.analytics import (
    RangeError,
    Span,
    cheaper_models,
    compute_analytics,
    custom_range,
    model_family,
    parse_dates,
    period_range,
    rolling_range,
)
from monitor_tui.analytics.text import hour_span_text, local_moment
from monitor_tui.budget import Budget
from monitor_tui.period import BillingPeriod, billing_period
from monitor_tui.pricing import Pricer
from monitor_tui.report import build_report
from monitor_tui.sources.demo import DemoOrganization
from monitor_tui.store import Store
from monitor_tui.sync import Syncer
from tests.conftest import NOW, NOW_EPOCH
from tests.factories import usage_row

UTC_ZONE = ZoneInfo("UTC")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")
KOLKATA = ZoneInfo("Asia/Kolkata")
PARIS = ZoneInfo("Europe/Paris")


def at(year: int, month: int, day: int, hour: int = 0, zone=UTC) -> int:
    """Epoch seconds of a wall-clock time in ``zone``."""
    return int(datetime(year, month, day, hour, tzinfo=zone).timestamp())


def put(store: Store, rows: list[dict], *, hourly_from: int) -> None:
    """Store ``rows`` as a sync would, with hourly history read from
    ``hourly_from`` on (daily rows count only before it)."""
    grouped = defaultdict(list)
    for row in rows:
        grouped[(row["endpoint"], row["width"])].append(row)
    for (endpoint, width), group in grouped.items():
        starts = [row["start"] for row in group]
        window = (min(starts), max(starts) + 86400)
        store.replace_usage("openai", endpoint, width, window, group, now=NOW_EPOCH)
    for endpoint in ("completions", "embeddings"):
        store.set_watermark("openai", endpoint, "1h", hourly_from, NOW_EPOCH)


def analytics(store, span, zone=UTC_ZONE, *, budget=None, project=None, now=NOW):
    return compute_analytics(store, "openai", span, zone, budget, now, project)


def one_day(day: date, zone: ZoneInfo):
    return custom_range(day, day, zone, NOW)


def dollar_every_hour(start: int, end: int) -> list[dict]:
    """One row costing $1 (and 1,000 input tokens) in each hour of [start, end)."""
    return [
        usage_row(moment, input_tokens=1_000, cost_usd="1")
        for moment in range(start, end, 3600)
    ]


# Totals


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Store:
    """Five weeks of the demo organization, synced and priced as the app does."""
    store = Store(tmp_path_factory.mktemp("demo"))
    result = Syncer(
        store,
        DemoOrganization(now=lambda: NOW_EPOCH),
        history_days=35,
        clock=lambda: NOW_EPOCH,
    ).sync()
    assert result.ok, result.error
    return store


def test_totals_and_model_costs_equal_the_reports_for_the_billing_period(demo_store):
    period = billing_period(NOW, 1, UTC_ZONE)
    report = build_report(demo_store, "demo", period, NOW)
    result = compute_analytics(
        demo_store, "demo", period_range(period, NOW), UTC_ZONE, None, NOW
    )

    assert result.totals.spend_usd == report.spend_usd > 0
    assert result.totals.input_tokens == report.input_tokens
    assert result.totals.cached_input_tokens == report.cached_input_tokens
    assert result.totals.output_tokens == report.output_tokens
    assert result.totals.requests == report.requests
    # Usage not counted in tokens (the demo's seven kinds: images, speech...) has
    # its own lines, named by endpoint and model, beside the report's models.
    by_model = {line.key: line.cost_usd for line in result.by_model}
    volume = {
        " ".join(filter(None, (v.endpoint, v.model))): v.cost_usd or Decimal(0)
        for v in report.usage_volume
    }
    assert len(volume) == 7
    assert by_model == {
        **{line.model: line.cost_usd for line in report.models},
        **volume,
    }


def test_every_breakdown_adds_up_to_the_totals(demo_store):
    result = compute_analytics(
        demo_store, "demo", rolling_range("30d", NOW), UTC_ZONE, None, NOW
    )
    for lines in (result.by_model, result.by_project, result.by_key):
        assert sum(line.cost_usd for line in lines) == result.totals.spend_usd
        assert sum(line.requests for line in lines) == result.totals.requests
        assert sum(line.share for line in lines) == pytest.approx(Decimal(100))
    assert len(result.by_project) == 5  # the demo's webapp, support, research...


def test_totals_count_daily_rows_only_before_the_hourly_history(store):
    hourly_from = at(2026, 11, 20)
    rows = [
        # Before the hourly history: the daily row counts, a stray hourly row not.
        usage_row(at(2026, 11, 18), width="1d", input_tokens=5_000, cost_usd="5"),
        usage_row(at(2026, 11, 18, 3), input_tokens=999, cost_usd="9"),
        # Inside it: the hourly row counts, the daily row of the same day not.
        usage_row(at(2026, 11, 21, 3), input_tokens=2_000, cost_usd="2"),
        usage_row(at(2026, 11, 21), width="1d", input_tokens=777, cost_usd="7"),
        usage_row(
            at(2026, 11, 22, 5),
            endpoint="embeddings",
            model="text-embedding-3-small",
            input_tokens=3_000,
            cost_usd=None,
            price_state="unpriced",
        ),
    ]
    put(store, rows, hourly_from=hourly_from)
    span = custom_range(date(2026, 11, 15), date(2026, 11, 30), UTC_ZONE, NOW)

    result = analytics(store, span)

    report = build_report(
        store, "openai", BillingPeriod(span.start, span.end, UTC_ZONE), NOW
    )
    assert result.totals.spend_usd == report.spend_usd == Decimal(7)
    assert result.totals.input_tokens == report.input_tokens == 10_000
    assert result.totals.unpriced_models == report.unpriced_models
    assert result.totals.spend_is_lower_bound
    (embedding,) = [line for line in result.by_model if line.key.startswith("text")]
    assert embedding.unpriced and embedding.cost_usd == 0


def test_a_project_filter_limits_every_figure_to_its_rows(store):
    day = at(2026, 12, 2, 10)
    rows = [
        usage_row(day, project_id="proj_a", input_tokens=100, cost_usd="1"),
        usage_row(day, project_id="proj_b", input_tokens=900, cost_usd="9"),
        usage_row(day - 7 * 86400, project_id="proj_a", cost_usd="0.5"),
        usage_row(day - 7 * 86400, project_id="proj_b", cost_usd="4"),
    ]
    put(store, rows, hourly_from=at(2026, 11, 1))

    result = analytics(store, rolling_range("7d", NOW), project="proj_a")

    assert result.totals.spend_usd == Decimal(1)
    assert result.previous.spend_usd == Decimal("0.5")
    assert [line.key for line in result.by_project] == ["proj_a"]
    assert result.by_project[0].share == 100
    assert sum(day.spend_usd for day in result.daily.days) == Decimal(1)


# Hours and days in the display zone


def test_west_of_utc_an_evening_bucket_belongs_to_the_day_before(store):
    # 02:00 UTC on 4 December is 18:00 on 3 December in Los Angeles (UTC-8).
    put(
        store,
        [usage_row(at(2026, 12, 4, 2), input_tokens=1_000, cost_usd="3")],
        hourly_from=at(2026, 11, 1),
    )
    span = custom_range(date(2026, 12, 2), date(2026, 12, 4), LOS_ANGELES, NOW)

    result = analytics(store, span, LOS_ANGELES)

    spend = {day.day: day.spend_usd for day in result.daily.days}
    assert spend == {
        date(2026, 12, 2): 0,
        date(2026, 12, 3): Decimal(3),
        date(2026, 12, 4): 0,
    }
    assert result.hourly.busiest[0].hour == 18
    # The range ends now, 07:30 on the 4th in Los Angeles: two 18:00s so far,
    # one of which had the $3.
    assert result.hourly.hours[18].occurrences == 2
    assert result.hourly.hours[18].spend_usd == Decimal("1.5")


def test_east_of_utc_a_late_bucket_belongs_to_the_next_day(store):
    # 16:00 UTC on 2 December is 01:00 on 3 December in Tokyo (UTC+9).
    put(
        store,
        [usage_row(at(2026, 12, 2, 16), input_tokens=1_000, cost_usd="2")],
        hourly_from=at(2026, 11, 1),
    )

    result = analytics(store, one_day(date(2026, 12, 3), TOKYO), TOKYO)

    assert [(d.day, d.spend_usd) for d in result.daily.days] == [
        (date(2026, 12, 3), Decimal(2))
    ]
    assert result.hourly.hours[1].spend_usd == 2
    assert result.hourly.hours[1].tokens == 1_000


def test_with_a_half_hour_offset_a_bucket_is_in_the_hour_its_start_falls_in(store):
    # 20:00 UTC on 2 December is 01:30 on 3 December in Kolkata (UTC+5:30).
    put(
        store,
        [usage_row(at(2026, 12, 2, 20), cost_usd="4")],
        hourly_from=at(2026, 11, 1),
    )

    result = analytics(store, one_day(date(2026, 12, 3), KOLKATA), KOLKATA)

    assert result.daily.days[0].spend_usd == 4
    assert [slot.hour for slot in result.hourly.busiest] == [1]
    assert all(slot.occurrences == 1 for slot in result.hourly.hours)


def test_with_a_half_hour_offset_an_hour_is_labelled_from_its_buckets_real_start(
    store,
):
    # Hourly buckets start on UTC hours: 22:00 UTC on 3 December is 03:30 on
    # 4 December in Kolkata (UTC+5:30), so that hour runs 03:30 to 04:30 there.
    put(
        store,
        [usage_row(at(2026, 12, 3, 22), cost_usd="4")],
        hourly_from=at(2026, 11, 1),
    )

    result = analytics(store, one_day(date(2026, 12, 4), KOLKATA), KOLKATA)

    (busiest,) = result.hourly.busiest
    assert (busiest.hour, busiest.start_minute) == (3, 30)
    assert hour_span_text(busiest) == "03:30–04:30"
    # Every hour of the day starts at half past there, used or not.
    assert {slot.start_minute for slot in result.hourly.hours} == {30}
    # In UTC the same hours are whole ones.
    utc = analytics(store, one_day(date(2026, 12, 3), UTC_ZONE))
    assert hour_span_text(utc.hourly.busiest[0]) == "22:00–23:00"


def test_the_day_the_clocks_go_back_has_25_hours_and_two_one_oclocks(store):
    # Los Angeles leaves daylight time at 02:00 on Sunday 1 November 2026: the
    # local day runs from 07:00 UTC that day to 08:00 UTC the next.
    start, end = at(2026, 11, 1, 7), at(2026, 11, 2, 8)
    put(store, dollar_every_hour(start, end), hourly_from=at(2026, 10, 1))

    result = analytics(store, one_day(date(2026, 11, 1), LOS_ANGELES), LOS_ANGELES)

    (day,) = result.daily.days
    assert (day.day, day.hours, day.spend_usd) == (date(2026, 11, 1), 25, 25)
    one_oclock = result.hourly.hours[1]
    assert one_oclock.occurrences == 2
    assert one_oclock.spend_usd == 1  # $2 over the two 01:00 hours
    assert all(slot.spend_usd == 1 for slot in result.hourly.hours)


def test_the_day_the_clocks_go_forward_has_23_hours_and_no_two_oclock(store):
    # Paris enters summer time at 02:00 on Sunday 29 March 2026: from 23:00 UTC
    # on the 28th to 22:00 UTC on the 29th.
    start, end = at(2026, 3, 28, 23), at(2026, 3, 29, 22)
    put(store, dollar_every_hour(start, end), hourly_from=at(2026, 3, 1))
    span = custom_range(date(2026, 3, 28), date(2026, 3, 30), PARIS, NOW)

    result = analytics(store, span, PARIS)

    assert [(d.day.day, d.hours, d.spend_usd) for d in result.daily.days] == [
        (28, 24, 0),
        (29, 23, 23),
        (30, 24, 0),
    ]
    assert result.hourly.hours[2].occurrences == 2  # the 28th and the 30th
    assert result.hourly.hours[3].occurrences == 3
    assert result.hourly.hours[3].spend_usd == Decimal(1) / 3


def test_the_hourly_pattern_averages_over_days_and_names_the_busiest_hours(store):
    rows = []
    for days_ago in range(7):  # every 22:00 and 13:00 in the range
        evening = at(2026, 12, 3, 22) - days_ago * 86400
        afternoon = at(2026, 12, 4, 13) - days_ago * 86400
        rows.append(usage_row(evening, input_tokens=10_000, cost_usd="2"))
        rows.append(usage_row(afternoon, input_tokens=50_000, cost_usd="1"))
    rows.append(usage_row(at(2026, 12, 4, 6), input_tokens=1_000, cost_usd="0.7"))
    put(store, rows, hourly_from=at(2026, 11, 1))

    result = analytics(store, rolling_range("7d", NOW))

    busiest = result.hourly.busiest
    assert [slot.hour for slot in busiest] == [22, 13, 6]
    assert busiest[0].spend_usd == 2  # $2 on each of the seven evenings
    assert busiest[1].tokens == 50_000
    assert busiest[2].spend_usd == Decimal("0.1")  # $0.70 over seven 06:00s


def test_hours_before_the_hourly_history_are_left_out_of_the_averages(store):
    put(
        store,
        [usage_row(at(2026, 12, 3, 9), cost_usd="6")],
        hourly_from=at(2026, 12, 2),
    )

    result = analytics(store, rolling_range("7d", NOW))

    # Only 2, 3 and 4 December (to now, 15:30) have hourly data: three 09:00s.
    assert result.hourly.hours[9].occurrences == 3
    assert result.hourly.hours[9].spend_usd == 2
    assert result.hourly.hours[20].occurrences == 2


def test_the_daily_trend_carries_the_budgets_daily_pace(store):
    put(store, dollar_every_hour(at(2026, 12, 3), at(2026, 12, 4)), hourly_from=0)
    budget = Budget(amount_usd=Decimal(310))

    result = analytics(store, rolling_range("7d", NOW), budget=budget)

    assert result.daily.pace_usd == 10  # $310 over December's 31 days
    assert len(result.daily.days) == 8  # 27 November 15:30 to 4 December 15:30
    assert result.daily.days[-2].spend_usd == 24
    assert analytics(store, rolling_range("7d", NOW)).daily.pace_usd is None


# The span each range is compared with


def test_the_billing_period_is_compared_with_the_same_days_of_the_last_one():
    span = period_range(billing_period(NOW, 1, UTC_ZONE), NOW)
    assert (span.start, span.end) == (datetime(2026, 12, 1, tzinfo=UTC), NOW)
    assert span.previous == Span(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 4, 15, 30, 20, tzinfo=UTC)
    )


def test_the_same_days_of_the_last_period_are_wall_clock_days_across_dst():
    # 3 November 12:00 in Paris is UTC+1; 3 October 12:00 was UTC+2.
    now = datetime(2026, 11, 3, 11, tzinfo=UTC)
    span = period_range(billing_period(now, 1, PARIS), now)
    assert span.previous == Span(
        datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 3, 10, tzinfo=UTC)
    )


def test_a_longer_stretch_than_the_last_period_had_compares_with_all_of_it():
    now = datetime(2026, 3, 30, 12, tzinfo=UTC)  # February has 28 days
    span = period_range(billing_period(now, 1, UTC_ZONE), now)
    assert span.previous == Span(
        datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    )


def test_a_rolling_range_is_compared_with_as_long_just_before_it():
    span = rolling_range("7d", NOW)
    assert span.start == NOW - timedelta(days=7) and span.end == NOW
    assert span.previous == Span(NOW - timedelta(days=14), NOW - timedelta(days=7))
    assert rolling_range("24h", NOW).label == "last 24 hours"


def test_custom_dates_are_local_days_compared_with_as_many_days_before():
    span = custom_range(date(2026, 11, 10), date(2026, 11, 12), TOKYO, NOW)
    assert span.start == datetime(2026, 11, 9, 15, tzinfo=UTC)  # midnight in Tokyo
    assert span.end == datetime(2026, 11, 12, 15, tzinfo=UTC)
    assert span.previous == Span(
        datetime(2026, 11, 6, 15, tzinfo=UTC), datetime(2026, 11, 9, 15, tzinfo=UTC)
    )


def test_custom_dates_reaching_into_the_future_end_now():
    span = custom_range(date(2026, 12, 1), date(2026, 12, 10), UTC_ZONE, NOW)
    assert span.end == NOW
    # Ten days before 1 December, for as long as 1 December to now.
    assert span.previous == Span(
        datetime(2026, 11, 21, tzinfo=UTC),
        datetime(2026, 11, 24, 15, 30, 20, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-12-03 2026-12-01", "before"),
        ("2026-12-05 2026-12-06", "has not begun"),
        ("2025-01-01 2026-12-01", "too long"),
    ],
)
def test_unusable_custom_dates_are_refused_with_the_reason(text, problem):
    with pytest.raises(RangeError, match=problem):
        custom_range(*parse_dates(text), UTC_ZONE, NOW)


@pytest.mark.parametrize("text", ["yesterday", "2026-12-01 to 2026-12-03", ""])
def test_text_that_is_not_dates_is_refused(text):
    with pytest.raises(RangeError, match="YYYY-MM-DD"):
        parse_dates(text)


def test_each_total_is_shown_beside_the_span_before_with_its_change(store):
    rows = [
        usage_row(at(2026, 12, 2), requests=3, cost_usd="1.5"),
        usage_row(at(2026, 11, 2), requests=4, cost_usd="1"),
    ]
    put(store, rows, hourly_from=at(2026, 10, 1))
    span = period_range(billing_period(NOW, 1, UTC_ZONE), NOW)

    changes = {c.name: c for c in analytics(store, span).changes}

    assert (changes["Spend"].value, changes["Spend"].previous) == (
        Decimal("1.5"),
        Decimal(1),
    )
    assert changes["Spend"].percent == 50
    assert changes["Requests"].percent == -25
    assert changes["Input tokens"].percent is None  # nothing before


def test_nothing_read_yet_is_told_apart_from_nothing_spent(store):
    span = rolling_range("7d", NOW)
    assert analytics(store, span).nothing_read

    # Read, and nothing used: known to be zero.
    store.set_watermark("openai", "completions", "1h", at(2026, 11, 1), NOW_EPOCH)
    result = analytics(store, span)
    assert not result.nothing_read
    assert result.totals.spend_usd == 0


def test_a_moment_outside_the_current_year_is_shown_with_its_year():
    # NOW is in 2026; 1 December 1999 was a Wednesday.
    assert local_moment(datetime(1999, 12, 1, tzinfo=UTC), UTC_ZONE, NOW) == (
        "Wed 01 Dec 1999 00:00 UTC"
    )
    assert local_moment(datetime(2026, 12, 1, tzinfo=UTC), UTC_ZONE, NOW) == (
        "Tue 01 Dec 00:00 UTC"
    )
    # The year is the local one: 31 December 2026 in Los Angeles is already
    # 1 January 2027 in UTC, and 2026 there is the current year.
    new_year = datetime(2027, 1, 1, 2, tzinfo=UTC)
    assert local_moment(new_year, LOS_ANGELES, NOW, with_zone=False) == (
        "Thu 31 Dec 18:00"
    )
    assert local_moment(new_year, UTC_ZONE, NOW) == "Fri 01 Jan 2027 02:00 UTC"


# Savings


def test_model_families_match_dated_snapshots_but_not_fine_tunes():
    assert model_family("gpt-4o-2024-08-06") == "gpt-4o"
    assert cheaper_models("gpt-4o-2024-08-06") == ("gpt-4o-mini",)
    assert cheaper_models("gpt-4.1-2025-04-14") == ("gpt-4.1-mini", "gpt-4.1-nano")
    assert cheaper_models("gpt-4o-mini-2024-07-18") == ()
    assert cheaper_models("ft:gpt-4o-2024-08-06:acme::abc123") == ()


def test_savings_are_worked_out_from_list_prices(store):
    hour = at(2026, 12, 3, 10)
    rows = Pricer().price_rows(
        [
            usage_row(
                hour,
                model="gpt-4o-2024-08-06",
                input_tokens=1_000_000,
                cached_input_tokens=600_000,
                output_tokens=100_000,
            ),
            usage_row(hour, model="gpt-4.1-2025-04-14", input_tokens=1_000_000),
        ]
    )
    put(store, rows, hourly_from=at(2026, 11, 1))

    result = analytics(store, rolling_range("7d", NOW))

    # Per million tokens, input / cached input / output, on December 2026's list:
    # gpt-4o $2.50 / $1.25 / $10, gpt-4o-mini $0.15 / $0.075 / $0.60,
    # gpt-4.1 $2.00 / $0.50 / $8, gpt-4.1-mini $0.40, gpt-4.1-nano $0.10 input.
    # gpt-4o: 0.4 x 2.50 + 0.6 x 1.25 + 0.1 x 10 = $2.75; on mini
    # 0.4 x 0.15 + 0.6 x 0.075 + 0.1 x 0.60 = $0.165, so $2.585 less.
    # gpt-4.1: 1 x 2.00 = $2.00; on mini $0.40, on nano $0.10. Cached like
    # gpt-4o (60%): 0.4 x 2.00 + 0.6 x 0.50 = $1.10, so $0.90 less.
    found = [
        (s.kind, s.model, s.alternative, s.cost_usd, s.saved_usd)
        for s in result.savings.suggestions
    ]
    assert found == [
        (
            "model",
            "gpt-4o-2024-08-06",
            "gpt-4o-mini",
            Decimal("2.75"),
            Decimal("2.585"),
        ),
        ("model", "gpt-4.1-2025-04-14", "gpt-4.1-nano", Decimal(2), Decimal("1.9")),
        ("model", "gpt-4.1-2025-04-14", "gpt-4.1-mini", Decimal(2), Decimal("1.6")),
        ("cache", "gpt-4.1-2025-04-14", None, Decimal(2), Decimal("0.9")),
    ]
    assert result.savings.cache_target == 60
    assert result.savings.cache_target_model == "gpt-4o-2024-08-06"


def test_an_unpriced_model_brings_no_savings_estimate(store):
    rows = [
        usage_row(
            at(2026, 12, 3),
            model="gpt-4o-2024-08-06",
            input_tokens=1_000,
            cost_usd=None,
            price_state="unpriced",
        )
    ]
    put(store, rows, hourly_from=at(2026, 11, 1))
    assert analytics(store, rolling_range("7d", NOW)).savings.suggestions == ()
