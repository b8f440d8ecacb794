"""``monitor-tui budget check``: one line and the monitoring-plugin exit code,
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, on data synced from the local API."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from monitor_tui.budget_check import CRITICAL, OK, UNKNOWN, WARNING
from monitor_tui.cli import main
from tests.conftest import ADMIN_KEY, NOW
from tests.factories import HAND_COMPUTED


def run(argv, env, now=NOW):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, clock=lambda: now, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(api_server, tmp_path) -> dict[str, str]:
    api_server.set_records(HAND_COMPUTED)  # $3.41 of estimated spend
    return {
        "OPENAI_ADMIN_KEY": ADMIN_KEY,
        "OPENAI_BASE_URL": api_server.base_url,
        "MONITOR_TUI_DATA_DIR": str(tmp_path),
        "MONITOR_TUI_TIMEZONE": "UTC",
    }


@pytest.mark.parametrize(
    ("budget", "code", "line"),
    [
        (
            ["100"],
            OK,
            "BUDGET OK - $3.41 of $100.00 (3.4%) | spend=3.41;50.00;100.00;0;100.00",
        ),
        (
            ["5", "--thresholds", "50,60,90"],
            WARNING,
            "BUDGET WARNING - $3.41 of $5.00 (68.2%), past the 60% threshold | "
            "spend=3.41;2.50;5.00;0;5.00",
        ),
        (
            ["3.41"],  # exactly the budget: at or over is critical
            CRITICAL,
            "BUDGET CRITICAL - $3.41 of $3.41 (100.0%), the budget is spent | "
            "spend=3.41;1.71;3.41;0;3.41",
        ),
        (
            ["6.82", "--thresholds", "50"],  # exactly on the threshold
            WARNING,
            "BUDGET WARNING - $3.41 of $6.82 (50.0%), past the 50% threshold | "
            "spend=3.41;3.41;6.82;0;6.82",
        ),
    ],
)
def test_the_check_judges_synced_spend_against_the_budget(env, budget, code, line):
    assert run(["budget", "set", *budget], env)[0] == 0
    assert run(["budget", "check", "--sync"], env) == (code, line + "\n", "")
    # Without --sync it judges what the store holds, just the same.
    assert run(["budget", "check"], env)[:2] == (code, line + "\n")


def test_without_a_budget_it_is_unknown(env):
    run(["sync"], env)
    code, out, _ = run(["budget", "check"], env)
    assert code == UNKNOWN
    assert out == (
        "BUDGET UNKNOWN - no budget set; set one with `monitor-tui budget set AMOUNT`\n"
    )


def test_demo_data_is_never_judged(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path)}
    run(["budget", "set", "100"], env)
    code, out, _ = run(["budget", "check", "--sync"], env)
    assert code == UNKNOWN and "demo data is never judged" in out
    code, out, _ = run(["--demo", "budget", "check"], {**env, "OPENAI_ADMIN_KEY": "k"})
    assert code == UNKNOWN


def test_stale_or_missing_data_is_unknown(env):
    run(["budget", "set", "100"], env)
    code, out, _ = run(["budget", "check"], env)
    assert (code, out) == (
        UNKNOWN,
        "BUDGET UNKNOWN - no sync has finished yet; run `monitor-tui sync`\n",
    )
    run(["sync"], env)
    later = NOW + timedelta(minutes=181)
    code, out, _ = run(["budget", "check"], env, now=later)
    assert code == UNKNOWN
    assert "the last sync was 3 h 1 min ago (stale after 180 min)" in out
    assert run(["budget", "check"], env, now=NOW + timedelta(minutes=179))[0] == OK


def test_a_failed_sync_is_unknown_on_one_line(env, api_server):
    run(["budget", "set", "100"], env)
    api_server.add_fault(status=500, retry_after=0.01, count=1000)
    code, out, _ = run(["budget", "check", "--sync"], env)
    assert code == UNKNOWN
    assert out.startswith("BUDGET UNKNOWN - the sync failed: ")
    assert out.count("\n") == 1
    assert ADMIN_KEY not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["budget", "check", "--bogus"],
        ["--timezone", "Mars/Base", "budget", "check"],
        ["--config", "/nonexistent/config.toml", "budget", "check"],
    ],
)
def test_bad_arguments_are_unknown_not_critical(env, capsys, argv):
    code, out, _ = run(argv, env)
    assert code == UNKNOWN
    assert out.startswith("BUDGET UNKNOWN - ")


def test_a_project_over_its_budget_makes_the_check_critical(env):
    run(["budget", "set", "1000", "--projects", "proj_a=1,proj_b=500"], env)
    code, out, _ = run(["budget", "check", "--sync"], env)
    assert code == CRITICAL
    assert out.startswith(
        "BUDGET CRITICAL - $3.41 of $1,000.00 (0.3%); project proj_a $"
    )
    assert "of $1.00" in out and "the budget is spent" in out
    assert "proj_b" not in out, "a project under its thresholds is not named"
    assert out.rstrip().endswith("| spend=3.41;500.00;1000.00;0;1000.00")


def test_spend_just_under_the_budget_never_reads_as_100_percent(env):
    # $3.41 of $3.42: 99.7 %, and $3.41 of $3.4101 would read 99.9 %, not 100.0 %.
    run(["budget", "set", "3.42"], env)
    code, out, _ = run(["budget", "check", "--sync"], env)
    assert code == WARNING
    assert "$3.41 of $3.42 (99.7%), past the 90% threshold" in out
