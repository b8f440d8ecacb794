"""The budget: amounts in dollars and cents, a start day every month has, a zone
fixed when it is set, and a damaged record refused with a message."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from monitor_tui.budget import (
    Budget,
    BudgetError,
    format_project_budgets,
    parse_amount,
    parse_project_budgets,
    parse_thresholds,
    resolve_project_names,
)
from monitor_tui.cli import main
from monitor_tui.store import Store
from tests.conftest import NOW


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("100", "100.00"),
        ("250.5", "250.50"),
        (" 99.99 ", "99.99"),
        ("1e3", "1000.00"),
        ("$1,250.50", "1250.50"),
    ],
)
def test_plain_amounts_are_dollars_and_cents(text, amount):
    assert parse_amount(text) == Decimal(amount)
    assert str(parse_amount(text)) == amount


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "not an amount"),
        ("0", "out of range"),
        ("-5", "out of range"),
        ("0.001", "out of range"),
        ("1e-999999", "out of range"),
        ("10000000.01", "out of range"),
        ("NaN", "not an amount"),
        ("inf", "not an amount"),
        ("250.505", "fractions of a cent"),
        ("1,5", "commas only separate thousands"),
        ("1.000,50", "commas only separate thousands"),
        ("", "enter an amount"),
    ],
)
def test_amounts_that_are_not_a_budget_are_refused(text, message):
    with pytest.raises(BudgetError, match=message):
        parse_amount(text)


def test_a_damaged_record_is_refused_with_the_way_out():
    with pytest.raises(BudgetError, match="budget set AMOUNT"):
        Budget.from_record({"amount_usd": "1E-999999", "start_day": 1})
    with pytest.raises(BudgetError, match="unknown time zone"):
        Budget.from_record({"amount_usd": "5", "timezone": "Mars/Base"})
    with pytest.raises(BudgetError, match="damaged"):
        Budget.from_record({"start_day": 3})


def test_the_period_follows_the_budgets_zone_and_start_day():
    budget = Budget(Decimal(100), start_day=3, timezone="Asia/Tokyo")
    period = budget.period(NOW)
    # 2026-12-03 00:00 in Tokyo (UTC+9) is 2026-12-02 15:00 UTC.
    assert period.start == datetime(2026, 12, 2, 15, tzinfo=UTC)


def run(argv, data_dir):
    out, err = io.StringIO(), io.StringIO()
    env = {"MONITOR_TUI_DATA_DIR": str(data_dir), "MONITOR_TUI_TIMEZONE": "UTC"}
    code = main(argv, env=env, clock=lambda: NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_zone_is_fixed_when_the_budget_is_set(tmp_path):
    assert run(["--timezone", "Europe/Paris", "budget", "set", "100"], tmp_path)[0] == 0
    code, out, _ = run(["budget", "show"], tmp_path)
    assert code == 0
    assert "Europe/Paris" in out and "$100.00" in out
    # Showing the report in another zone does not move the billing period.
    _, out, _ = run(["--timezone", "Asia/Tokyo", "report", "--json"], tmp_path)
    assert '"period_start": "2026-12-01T00:00:00+01:00"' in out


def test_budget_set_timezone_sets_the_budgets_zone(tmp_path):
    run(["budget", "set", "10", "--timezone", "America/New_York"], tmp_path)
    assert Store(tmp_path).budget()["timezone"] == "America/New_York"
    # A later amount change keeps the zone and the start day.
    run(["budget", "set", "20", "--start-day", "5"], tmp_path)
    run(["budget", "set", "30"], tmp_path)
    assert Store(tmp_path).budget() == {
        "amount_usd": "30.00",
        "start_day": 5,
        "timezone": "America/New_York",
        "thresholds": [50, 75, 90],
        "projects": {},
    }


def test_a_damaged_stored_budget_stops_the_report_with_a_message(tmp_path):
    Store(tmp_path).set_budget({"amount_usd": "banana", "start_day": 1})
    code, _, err = run(["report"], tmp_path)
    assert code == 1
    assert "stored budget is damaged" in err and "budget set AMOUNT" in err


@pytest.mark.parametrize(
    ("text", "thresholds"),
    [("50,75,90", (50, 75, 90)), ("90 50", (50, 90)), ("80%, 100", (80, 100))],
)
def test_thresholds_are_whole_percentages_in_order(text, thresholds):
    assert parse_thresholds(text) == thresholds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one threshold"),
        ("0", "from 1 to 100"),
        ("101", "from 1 to 100"),
        ("-5", "from 1 to 100"),
        ("50.5", "from 1 to 100"),
        ("fifty", "from 1 to 100"),
        ("50,75,50", "50% is given twice"),
    ],
)
def test_thresholds_out_of_range_or_repeated_are_refused(text, message):
    with pytest.raises(BudgetError, match=message):
        parse_thresholds(text)


def test_project_budgets_read_back_as_they_are_written():
    budgets = parse_project_budgets("proj_a=50, proj_b = 120.5")
    assert budgets == (("proj_a", Decimal("50.00")), ("proj_b", Decimal("120.50")))
    assert parse_project_budgets(format_project_budgets(budgets)) == budgets
    assert parse_project_budgets("  ") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("proj_a", "is not PROJECT=AMOUNT"),
        ("=50", "is not PROJECT=AMOUNT"),
        ("proj_a=0", "proj_a: 0 is out of range"),
        ("proj_a=lots", "proj_a: 'lots' is not an amount"),
        ("proj_a=5,proj_a=6", "given twice"),
    ],
)
def test_bad_project_budgets_are_refused_naming_the_project(text, message):
    with pytest.raises(BudgetError, match=message):
        parse_project_budgets(text)


def test_thresholds_and_project_budgets_survive_the_store(tmp_path):
    budget = Budget(
        Decimal(100), thresholds=(25, 80), projects=(("proj_a", Decimal(10)),)
    )
    Store(tmp_path).set_budget(budget.to_record())
    assert Budget.from_record(Store(tmp_path).budget()) == budget
    _, out, _ = run(["budget", "show"], tmp_path)
    assert "alerts at 25%, 80%" in out and "proj_a $10.00" in out


def test_budget_clear_removes_the_budget(tmp_path):
    run(["budget", "set", "100"], tmp_path)
    assert run(["budget", "clear"], tmp_path)[0] == 0
    assert Store(tmp_path).budget() is None
    assert "no budget set" in run(["budget", "show"], tmp_path)[1]


NAMES = {"proj_web": "Web app", "proj_ops": "Ops", "proj_ops2": "ops"}


def test_projects_given_by_name_become_their_ids():
    budgets = parse_project_budgets("web  APP=50, proj_new=10")
    assert resolve_project_names(budgets, NAMES) == (
        ("proj_web", Decimal(50)),
        ("proj_new", Decimal(10)),  # an id no sync has named yet is kept
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mobile=5", "no project named 'Mobile' is known"),
        ("ops=5", "2 projects are named 'ops'"),
        ("Web app=5, proj_web=6", "given twice"),
    ],
)
def test_a_name_that_is_unknown_shared_or_repeated_is_refused(text, message):
    with pytest.raises(BudgetError, match=message):
        resolve_project_names(parse_project_budgets(text), NAMES)


def test_project_budgets_read_back_by_name_where_the_name_is_unambiguous():
    budgets = (("proj_web", Decimal(50)), ("proj_ops", Decimal(5)))
    # "Ops" and "ops" would read back to two projects: the id is shown instead.
    text = format_project_budgets(budgets, NAMES)
    assert text == "Web app=50, proj_ops=5"
    assert resolve_project_names(parse_project_budgets(text), NAMES) == budgets


def test_budget_set_takes_a_project_by_the_name_a_sync_read(tmp_path):
    assert run(["sync"], tmp_path)[0] == 0  # the demo names its projects
    code, out, _ = run(["budget", "set", "100", "--projects", "web app=30"], tmp_path)
    assert code == 0, out
    budget = Budget.from_record(Store(tmp_path).budget())
    assert budget.projects == (("proj_demo_webapp", Decimal(30)),)

    code, _, err = run(["budget", "set", "100", "--projects", "Mobile=5"], tmp_path)
    assert code == 2
    assert "no project named 'Mobile' is known" in err
