"""Without an admin key, the calls recorded with ``track`` are the data: the report,
the export, Analytics and the app show them (labelled TRACKED), and the app leaves
the demo for them as soon as the first one arrives. With an admin key they stay
this machine's share of the organization's figures, never added to them."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from monitor_tui.analytics import compute_analytics, make_range, period_of
from monitor_tui.cli import main
from monitor_tui.config import Settings
from monitor_tui.spool import SpoolWriter, ingest, spool_dir
from monitor_tui.store import Store
from monitor_tui.tracked_source import choose_source
from tests.conftest import ADMIN_KEY, NOW, NOW_EPOCH
from tests.factories import HAND_COMPUTED
from tests.test_app import Clock, Harness, demo_settings, shown
from tests.test_spool import record

# List prices per million tokens (input, output): gpt-4o-mini $0.15 and $0.60,
# gpt-4o $2.50 and $10.00. Every call uses 1000 input and 100 output tokens.
MINI_CALL = (Decimal(1000) * Decimal("0.15") + Decimal(100) * Decimal("0.60")) / 10**6
GPT_4O_CALL = (Decimal(1000) * Decimal("2.50") + Decimal(100) * Decimal("10")) / 10**6
CALLS_SPEND = 2 * MINI_CALL + GPT_4O_CALL  # $0.00392
ORG_SPEND = "3.410000"  # HAND_COMPUTED: 2.75 + 0.60 + 0.06


def record_calls(data_dir: Path) -> None:
    """Three calls recorded this afternoon: two gpt-4o-mini ones labelled
    ``search`` and a gpt-4o one labelled ``chat``."""
    writer = SpoolWriter(spool_dir(data_dir))
    try:
        writer.append(record("a", time=NOW_EPOCH - 3000, label="search"))
        writer.append(record("b", time=NOW_EPOCH - 2000, label="search"))
        writer.append(
            record("c", time=NOW_EPOCH - 1000, label="chat", model="gpt-4o-2024-08-06")
        )
    finally:
        writer.close()


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env or {}, clock=lambda: NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def money(amount: Decimal) -> str:
    return f"{amount:.6f}"


# The report


def test_without_an_admin_key_the_report_is_of_the_recorded_calls(tmp_path):
    record_calls(tmp_path)

    code, out, err = run(["--data-dir", str(tmp_path), "report", "--json"])

    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "tracked"
    assert data["spend_usd"] == money(CALLS_SPEND) == "0.003920"
    assert data["tracked_spend_usd"] == data["spend_usd"]
    assert data["tracked_calls"] == data["requests"] == 3
    assert (data["input_tokens"], data["output_tokens"]) == (3000, 300)
    assert data["billed_usd"] is None  # the Costs API needs an admin key
    assert data["data_state"] == "complete"  # a recorded call is never revised
    assert data["last_sync_at"] == NOW.isoformat()  # the spool was read now
    assert [(m["model"], m["cost_usd"]) for m in data["models"]] == [
        ("gpt-4o-2024-08-06", money(GPT_4O_CALL)),
        ("gpt-4o-mini-2024-07-18", money(2 * MINI_CALL)),
    ]
    # The 60 minutes before 15:30 hold all three calls (14:40, 14:56, 15:13).
    assert data["burn_rate_usd_per_hour"] == money(CALLS_SPEND)
    assert "TRACKED data" in err and "not the organization's" in err
    assert "nothing has been synced" not in err


def test_the_report_table_names_the_recorded_calls(tmp_path):
    record_calls(tmp_path)

    code, out, _ = run(["--data-dir", str(tmp_path), "report"])

    assert code == 0
    assert out.startswith("TRACKED  period")


def test_without_calls_or_key_the_report_stays_on_the_demo(tmp_path):
    code, out, _ = run(["--data-dir", str(tmp_path), "report", "--json"])

    assert code == 0
    assert json.loads(out)["source"] == "demo"


def test_demo_forced_is_the_demo_even_with_recorded_calls(tmp_path):
    record_calls(tmp_path)

    code, out, _ = run(["--data-dir", str(tmp_path), "--demo", "report", "--json"])

    assert code == 0
    data = json.loads(out)
    assert data["source"] == "demo"
    assert data["tracked_calls"] == 3  # still ingested, still told apart


def test_with_an_admin_key_the_recorded_calls_are_never_added_to_spend(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    env = {
        "OPENAI_ADMIN_KEY": ADMIN_KEY,
        "OPENAI_BASE_URL": api_server.base_url,
        "MONITOR_TUI_DATA_DIR": str(tmp_path),
        "MONITOR_TUI_TIMEZONE": "UTC",
    }
    record_calls(tmp_path)

    code, out, err = run(["report", "--sync", "--json"], env)

    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "openai"
    assert data["spend_usd"] == ORG_SPEND  # the organization's alone
    assert data["requests"] == 6
    assert data["tracked_spend_usd"] == money(CALLS_SPEND)
    assert data["tracked_calls"] == 3
    assert "TRACKED" not in err


def test_budget_check_judges_the_recorded_calls_without_an_admin_key(tmp_path):
    record_calls(tmp_path)
    data_dir = ["--data-dir", str(tmp_path)]
    assert run([*data_dir, "budget", "set", "0.01", "--thresholds", "30"])[0] == 0

    code, out, _ = run([*data_dir, "budget", "check"])

    # $0.00392 of $0.01 is 39.2%, past the 30% threshold.
    assert code == 1
    assert out.startswith("BUDGET WARNING - ") and "(39.2%)" in out, out


# The export


def export_json(tmp_path: Path, *args: str, env=None) -> dict:
    code, out, err = run(
        [
            "--data-dir",
            str(tmp_path),
            "export",
            "--format",
            "json",
            "--out",
            "-",
            *args,
        ],
        env,
    )
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("group_by", ["model", "hour", "day"])
def test_export_origin_tracked_writes_exactly_the_recorded_calls(
    api_server, tmp_path, group_by
):
    api_server.set_records(HAND_COMPUTED)
    env = {
        "OPENAI_ADMIN_KEY": ADMIN_KEY,
        "OPENAI_BASE_URL": api_server.base_url,
        "MONITOR_TUI_TIMEZONE": "UTC",
    }
    assert run(["--data-dir", str(tmp_path), "sync"], env)[0] == 0
    record_calls(tmp_path)

    data = export_json(tmp_path, "--origin", "tracked", "--group-by", group_by, env=env)

    assert data["source"] == "tracked"
    # Known from the UTC day of the first recorded call, not from 1970.
    assert data["read_from"].startswith("2026-12-04T00:00:00")
    rows = [row for row in data["rows"] if row["requests"]]
    assert sum(row["requests"] for row in rows) == 3
    assert sum(Decimal(row["cost_usd"]) for row in rows) == CALLS_SPEND
    if group_by == "model":
        assert [(r["model"], r["requests"]) for r in rows] == [
            ("gpt-4o-2024-08-06", 1),
            ("gpt-4o-mini-2024-07-18", 2),
        ]
    if group_by == "hour":  # 14:40 and 14:56 in one hour, 15:13 in the next
        assert [(r["start"][11:16], r["requests"]) for r in rows] == [
            ("14:00", 2),
            ("15:00", 1),
        ]
    organization = export_json(
        tmp_path, "--origin", "openai", "--group-by", group_by, env=env
    )
    assert sum(row["requests"] for row in organization["rows"]) == 6


def test_export_without_a_key_selects_the_recorded_calls_by_default(tmp_path):
    record_calls(tmp_path)

    data = export_json(tmp_path, "--group-by", "model")

    assert data["source"] == "tracked"
    assert sum(row["requests"] for row in data["rows"]) == 3


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["export", "--origin", "tracked-ish"], "invalid choice: 'tracked-ish'"),
        (["export", "--origin", ""], "invalid choice: ''"),
        (["--demo", "export", "--origin", "tracked"], "--demo and --origin tracked"),
    ],
)
def test_an_origin_the_export_does_not_know_exits_2_and_writes_nothing(
    tmp_path, capsys, args, said
):
    record_calls(tmp_path)
    out = tmp_path / "out.csv"

    try:
        code, _, err = run(["--data-dir", str(tmp_path), *args, "--out", str(out)])
    except SystemExit as exc:  # argparse exits by itself
        code, err = exc.code, capsys.readouterr().err

    assert code == 2
    assert said in err
    assert not out.exists()


# Analytics


def test_analytics_breaks_the_recorded_calls_down_by_label(tmp_path):
    record_calls(tmp_path)
    store = Store(tmp_path)
    ingest(store, tmp_path, now=NOW_EPOCH)
    zone = Settings().zone
    span = make_range("period", NOW, period=period_of(None, zone, NOW), zone=zone)

    for origin in ("tracked", "openai"):  # the organization's store holds them too
        analytics = compute_analytics(store, origin, span, zone, None, NOW)
        lines = [
            (line.label, line.requests, line.cost_usd) for line in analytics.by_label
        ]
        assert lines == [("chat", 1, GPT_4O_CALL), ("search", 2, 2 * MINI_CALL)]
        assert analytics.breakdown("label") == analytics.by_label
        assert [line.share for line in analytics.by_label] == [
            GPT_4O_CALL / CALLS_SPEND * 100,
            2 * MINI_CALL / CALLS_SPEND * 100,
        ]
    tracked = compute_analytics(store, "tracked", span, zone, None, NOW)
    assert tracked.totals.spend_usd == CALLS_SPEND
    assert not tracked.nothing_read


def test_analytics_has_no_labels_for_a_range_without_calls(tmp_path):
    record_calls(tmp_path)
    store = Store(tmp_path)
    ingest(store, tmp_path, now=NOW_EPOCH)
    zone = Settings().zone
    last_month = NOW - timedelta(days=31)
    span = make_range(
        "period", last_month, period=period_of(None, zone, last_month), zone=zone
    )

    analytics = compute_analytics(store, "tracked", span, zone, None, NOW)

    assert analytics.by_label == ()


# The app


async def test_the_app_shows_recorded_calls_labelled_tracked_not_demo(tmp_path):
    record_calls(tmp_path)
    settings = choose_source(demo_settings(tmp_path))
    harness = Harness(settings, Clock())
    async with harness.run() as pilot:
        app = harness.app
        await harness.settle(
            pilot,
            lambda: app.snapshot is not None and app.snapshot.report.requests == 3,
        )
        assert app.snapshot.report.source == "tracked"
        assert app.snapshot.report.spend_usd == CALLS_SPEND
        assert app.sub_title == "TRACKED calls"
        assert shown(app, "#demo-banner").startswith("TRACKED: the calls recorded")
        assert shown(app, "#freshness").startswith(" TRACKED ")
        assert "$0.0039 this period" in shown(app, "#spend-text")
        assert "DEMO" not in shown(app, "#figures")
        assert not (tmp_path / "demo").exists(), "no demo data was made"


async def test_the_app_leaves_the_demo_when_the_first_call_is_recorded(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        app = harness.app
        await harness.sync(pilot)  # a demo sync: the demo's made-up spend
        assert app.snapshot.report.source == "demo"
        assert app.snapshot.report.spend_usd > 0
        assert shown(app, "#freshness").startswith(" DEMO ")

        record_calls(tmp_path)
        await harness.settle(
            pilot,
            lambda: (
                app.snapshot.report.source == "tracked"
                and app.snapshot.report.requests == 3
            ),
        )

        assert app.snapshot.report.spend_usd == CALLS_SPEND
        assert app.sub_title == "TRACKED calls"
        assert shown(app, "#freshness").startswith(" TRACKED ")
        assert shown(app, "#demo-banner").startswith("TRACKED: ")
        assert [t for t in harness.toasts if t[0] == "Tracked calls"]
        assert len(app.tracked_calls) == 3


async def test_the_switch_comes_within_seconds_of_the_call(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        app = harness.app
        await harness.settle(pilot, lambda: app.snapshot is not None)
        record_calls(tmp_path)
        began = time.monotonic()
        await harness.settle(pilot, lambda: app.snapshot.report.source == "tracked")
        # A look at the spool every second, the price data's first load (half a
        # second) and one read of the store: about 1.3 s here, 3 s at most on a
        # busy machine.
        assert time.monotonic() - began < 3


async def test_demo_forced_stays_demo_when_calls_are_recorded(tmp_path):
    harness = Harness(demo_settings(tmp_path, demo=True), Clock())
    async with harness.run() as pilot:
        app = harness.app
        await harness.settle(pilot, lambda: app.snapshot is not None)
        record_calls(tmp_path)
        await harness.settle(pilot, lambda: len(app.tracked_calls) == 3)
        await pilot.pause(0.3)
        assert app.settings.origin == "demo"
        assert app.sub_title == "DEMO data"


async def test_analytics_offers_the_label_breakdown_for_recorded_calls(tmp_path):
    record_calls(tmp_path)
    harness = Harness(choose_source(demo_settings(tmp_path)), Clock())
    async with harness.run() as pilot:
        app = harness.app
        await harness.settle(pilot, lambda: app.snapshot is not None)
        await pilot.press("2")
        from monitor_tui.views.analytics import AnalyticsView

        view = app.query_one(AnalyticsView)
        await harness.settle(
            pilot, lambda: view.analytics is not None and view.analytics.by_label
        )
        await pilot.pause()
        assert app.query_one("#by-label").display
        view.show_breakdown("label")
        await pilot.pause()
        table = app.query_one("#breakdown")
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert names == ["chat", "search"]
        assert "track()" in shown(app, "#breakdown-note")
