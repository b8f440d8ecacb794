"""Every dollar traceable: each price state and data state in ``report --json``,
price overrides that change the figure and say so, the bill beside the estimate
with the reasons they differ, and the Live tab showing all of it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from monitor_tui.analytics.tally import breakdown, tally
from monitor_tui.analytics.text import cost_text
from monitor_tui.billed_gap import billed_gap
from tests.conftest import ADMIN_KEY, NOW_EPOCH
from tests.factories import HAND_COMPUTED, completion
from tests.test_app import Clock, Harness, live_settings, shown
from tests.test_cli import live_env, run

HOUR = NOW_EPOCH - NOW_EPOCH % 3600
DAY = NOW_EPOCH - NOW_EPOCH % 86400
PERIOD_START = datetime(2026, 12, 1, tzinfo=UTC)


def models(report: dict) -> dict[str, tuple[str | None, str]]:
    return {m["model"]: (m["cost_usd"], m["price_state"]) for m in report["models"]}


def report_json(env: dict[str, str]) -> dict:
    code, out, err = run(["report", "--json"], env)
    assert code == 0, err
    return json.loads(out)


def test_priced_unpriced_and_free_models_each_carry_their_state(api_server, tmp_path):
    api_server.set_records(
        [
            # gpt-4o-mini: 2M x $0.15 + 500k x $0.60 per 1M = $0.60.
            completion(
                HOUR - 7200,
                "gpt-4o-mini-2024-07-18",
                input_tokens=2_000_000,
                output_tokens=500_000,
            ),
            completion(HOUR - 7200, "gpt-imaginary-9", input_tokens=1_000),
            completion(HOUR - 7200, "omni-moderation-latest", input_tokens=5_000),
        ]
    )
    env = live_env(api_server, tmp_path)
    assert run(["sync"], env)[0] == 0
    report = report_json(env)
    assert models(report) == {
        "gpt-4o-mini-2024-07-18": ("0.600000", "priced"),
        "gpt-imaginary-9": (None, "unpriced"),
        "omni-moderation-latest": ("0.000000", "free"),
    }
    assert report["spend_usd"] == "0.600000"
    assert report["spend_is_lower_bound"] is True
    assert report["unpriced_models"] == ["gpt-imaginary-9"]
    unknown = next(m for m in report["models"] if m["model"] == "gpt-imaginary-9")
    assert unknown["price_source"] == "the price data does not know gpt-imaginary-9"
    assert unknown["input_tokens"] == 1_000  # unpriced, with its volume
    assert report["data_state"] == "partial"  # the current hours may change


def test_a_period_without_usage_is_empty(api_server, tmp_path):
    env = live_env(api_server, tmp_path)
    assert run(["sync"], env)[0] == 0
    report = report_json(env)
    assert (report["data_state"], report["spend_usd"]) == ("empty", "0.000000")
    assert report["models"] == []


def test_an_interrupted_sync_makes_the_data_partial(api_server, tmp_path):
    api_server.set_records(
        [completion(DAY - 86400, "gpt-4o-mini", input_tokens=1_000_000)]
    )
    env = live_env(api_server, tmp_path)
    api_server.add_fault(status=500, retry_after=None, count=100, path_contains="costs")
    code, _, _ = run(["sync"], env)
    assert code == 1
    report = report_json(env)
    assert report["data_state"] == "partial"
    assert report["billed_usd"] is None
    assert report["billed_gap"]["reasons"] == [
        "OpenAI's daily costs have not been read yet"
    ]


def write_prices(path: Path, table: str) -> Path:
    path.write_text(table, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_a_price_override_changes_the_figure_and_is_marked(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    config = write_prices(
        tmp_path / "config.toml",
        # Negotiated gpt-4o: $2 input, $1 cached, $8 output per 1M.
        '[prices."gpt-4o"]\ninput = 2.0\ncached_input = 1.0\noutput = 8\n',
    )
    env = {**live_env(api_server, tmp_path / "data"), "MONITOR_TUI_CONFIG": str(config)}
    assert run(["sync"], env)[0] == 0
    report = report_json(env)
    # 400k x $2 + 600k cached x $1 + 100k out x $8 = $2.20 instead of $2.75.
    assert models(report)["gpt-4o-2024-08-06"] == ("2.200000", "override")
    line = next(m for m in report["models"] if m["model"] == "gpt-4o-2024-08-06")
    assert line["price_source"] == 'config [prices."gpt-4o"]'
    assert models(report)["gpt-4o-mini-2024-07-18"] == ("0.600000", "priced")
    assert report["spend_usd"] == "2.860000"  # 2.20 + 0.60 + 0.06
    assert any("[prices]" in r for r in report["billed_gap"]["reasons"])

    # Removing the override prices the stored rows again, with no sync needed.
    write_prices(config, "")
    report = report_json(env)
    assert models(report)["gpt-4o-2024-08-06"] == ("2.750000", "priced")
    assert report["spend_usd"] == "3.410000"


def test_an_override_that_matches_no_model_is_named_on_stderr(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    config = write_prices(
        tmp_path / "config.toml",
        '[prices."gpt4o"]\ninput = 2\n[prices."gpt-4o-mini"]\ninput = 0.1\n',
    )
    env = {**live_env(api_server, tmp_path / "data"), "MONITOR_TUI_CONFIG": str(config)}
    assert run(["sync"], env)[0] == 0
    code, out, err = run(["report", "--json"], env)
    assert code == 0
    assert '[prices."gpt4o"] priced none' in err  # the typo
    assert "gpt-4o-mini" not in err  # it priced gpt-4o-mini-2024-07-18
    assert json.loads(out)["spend_usd"]


def test_an_override_that_cannot_price_its_model_is_named_on_stderr(
    api_server, tmp_path
):
    # A model the price data does not know, with output, and no output rate.
    api_server.set_records(
        [completion(HOUR - 3600, "acme-model", input_tokens=100, output_tokens=10)]
    )
    config = write_prices(
        tmp_path / "config.toml", '[prices."acme-model"]\ninput = 3\n'
    )
    env = {**live_env(api_server, tmp_path / "data"), "MONITOR_TUI_CONFIG": str(config)}
    assert run(["sync"], env)[0] == 0
    code, _, err = run(["report"], env)
    assert code == 0
    assert '[prices."acme-model"] priced none' in err


def test_a_bad_price_override_exits_2_naming_the_entry(tmp_path):
    config = write_prices(
        tmp_path / "config.toml", '[prices."gpt-4o"]\ninput = "cheap"\noutput = 8\n'
    )
    code, _, err = run(
        ["report"],
        {"MONITOR_TUI_CONFIG": str(config), "MONITOR_TUI_DATA_DIR": str(tmp_path)},
    )
    assert code == 2
    assert '[prices."gpt-4o"] input must be a number' in err


def test_report_json_puts_the_bill_beside_the_estimate(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    assert run(["sync"], env)[0] == 0
    report = report_json(env)
    # Billed $3.40 today; estimated $3.41: the bill is $0.01 below.
    assert (report["spend_usd"], report["billed_usd"]) == ("3.410000", "3.400000")
    gap = report["billed_gap"]
    assert gap["difference_usd"] == "-0.010000"
    assert gap["billed_through"] == "2026-12-05T00:00:00+00:00"
    assert gap["estimate_after_billed_usd"] == "0.000000"
    assert gap["reasons"] == []  # one cent is within rounding of $3.40


# Why the bill differs, one reason at a time


def usage(start: int, cost: str | None, **fields) -> dict:
    return {
        "start": start,
        "model": fields.pop("model", "gpt-4o"),
        "endpoint": "completions",
        "cost_usd": cost,
        "price_state": "priced" if cost is not None else "unpriced",
        **fields,
    }


def cost(start: int, amount: str, project: str | None = "proj_a") -> dict:
    return {"start": start, "amount": amount, "currency": "usd", "project_id": project}


def test_the_bill_lagging_behind_usage_is_told_with_the_newer_estimate():
    rows = [usage(DAY - 2 * 86400, "10"), usage(DAY - 86400, "10"), usage(HOUR, "4")]
    costs = [cost(DAY - 2 * 86400, "10"), cost(DAY - 86400, "10")]
    gap = billed_gap(rows, costs, Decimal(20), PERIOD_START)
    assert gap.difference_usd == Decimal(-4)
    assert gap.billed_through == datetime(2026, 12, 4, tzinfo=UTC)
    assert gap.estimate_after_billed_usd == Decimal(4)
    assert gap.reasons == (
        "the bill runs behind: it has days up to Thu 03 Dec (UTC), and $4.00 of "
        "the estimate is newer",
    )


def test_unpriced_usage_and_organization_charges_explain_a_higher_bill():
    rows = [
        usage(DAY, "10"),
        usage(DAY, None, model="gpt-imaginary-9"),
        usage(DAY, None, model=None, endpoint="images"),
    ]
    costs = [cost(DAY, "12"), cost(DAY, "3", project=None)]
    gap = billed_gap(rows, costs, Decimal(15), PERIOD_START)
    assert gap.difference_usd == Decimal(5)
    assert gap.reasons[0] == (
        "the estimate has no price for gpt-imaginary-9, images; the bill charges "
        "for them"
    )
    assert gap.reasons[1].startswith("$3.00 is billed to the organization")
    # $5 more over the same day: more than 0.5% of the bill, so it is said.
    assert gap.reasons[2].startswith(
        "over the days both cover, the bill is $5.00 above"
    )


def test_a_period_not_on_utc_days_and_tier_rules_are_named():
    rows = [
        usage(
            DAY,
            "1",
            batch=True,
            price_source="genai-prices 0.2.3: gpt-5; batch price from 2026-10-14, "
            "the standard price being the same then",
        )
    ]
    gap = billed_gap(
        rows,
        [cost(DAY, "1")],
        Decimal(1),
        datetime(2026, 12, 1, tzinfo=UTC).replace(hour=5),
    )
    assert any("batch or tier rows" in reason for reason in gap.reasons)
    assert any("whole UTC days" in reason for reason in gap.reasons)


async def test_the_live_tab_shows_billed_beside_the_estimate_and_the_prices(
    api_server, tmp_path
):
    scale_tier = {
        "endpoint": "costs",
        "time": HOUR - 3600,
        "amount": "2.00",
        "project_id": None,
        "line_item": "Scale Tier",
    }
    api_server.set_records(
        [
            *HAND_COMPUTED,
            completion(HOUR - 3600, "gpt-imaginary-9", input_tokens=10),
            scale_tier,
        ]
    )
    settings = replace(live_settings(api_server, tmp_path), admin_key=ADMIN_KEY)
    harness = Harness(settings, Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)
        figures = shown(harness.app, "#figures")
        # Billed $3.40 + $2.00 against $3.41 estimated.
        assert (
            "Billed      $5.40 to Fri 04 Dec (UTC days) · estimate $3.41 · bill "
            "$1.99 above it" in figures
        )
        why = "Why         • the estimate has no price for gpt-imaginary-9"
        assert why in figures
        scale = "• $2.00 is billed to the organization rather than a project"
        assert scale in figures
        assert (
            "Prices      3 priced · 1 unpriced (gpt-imaginary-9) · spend is a "
            "lower bound" in figures
        )
        assert "Data        partial: the latest hours may still be revised" in figures


def test_reasons_that_only_raise_the_bill_are_not_given_when_it_is_lower():
    rows = [usage(DAY, "10"), usage(DAY, None, model="gpt-imaginary-9")]
    gap = billed_gap(rows, [cost(DAY, "8")], Decimal(8), PERIOD_START)
    assert gap.difference_usd == Decimal(-2)
    assert not any("no price" in reason for reason in gap.reasons)
    assert gap.reasons[-1].startswith(
        "over the days both cover, the bill is $2.00 below"
    )


def test_analytics_marks_overridden_free_and_unpriced_lines():
    def hourly(model: str, cost: str | None, state: str, endpoint="completions"):
        return {
            "origin": "openai",
            "endpoint": endpoint,
            "width": "1h",
            "start": HOUR,
            "model": model,
            "input_tokens": 10,
            "cached_input_tokens": 0,
            "output_tokens": 1,
            "requests": 1,
            "cost_usd": cost,
            "price_state": state,
        }

    rows = [
        hourly("gpt-4o", "2.2", "override"),
        hourly("gpt-4o-mini", "0.6", "priced"),
        hourly("omni-moderation-latest", "0", "free", "moderations"),
        hourly("gpt-imaginary-9", None, "unpriced"),
    ]
    lines = breakdown(tally(rows), tally([]), "model", Decimal("2.8"))
    assert {line.key: cost_text(line) for line in lines} == {
        "gpt-4o": "$2.20 *",
        "gpt-4o-mini": "$0.6000",
        "omni-moderation-latest": "free",
        "gpt-imaginary-9": "no price",
    }


def test_stopped_streams_get_a_line_of_their_own_so_priced_calls_keep_their_cost():
    def call(cost: str | None, known: bool) -> dict:
        return {
            "origin": "tracked",
            "endpoint": "completions",
            "width": "call",
            "start": HOUR,
            "model": "gpt-5-mini",
            "input_tokens": 100 if known else 0,
            "cached_input_tokens": 0,
            "output_tokens": 10 if known else 0,
            "requests": 1,
            "cost_usd": cost,
            "price_state": "priced" if known else "unpriced",
            "usage_known": known,
        }

    lines = breakdown(
        tally([call("0.3", True), call(None, False)]),
        tally([]),
        "model",
        Decimal("0.3"),
    )
    assert {line.key: cost_text(line) for line in lines} == {
        "gpt-5-mini": "$0.3000",
        "gpt-5-mini (stopped streams)": "no price",
    }
