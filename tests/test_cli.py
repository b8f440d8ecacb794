"""The headless commands: ``sync`` then ``report --json`` give hand-computed
totals; bad input exits 2 with a message; a failed sync exits 1."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time

import pytest

from monitor_tui.cli import main
from monitor_tui.store import Store
from tests.conftest import ADMIN_KEY, NOW
from tests.factories import HAND_COMPUTED, completion


def run(argv, env=None):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env or {}, clock=lambda: NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def live_env(server, data_dir) -> dict[str, str]:
    return {
        "OPENAI_ADMIN_KEY": ADMIN_KEY,
        "OPENAI_BASE_URL": server.base_url,
        "MONITOR_TUI_DATA_DIR": str(data_dir),
        "MONITOR_TUI_TIMEZONE": "UTC",
    }


def test_sync_then_report_json_gives_hand_computed_totals(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    code, out, _ = run(["sync"], env)
    assert code == 0, out
    assert "synced LIVE" in out and "pages" in out and "rows" in out

    code, out, err = run(["report", "--json"], env)
    assert code == 0, err
    data = json.loads(out)
    assert data["source"] == "openai"
    assert data["spend_usd"] == "3.410000"  # 2.75 + 0.60 + 0.06
    assert data["billed_usd"] == "3.400000"
    assert data["spend_is_lower_bound"] is False
    assert data["input_tokens"] == 6_000_000
    assert data["cached_input_tokens"] == 600_000
    assert data["output_tokens"] == 600_000
    assert data["requests"] == 6
    assert data["period_start"] == "2026-12-01T00:00:00+00:00"
    assert data["last_sync_at"] == NOW.isoformat()
    assert data["data_state"] == "partial"  # the current hour may still change
    assert [(m["model"], m["cost_usd"]) for m in data["models"]] == [
        ("gpt-4o-2024-08-06", "2.750000"),
        ("gpt-4o-mini-2024-07-18", "0.600000"),
        ("text-embedding-3-small", "0.060000"),
    ]
    assert set(data) >= {
        "period_end",
        "timezone",
        "burn_rate_tokens_per_min",
        "burn_rate_usd_per_hour",
        "forecast_usd",
        "forecast_recent_usd",
        "budget_usd",
        "budget_crossing_at",
        "unpriced_models",
    }


def test_report_table_shows_the_same_figures(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    run(["sync"], env)
    code, out, _ = run(["report"], env)
    assert code == 0
    assert "LIVE" in out and "$3.41" in out and "$3.40" in out
    assert "gpt-4o-mini-2024-07-18" in out and "no budget set" in out


def test_sync_json_reports_pages_buckets_and_rows(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    code, out, _ = run(["sync", "--json"], live_env(api_server, tmp_path))
    data = json.loads(out)
    assert code == 0 and data["ok"] is True
    # 90 days and 16 hours of hourly buckets at 168 a page take 13 pages for each
    # of completions and embeddings; minutes and costs fit one page each. The
    # 91 daily buckets of each of the eight other usage endpoints take 3 pages
    # of 31.
    assert len(data["windows"]) == 5 + 8
    assert data["pages"] == 13 + 1 + 13 + 1 + 1 + 8 * 3
    assert data["rows"] >= 3


def test_a_failed_sync_exits_1_and_says_why(api_server, tmp_path):
    api_server.add_fault(status=500, retry_after=None, count=1000)
    env = live_env(api_server, tmp_path)
    code, _, err = run(["sync"], env)
    assert code == 1
    assert "sync FAILED" in err and "500" in err


def test_the_admin_key_never_reaches_output_or_files(api_server, tmp_path):
    api_server.admin_key = "sk-admin-a-different-key"
    env = live_env(api_server, tmp_path)
    code, out, err = run(["sync"], env)
    assert code == 1
    assert "api.usage.read" in err
    _, report_out, report_err = run(["report", "--json"], env)
    assert ADMIN_KEY not in out + err + report_out + report_err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert ADMIN_KEY not in path.read_text(errors="replace")


def test_without_a_key_the_demo_is_used_and_labelled(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path), "MONITOR_TUI_TIMEZONE": "UTC"}
    code, out, err = run(["report", "--sync"], env)
    assert code == 0
    assert "DEMO" in out and "no admin key" in err
    code, out, _ = run(["report", "--json"], env)
    data = json.loads(out)
    assert data["source"] == "demo"
    assert float(data["spend_usd"]) > 0
    assert (tmp_path / "demo" / "state.json").exists()
    assert not (tmp_path / "hourly").exists(), "demo rows stay in demo/"
    assert (tmp_path / "demo" / "hourly").is_dir()


def test_budget_set_and_show_round_trip_and_feed_the_report(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path), "MONITOR_TUI_TIMEZONE": "UTC"}
    assert run(["budget", "set", "250.50", "--start-day", "15"], env)[0] == 0
    code, out, _ = run(["budget", "show"], env)
    assert code == 0 and "$250.50" in out and "day 15" in out
    data = json.loads(run(["report", "--json"], env)[1])
    assert data["budget_usd"] == "250.500000"
    assert data["period_start"] == "2026-11-15T00:00:00+00:00"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["budget", "set", "abc"], "not an amount"),
        (["budget", "set", "-5"], "out of range"),
        (["budget", "set", "0"], "out of range"),
        (["budget", "set", "1e12"], "out of range"),
        (["budget", "set", "10", "--start-day", "31"], "not a day from 1 to 28"),
        (["explode"], "invalid choice"),
        (["--timezone", "Nowhere/Land", "report"], "unknown time zone"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys, argv, message):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path)}
    try:
        code, _, err = run(argv, env)
    except SystemExit as exc:  # argparse exits by itself
        code, err = exc.code, capsys.readouterr().err
    assert code == 2
    assert message in err
    assert not (tmp_path / "state.json").exists()


def test_the_console_script_syncs_and_reports_against_the_local_server(
    api_server, tmp_path
):
    now = int(time.time())
    api_server.now = None  # the server follows the real clock, as the program does
    api_server.set_records(
        [
            completion(
                now - 30,
                "gpt-4o-2024-08-06",
                input_tokens=1_000_000,
                input_cached_tokens=600_000,
                output_tokens=100_000,
            ),
        ]
    )
    env = {**os.environ, **live_env(api_server, tmp_path)}
    command = [sys.executable, "-m", "monitor_tui"]
    synced = subprocess.run(
        [*command, "sync"], env=env, capture_output=True, text=True, timeout=120
    )
    assert synced.returncode == 0, synced.stderr
    reported = subprocess.run(
        [*command, "report", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reported.returncode == 0, reported.stderr
    data = json.loads(reported.stdout)
    # $2.75 unless the run straddled the start of a month.
    assert data["spend_usd"] in ("2.750000", "0.000000")
    assert ADMIN_KEY not in synced.stdout + synced.stderr + reported.stdout


def test_a_data_dir_that_is_a_file_exits_2_with_a_message(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = {"MONITOR_TUI_DATA_DIR": str(blocker), "MONITOR_TUI_TIMEZONE": "UTC"}
    code, _, err = run(["sync"], env)
    assert code == 2
    assert "cannot use the data directory" in err and "not-a-dir" in err


def test_a_damaged_state_file_is_restored_from_its_copy(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path), "MONITOR_TUI_TIMEZONE": "UTC"}
    assert run(["sync"], env)[0] == 0
    before = json.loads(run(["report", "--json"], env)[1])
    damaged = tmp_path / "demo" / "state.json"
    damaged.write_text('{"watermarks": {"1": ')
    code, out, err = run(["report", "--json"], env)
    assert code == 0, err
    assert f"the store file {damaged} was damaged" in err
    assert "restored as it was before its last change" in err
    assert json.loads(out)["spend_usd"] == before["spend_usd"]
    [aside] = (tmp_path / "demo").glob("state.json.damaged-*")
    assert aside.read_text() == '{"watermarks": {"1": '


def test_a_failed_sync_still_shows_the_last_good_report_and_exits_1(
    api_server, tmp_path
):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    assert run(["report", "--sync"], env)[0] == 0
    api_server.add_fault(status=500, retry_after=None, count=1000)
    code, out, err = run(["report", "--sync"], env)
    assert code == 1
    assert "sync FAILED" in err
    assert "$3.41" in out and "data partial" in out


def test_the_report_fits_an_80_column_terminal(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path), "MONITOR_TUI_TIMEZONE": "UTC"}
    code, out, err = run(["report", "--sync"], env)
    assert code == 0
    for line in (out + err).splitlines():
        assert len(line) <= 80, line


@pytest.mark.parametrize(
    ("relative", "content"),
    [
        ("hourly/2026-12-04.json", "not json"),
        ("hourly/2026-12-04.json", '{"usage": {"1": {}}}'),
        (
            "hourly/2026-12-04.json",
            '{"usage": {"1": {"start": 1, "origin": "demo",'
            ' "endpoint": "completions", "input_tokens": "x"}}}',
        ),
        (
            "costs/2026-12.json",
            '{"costs": {"1": {"start": 1, "origin": "demo",'
            ' "amount": null, "currency": "usd"}}}',
        ),
    ],
)
def test_a_damaged_row_file_is_set_aside_and_rebuilt_by_the_next_sync(
    tmp_path, relative, content
):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path), "MONITOR_TUI_TIMEZONE": "UTC"}
    assert run(["sync"], env)[0] == 0
    before = json.loads(run(["report", "--json"], env)[1])
    damaged = tmp_path / "demo" / relative
    damaged.write_text(content)

    code, _, err = run(["report"], env)
    assert code == 0, err
    assert f"the store file {damaged} was damaged" in err
    assert "the next sync reads the history again from the API" in err
    assert not damaged.exists() or damaged.read_text() != content
    assert len(list(damaged.parent.glob(f"{damaged.name}.damaged-*"))) == 1

    code, out, err = run(["sync", "--json"], env)
    assert code == 0, err
    hourly = next(w for w in json.loads(out)["windows"] if w["width"] == "1h")
    assert hourly["buckets"] > 35 * 24, "the whole history is read again"
    after = json.loads(run(["report", "--json"], env)[1])
    assert after["spend_usd"] == before["spend_usd"]
    assert after["billed_usd"] == before["billed_usd"]


def test_a_store_written_by_a_newer_version_is_not_overwritten(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path), "MONITOR_TUI_TIMEZONE": "UTC"}
    assert run(["sync"], env)[0] == 0
    state = tmp_path / "demo" / "state.json"
    data = json.loads(state.read_text())
    data["meta"] = {"1": {"schema": 99}}
    state.write_text(json.dumps(data))
    code, _, err = run(["sync"], env)
    assert code == 1
    assert "written by a newer monitor-tui (layout 99" in err
    assert json.loads(state.read_text())["meta"] == {"1": {"schema": 99}}


def test_a_watermark_that_cannot_be_read_is_read_again_from_the_api(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path), "MONITOR_TUI_TIMEZONE": "UTC"}
    assert run(["sync"], env)[0] == 0
    store = Store(tmp_path / "demo")
    store.set_watermark("demo", "completions", "1h", "soon", None)
    code, out, _ = run(["sync", "--json"], env)
    assert code == 0
    windows = json.loads(out)["windows"]
    hourly = next(
        w for w in windows if w["endpoint"] == "completions" and w["width"] == "1h"
    )
    assert hourly["buckets"] > 2000  # the whole history again


def test_without_a_command_the_app_needs_a_terminal(tmp_path):
    env = {"MONITOR_TUI_DATA_DIR": str(tmp_path), "MONITOR_TUI_TIMEZONE": "UTC"}
    code, out, err = run([], env)  # io.StringIO is not a terminal
    assert code == 2
    assert "the app needs a terminal" in err and "monitor-tui report" in err
    assert out == ""


def test_report_without_sync_reads_only_the_store(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    code, out, err = run(["report"], env)
    assert code == 0
    assert api_server.requests == []
    assert "Synced     never" in out
    assert "nothing has been synced into" in err and "monitor-tui sync" in err


def test_report_sync_json_prints_only_the_report_on_stdout(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    code, out, err = run(["report", "--sync", "--json"], env)
    assert code == 0
    assert json.loads(out)["spend_usd"] == "3.410000"
    assert "synced LIVE" in err

    api_server.add_fault(status=500, retry_after=None, count=1000)
    code, out, err = run(["report", "--sync", "--json"], env)
    assert code == 1
    assert json.loads(out)["spend_usd"] == "3.410000"
    assert "sync FAILED" in err


def test_a_damaged_day_file_is_rebuilt_from_the_api(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    env = live_env(api_server, tmp_path)
    assert run(["sync"], env)[0] == 0
    day_file = tmp_path / "hourly" / "2026-12-04.json"
    day_file.write_text('{"_default": {"1": ')

    code, out, err = run(["report", "--sync", "--json"], env)
    assert code == 0, err
    assert "was damaged" in err and "2026-12-04.json.damaged-" in err
    assert json.loads(out)["spend_usd"] == "3.410000"
