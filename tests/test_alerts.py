"""Alerts fire once per crossing: a dip and a rise do not fire again, a restart
remembers, a new period or a new budget re-arms, and the burn-rate alert repeats
at most once an hour. Everything runs on the real store."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor_tui.alerts import due_alerts, fire_due_alerts
from monitor_tui.budget import Budget
from monitor_tui.snapshot import build_snapshot
from monitor_tui.store import Store
from tests.conftest import NOW
from tests.factories import usage_row

UTC_ZONE = ZoneInfo("UTC")
DEC_1 = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
BUDGET = Budget(Decimal(100), thresholds=(50, 75, 90))


def spend(store: Store, usd: str, *, project: str = "proj_a", at: int = DEC_1) -> None:
    """Make the store hold exactly ``usd`` of spend, in one hourly row at ``at``;
    a smaller figure than before is a correction, as when the API revises."""
    for endpoint in ("completions", "embeddings"):
        store.set_watermark("openai", endpoint, "1h", DEC_1 - 40 * 86400, at + 3600)
    store.replace_usage(
        "openai",
        "completions",
        "1h",
        (DEC_1 - 40 * 86400, DEC_1 + 70 * 86400),
        [usage_row(at, cost_usd=usd, project_id=project)],
        now=at,
    )


def fired(store: Store, now: datetime, budget: Budget = BUDGET) -> list[str]:
    """Read the store as the app does after a sync; the titles of what fired."""
    snapshot = build_snapshot(store, "openai", budget, UTC_ZONE, now, fire_alerts=True)
    return [alert.title for alert in snapshot.new_alerts]


def test_each_threshold_fires_once_through_a_dip_a_restart_and_a_new_period(
    tmp_path,
):
    store = Store(tmp_path)
    readings = [
        ("10", NOW, []),
        ("55", NOW, ["Monthly budget 50% reached"]),
        ("60", NOW, []),  # still past 50 %: nothing new
        ("45", NOW, []),  # a correction takes spend below 50 %...
        ("56", NOW, []),  # ...and back above it: not again
        # Two thresholds crossed at once: one alert, for the higher.
        ("91", NOW, ["Monthly budget 90% reached"]),
    ]
    for usd, now, expected in readings:
        spend(store, usd)
        assert fired(store, now) == expected, f"at ${usd}"

    # A restart is a new process reading the same files: it remembers.
    assert fired(Store(tmp_path), NOW + timedelta(hours=1)) == []

    spend(store, "100")
    assert fired(store, NOW) == ["Monthly budget reached"]

    # January is a new period: the thresholds are armed again.
    jan_2 = datetime(2027, 1, 2, 12, tzinfo=UTC)
    jan_1 = int(datetime(2027, 1, 1, 6, tzinfo=UTC).timestamp())
    spend(store, "20", at=jan_1)
    assert fired(store, jan_2) == []
    spend(store, "76", at=jan_1)
    assert fired(store, jan_2) == ["Monthly budget 75% reached"]


def test_a_raised_budget_arms_only_the_thresholds_spend_no_longer_reaches(
    tmp_path,
):
    store = Store(tmp_path)
    spend(store, "80")
    assert fired(store, NOW) == ["Monthly budget 75% reached"]
    # Raised to $150: $80 is 53 %, still past 50 % (fired already), no longer
    # past 75 %, which is armed again.
    raised = replace(BUDGET, amount_usd=Decimal(150))
    assert fired(store, NOW, raised) == []
    spend(store, "113")
    assert fired(store, NOW, raised) == ["Monthly budget 75% reached"]
    # Lowered to $120: $113 is 94 %; 90 % never fired, so it does now.
    lowered = replace(BUDGET, amount_usd=Decimal(120))
    assert fired(store, NOW, lowered) == ["Monthly budget 90% reached"]


def test_the_alert_says_how_much_of_what_and_the_forecast(tmp_path):
    store = Store(tmp_path)
    spend(store, "75")
    snapshot = build_snapshot(store, "openai", BUDGET, UTC_ZONE, NOW, fire_alerts=True)
    alert = snapshot.new_alerts[-1]
    # $75 in 3 d 15 h 30 min 20 s of a 31-day period, worked by hand:
    # 75 * 2678400 / 315020 = 637.6738...
    assert alert.text == (
        "$75.00 of $100.00 spent this period; forecast $637.67 by period end."
    )
    assert alert.severity == "warning" and alert.at == NOW
    assert snapshot.new_alerts == (alert,), "50 % and 75 % at once: one alert"
    assert snapshot.alerts == (alert,), "the log holds what was delivered"
    assert {"budget:50", "budget:75"} <= snapshot.fired


def test_project_budgets_alert_on_the_projects_own_spend(tmp_path):
    store = Store(tmp_path)
    budget = replace(BUDGET, projects=(("proj_a", Decimal(20)), ("proj_b", Decimal(5))))
    spend(store, "19", project="proj_a")
    assert fired(store, NOW, budget) == ["Project proj_a budget 90% reached"]
    spend(store, "21", project="proj_a")
    assert fired(store, NOW, budget) == ["Project proj_a budget reached"]
    # proj_b has spent nothing: no alert, whatever proj_a does.
    assert all("proj_b" not in title for title in fired(store, NOW, budget))


def test_the_burn_rate_alert_repeats_at_most_once_an_hour(tmp_path):
    store = Store(tmp_path)
    spend(store, "1")
    report = build_snapshot(store, "openai", None, UTC_ZONE, NOW).report

    def reading(rate: str, minutes: int) -> list[str]:
        at = replace(
            report,
            now=NOW + timedelta(minutes=minutes),
            burn_rate_usd_per_hour=Decimal(rate),
        )
        due = due_alerts(at, None, {}, Decimal("2.00"), Decimal(3))
        return [a.text for a in fire_due_alerts(store, "openai", due, at)]

    assert reading("6.00", 0) == []  # 3x the average is not above 3x
    assert reading("6.01", 1) == [
        "$6.01/hour over the last hour, 3.0× the 7-day average of $2.00/hour."
    ]
    assert reading("9.00", 30) == []
    assert reading("9.00", 60) == []
    assert reading("9.00", 61) != []
    assert reading("1.00", 200) == []


def test_no_burn_rate_alert_without_a_baseline_or_when_turned_off(tmp_path):
    store = Store(tmp_path)
    spend(store, "1")
    report = build_snapshot(store, "openai", None, UTC_ZONE, NOW).report
    fast = replace(report, burn_rate_usd_per_hour=Decimal(1000))
    assert due_alerts(fast, None, {}, None, Decimal(3)) == []
    assert due_alerts(fast, None, {}, Decimal(1), Decimal(0)) == []
    assert due_alerts(fast, None, {}, Decimal(1), None) == []


def test_the_usual_pace_averages_only_the_hours_read(tmp_path):
    store = Store(tmp_path)
    hour = int(NOW.timestamp()) // 3600 * 3600
    rows = [usage_row(hour - h * 3600, cost_usd="2") for h in range(1, 49)]
    for endpoint in ("completions", "embeddings"):
        store.set_watermark("openai", endpoint, "1h", hour - 48 * 3600, hour)
    store.replace_usage(
        "openai", "completions", "1h", (hour - 90000 * 2, hour), rows, now=hour
    )
    snapshot = build_snapshot(store, "openai", None, UTC_ZONE, NOW)
    assert snapshot.hourly_average_usd == Decimal(2), "48 hours read, $2 each"

    for endpoint in ("completions", "embeddings"):
        store.set_watermark("openai", endpoint, "1h", hour - 20 * 3600, hour)
    snapshot = build_snapshot(store, "openai", None, UTC_ZONE, NOW)
    assert snapshot.hourly_average_usd is None, "20 hours are no baseline"


def _fire_in_another_process(data_dir: str, queue) -> None:
    store = Store(data_dir)
    report = build_snapshot(store, "openai", BUDGET, UTC_ZONE, NOW).report
    due = due_alerts(report, BUDGET, {}, None, None)
    queue.put([alert.key for alert in fire_due_alerts(store, "openai", due, report)])


def test_two_processes_never_both_fire_the_same_alert(tmp_path):
    spend(Store(tmp_path), "95")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [
        context.Process(target=_fire_in_another_process, args=(str(tmp_path), queue))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    keys = [key for _ in workers for key in queue.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
    assert keys == ["budget:90"], "fired once, by one of the processes"
    assert len(Store(tmp_path).alert_log("openai")) == 1


def test_a_reading_that_fires_nothing_new_leaves_the_state_file_alone(tmp_path):
    # Every write moves the file's mtime, which makes the app read the store
    # again: a write per read would make it read forever.
    store = Store(tmp_path)
    spend(store, "60")
    assert fired(store, NOW) == ["Monthly budget 50% reached"]
    state = tmp_path / "state.json"
    before = state.stat().st_mtime_ns, state.read_bytes()
    assert fired(store, NOW + timedelta(minutes=5)) == []
    assert (state.stat().st_mtime_ns, state.read_bytes()) == before
