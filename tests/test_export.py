"""Exports: CSV and JSON totals that equal the store's for every grouping, ids and
formulas that a spreadsheet cannot mangle or run, a Markdown report with its
sections, and files that are only ever written whole and never replaced unasked.
The command line is run through ``run_export`` as ``monitor-tui export`` runs it."""

from __future__ import annotations

import argparse
import csv
import errno
import io
import json
import os
import socket
import stat
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor_tui.budget import Budget
from monitor_tui.cli import main
from monitor_tui.config import Settings, load_settings
from monitor_tui.export import (
    GROUPINGS,
    ExportRequest,
    default_file_name,
    export,
    files,
)
from monitor_tui.export.csv_file import neutralize
from monitor_tui.export.markdown import escape
from monitor_tui.export_cli import add_export_parser, run_export
from monitor_tui.export_log import KEEP, ExportRecord, add_export, recent_exports
from monitor_tui.money import json_money
from monitor_tui.period import billing_period
from monitor_tui.pricing import price_basis
from monitor_tui.report import build_report, period_usage_rows
from monitor_tui.store import Store
from tests.conftest import ADMIN_KEY, NOW, NOW_EPOCH
from tests.factories import HAND_COMPUTED, usage_row

UTC_ZONE = ZoneInfo("UTC")


def at(day: int, hour: int = 0, month: int = 12) -> int:
    """Epoch seconds of an hour in 2026, UTC."""
    return int(datetime(2026, month, day, hour, tzinfo=UTC).timestamp())


NUMBER_LIKE = "12345678901234567890"
"""A project id a spreadsheet would turn into 1.23457E+19."""
DATE_LIKE = "2026-12-04"
"""An API key id a spreadsheet would turn into a date."""
FORMULA = '=HYPERLINK("http://127.0.0.1/steal","click")'

DEFAULT_NAME = "monitor-tui-2026-12-04-153020-by-day.csv"
"""The default name at the tests' fixed moment, in UTC."""

HOURLY_FROM = at(2)
"""Hourly history starts on 2 December: 1 December counts from its daily row."""
DAILY_FROM = at(1)
"""Daily history was read from 1 December: usage before it has not been read."""

ROWS = [
    # The daily row counts for 1 December; the hourly row of that day is
    # outside the hourly history, so it must not count as well.
    usage_row(
        at(1),
        width="1d",
        input_tokens=1_000,
        cached_input_tokens=200,
        output_tokens=100,
        requests=2,
        cost_usd="1.250000",
        project_id=NUMBER_LIKE,
        api_key_id=DATE_LIKE,
    ),
    usage_row(at(1, 5), input_tokens=9, requests=1, cost_usd="100"),
    usage_row(
        at(2, 10),
        model="gpt-4o-mini-2024-07-18",
        input_tokens=5_000,
        output_tokens=400,
        requests=3,
        cost_usd="0.333333",
        project_id=NUMBER_LIKE,
        api_key_id="0012",
    ),
    usage_row(
        at(3, 6),
        model="gpt-4.1-2025-04-14",
        input_tokens=2_000,
        cached_input_tokens=1_000,
        output_tokens=50,
        requests=1,
        cost_usd="2.000001",
        project_id=FORMULA,
        api_key_id="-2+3",
    ),
    usage_row(
        at(3, 6),
        model="mystery-model",
        input_tokens=700,
        requests=1,
        cost_usd=None,
        price_state="unpriced",
        project_id="proj_a",
        api_key_id="@key",
    ),
    usage_row(
        at(4, 14),
        endpoint="embeddings",
        model="text-embedding-3-small",
        input_tokens=1_000,
        requests=1,
        cost_usd="0.000020",
        project_id="proj_a",
        api_key_id="key_a",
    ),
    # The day before the billing period: only ranges reaching back count it.
    usage_row(at(30, 23, month=11), input_tokens=10, requests=1, cost_usd="9"),
]


def put(store: Store, rows: list[dict]) -> None:
    """Store ``rows`` as a sync would, with hourly history from ``HOURLY_FROM``."""
    grouped = defaultdict(list)
    for row in rows:
        grouped[(row["endpoint"], row["width"])].append(row)
    for (endpoint, width), group in grouped.items():
        starts = [row["start"] for row in group]
        window = (min(starts), max(starts) + 86400)
        store.replace_usage("openai", endpoint, width, window, group, now=NOW_EPOCH)
    for endpoint in ("completions", "embeddings"):
        store.set_watermark("openai", endpoint, "1h", HOURLY_FROM, NOW_EPOCH)
        store.set_watermark("openai", endpoint, "1d", DAILY_FROM, HOURLY_FROM)
    store.record_sync("openai", {"ok": True, "last_ok_at": NOW_EPOCH - 20})
    # The costs above are made up: they must not be priced again.
    store.set_price_basis(price_basis({}))


def settings_for(data_dir: Path, timezone: str = "UTC") -> Settings:
    return Settings(admin_key=ADMIN_KEY, data_dir=data_dir, timezone=timezone)


@pytest.fixture
def settings(tmp_path) -> Settings:
    data_dir = tmp_path / "data"
    put(Store(data_dir), ROWS)
    return settings_for(data_dir)


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """An empty current directory, where default names land."""
    folder = tmp_path / "here"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def store_totals(settings: Settings, start: int, end: int) -> dict[str, Decimal]:
    """The range's totals summed straight from the rows the store counts."""
    rows = period_usage_rows(Store(settings.store_dir), "openai", start, end)
    sums = {
        name: Decimal(sum(r[name] for r in rows))
        for name in ("input_tokens", "cached_input_tokens", "output_tokens", "requests")
    }
    sums["cost_usd"] = sum(
        (Decimal(r["cost_usd"]) for r in rows if r["cost_usd"] is not None),
        Decimal(0),
    )
    return sums


def column_sums(rows: list[dict]) -> dict[str, Decimal]:
    names = ("input_tokens", "cached_input_tokens", "output_tokens", "requests")
    sums = {
        name: sum((Decimal(row[name]) for row in rows), Decimal(0)) for name in names
    }
    sums["cost_usd"] = sum((Decimal(row["cost_usd"] or 0) for row in rows), Decimal(0))
    return sums


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_cli(argv: list[str], settings: Settings) -> tuple[int, str, str]:
    """``monitor-tui export ARGV``, as the command line parses and runs it."""
    parser = argparse.ArgumentParser(prog="monitor-tui")
    add_export_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = run_export(args, settings, lambda: NOW, out, err)
    return code, out.getvalue(), err.getvalue()


# Totals


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_csv_totals_parsed_back_equal_the_stores_and_the_reports(
    settings, here, group_by
):
    code, out, err = run_cli(["--group-by", group_by, "--out", "x.csv"], settings)
    assert code == 0, err
    assert "to " + str(here / "x.csv") in out

    rows = read_csv(here / "x.csv")
    period = billing_period(NOW, 1, UTC_ZONE)
    start, end = int(period.start.timestamp()), NOW_EPOCH
    expected = store_totals(settings, start, end)
    assert column_sums(rows) == expected
    # 1.25 (the daily row) + 0.333333 + 2.000001 + 0.00002; the unpriced row
    # adds nothing, and neither the hourly row of 1 December nor November's.
    assert expected["cost_usd"] == Decimal("3.583354")
    report = build_report(Store(settings.store_dir), "openai", period, NOW)
    assert expected["cost_usd"] == report.spend_usd
    assert expected["requests"] == report.requests == 8


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_json_totals_and_rows_equal_the_stores(settings, here, group_by):
    code, _, err = run_cli(
        ["--format", "json", "--group-by", group_by, "--out", "x.json"], settings
    )
    assert code == 0, err
    data = json.loads((here / "x.json").read_text(encoding="utf-8"))

    expected = store_totals(settings, at(1), NOW_EPOCH)
    totals = data["totals"]
    assert totals["spend_usd"] == json_money(expected["cost_usd"]) == "3.583354"
    assert totals["spend_is_lower_bound"] is True
    assert totals["unpriced_models"] == ["mystery-model"]
    for name in ("input_tokens", "cached_input_tokens", "output_tokens", "requests"):
        assert totals[name] == expected[name]
    assert column_sums(data["rows"]) == expected


def test_json_carries_the_reports_names_for_the_metadata(settings, here):
    code, _, _ = run_cli(
        [
            "--format",
            "json",
            "--from",
            "2026-12-02",
            "--to",
            "2026-12-03",
            "--out",
            "x.json",
        ],
        settings,
    )
    data = json.loads((here / "x.json").read_text())
    assert code == 0
    assert {key: data[key] for key in list(data)[:10]} == {
        "generated_at": "2026-12-04T15:30:20+00:00",
        "range_start": "2026-12-02T00:00:00+00:00",
        "range_end": "2026-12-04T00:00:00+00:00",
        "range_label": "02 Dec 2026 → 03 Dec 2026",
        "timezone": "UTC",
        "source": "openai",
        "last_sync_at": "2026-12-04T15:30:00+00:00",
        # The range ended before the hours the API may still revise.
        "data_state": "complete",
        "currency": "USD",
        "group_by": "day",
    }
    assert data["totals"]["billed_usd"] is None  # costs were never read
    assert data["rows"][0] == {
        "date": "2026-12-02",
        "start": "2026-12-02T00:00:00+00:00",
        "end": "2026-12-03T00:00:00+00:00",
        "input_tokens": 5_000,
        "cached_input_tokens": 0,
        "output_tokens": 400,
        "requests": 3,
        "cost_usd": "0.333333",
        "priced": True,
        "price_state": "priced",
        # Usage not counted in tokens: none here.
        "images": 0,
        "speech_characters": 0,
        "transcription_seconds": 0,
        "vector_store_byte_days": 0,
        "code_interpreter_sessions": 0,
        "file_search_calls": 0,
        "web_search_calls": 0,
    }
    # 3 December had an unpriced row: its cost is what was priced, a lower bound.
    assert data["rows"][1]["cost_usd"] == "2.000001"
    assert data["rows"][1]["priced"] is False
    assert data["rows"][1]["price_state"] == "unpriced"


def test_sync_then_export_gives_the_hand_computed_totals(api_server, tmp_path, here):
    api_server.set_records(HAND_COMPUTED)
    env = {
        "OPENAI_ADMIN_KEY": ADMIN_KEY,
        "OPENAI_BASE_URL": api_server.base_url,
        "MONITOR_TUI_DATA_DIR": str(tmp_path / "live"),
        "MONITOR_TUI_TIMEZONE": "UTC",
    }
    out = io.StringIO()
    assert main(["sync"], env=env, clock=lambda: NOW, out=out, err=out) == 0

    code, _, err = run_cli(["--group-by", "model"], load_settings(env=env))
    assert code == 0, err
    rows = read_csv(here / "monitor-tui-2026-12-04-153020-by-model.csv")
    # $2.75 + $0.60 + $0.06, as tests/factories.py works out.
    assert [(row["model"], row["cost_usd"]) for row in rows] == [
        ("gpt-4o-2024-08-06", "2.750000"),
        ("gpt-4o-mini-2024-07-18", "0.600000"),
        ("text-embedding-3-small", "0.060000"),
    ]
    assert column_sums(rows)["cost_usd"] == Decimal("3.41")


# Groupings


def test_hours_are_bucket_starts_and_a_daily_row_keeps_its_whole_day(settings, here):
    run_cli(["--group-by", "hour", "--out", "x.csv"], settings)
    rows = read_csv(here / "x.csv")
    used = [(row["start"], row["end"]) for row in rows if row["requests"] != "0"]
    assert used == [
        ("2026-12-01T00:00:00+00:00", "2026-12-02T00:00:00+00:00"),
        ("2026-12-02T10:00:00+00:00", "2026-12-02T11:00:00+00:00"),
        ("2026-12-03T06:00:00+00:00", "2026-12-03T07:00:00+00:00"),
        ("2026-12-04T14:00:00+00:00", "2026-12-04T15:00:00+00:00"),
    ]


def test_days_are_local_days_of_the_display_zone_with_empty_days_listed(tmp_path, here):
    settings = settings_for(tmp_path / "data", "America/Los_Angeles")
    put(Store(settings.data_dir), ROWS)
    code, _, err = run_cli(
        ["--from", "2026-11-30", "--to", "2026-12-03", "--out", "x.csv"], settings
    )
    assert code == 0, err
    rows = {row["date"]: row for row in read_csv(here / "x.csv")}
    assert list(rows) == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
    # 06:00 UTC on 3 December is 22:00 on the 2nd in Los Angeles (UTC-8).
    assert rows["2026-12-02"]["start"] == "2026-12-02T00:00:00-08:00"
    assert rows["2026-12-02"]["requests"] == "5"  # 3 at 02:00 PST + 1 + 1 at 22:00
    assert rows["2026-12-03"]["requests"] == "0"
    assert rows["2026-12-03"]["cost_usd"] == "0.000000"


def test_names_are_sorted_by_cost_and_ids_and_names_are_separate_columns(
    settings, here
):
    run_cli(["--group-by", "project", "--out", "x.csv"], settings)
    rows = read_csv(here / "x.csv")
    assert list(rows[0]) == [
        "project_id",
        "project_name",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "requests",
        "cost_usd",
        "priced",
        "price_state",
        "images",
        "speech_characters",
        "transcription_seconds",
        "vector_store_byte_days",
        "code_interpreter_sessions",
        "file_search_calls",
        "web_search_calls",
    ]
    assert [row["project_id"] for row in rows] == ["'" + FORMULA, NUMBER_LIKE, "proj_a"]
    assert {row["project_name"] for row in rows} == {""}  # names are not synced yet


# Spreadsheets


def test_ids_that_look_like_numbers_or_dates_survive_a_csv_round_trip(settings, here):
    run_cli(["--group-by", "api_key", "--out", "keys.csv"], settings)
    ids = [row["api_key_id"] for row in read_csv(here / "keys.csv")]
    assert DATE_LIKE in ids and "0012" in ids
    run_cli(["--group-by", "project", "--out", "projects.csv"], settings)
    assert NUMBER_LIKE in [row["project_id"] for row in read_csv(here / "projects.csv")]

    # They are quoted text in the file; the counts and money beside them are
    # bare numbers: the daily row of 1 December and the hour of the 2nd.
    text = (here / "projects.csv").read_text(encoding="utf-8")
    assert f'"{NUMBER_LIKE}",,6000,200,500,5,1.583333,true,"priced"' in text


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralized(settings, here):
    run_cli(["--group-by", "api_key", "--out", "keys.csv"], settings)
    ids = [row["api_key_id"] for row in read_csv(here / "keys.csv")]
    assert "'-2+3" in ids and "'@key" in ids
    run_cli(["--group-by", "project", "--out", "projects.csv"], settings)
    text = (here / "projects.csv").read_text(encoding="utf-8")
    assert '"\'=HYPERLINK(""http://127.0.0.1/steal"",""click"")"' in text
    for start in "=+-@\t\r":
        assert neutralize(f"{start}1") == f"'{start}1"
    assert neutralize("proj_a") == "proj_a"
    assert neutralize("1-2") == "1-2"


def test_csv_is_utf8_with_one_header_row_and_crlf_lines(settings, here):
    run_cli(["--group-by", "model", "--out", "x.csv"], settings)
    raw = (here / "x.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8").split("\r\n")
    assert lines[0].startswith("model,input_tokens,")
    assert lines[-1] == "" and len(lines) == 1 + 5 + 1
    assert "$" not in raw.decode()


# Markdown


def test_the_markdown_report_has_every_section_and_labels_estimates(settings, here):
    Store(settings.data_dir).set_budget(Budget(amount_usd=Decimal(100)).to_record())
    code, _, err = run_cli(["--format", "md"], settings)
    assert code == 0, err
    text = (here / "monitor-tui-2026-12-04-153020-summary.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# OpenAI spend: this billing period",
        "## Spend",
        "## Billing period Tue 01 Dec 2026 00:00 → Fri 01 Jan 2027 00:00 (UTC)",
        "## Top models",
        "## Top projects",
        "## Top API keys",
        "## Biggest savings (estimates)",
    ]
    assert "| Estimated spend | at least $3.58 |" in text
    # mystery-model has no price: the period's spend is a lower bound too.
    assert "| Spent so far | at least $3.58 of the $100.00 budget (3.6%) |" in text
    assert "| Forecast at period end (estimate) |" in text
    assert "| Budget reached (estimate) |" in text
    assert "Run gpt-4o-2024-08-06 on gpt-4o-mini" in text
    assert "No price is known for mystery-model" in text
    assert "LIVE data" in text


def test_names_cannot_add_markup_to_the_markdown_report():
    assert escape("a|b") == "a\\|b"
    assert escape("[x](http://127.0.0.1)") == "\\[x\\](http://127.0.0.1)"
    assert escape("proj_abc") == "proj_abc"
    assert escape("line\nbreak") == "line?break"


# Files


def test_the_default_name_is_timestamped_in_the_display_zone(settings, here):
    code, out, _ = run_cli([], settings)
    assert code == 0
    assert [p.name for p in here.iterdir()] == [
        "monitor-tui-2026-12-04-153020-by-day.csv"
    ]
    assert "this billing period" in out
    tokyo = default_file_name(NOW, settings_for(here, "Asia/Tokyo").zone, "md", "day")
    assert tokyo == "monitor-tui-2026-12-05-003020-summary.md"
    assert default_file_name(NOW, UTC_ZONE, "json", "api_key").endswith(
        "-by-api-key.json"
    )


def test_a_directory_as_destination_gets_the_default_name_inside(settings, here):
    (here / "reports").mkdir()
    code, _, _ = run_cli(["--out", "reports"], settings)
    assert code == 0
    assert (here / "reports" / "monitor-tui-2026-12-04-153020-by-day.csv").is_file()


def test_an_existing_file_is_refused_and_left_as_it_was(settings, here):
    (here / "x.csv").write_text("the user's own numbers")
    code, out, err = run_cli(["--out", "x.csv"], settings)
    assert code == 2
    assert out == ""
    assert err == (
        f"monitor-tui export: {here / 'x.csv'} already exists; nothing was "
        "written; add --force to replace it\n"
    )
    assert (here / "x.csv").read_text() == "the user's own numbers"
    assert [p.name for p in here.iterdir()] == ["x.csv"]


def test_force_replaces_an_existing_file(settings, here):
    (here / "x.csv").write_text("old")
    code, _, err = run_cli(["--out", "x.csv", "--force"], settings)
    assert code == 0, err
    assert (here / "x.csv").read_text().startswith("date,start,end,")
    assert [p.name for p in here.iterdir()] == ["x.csv"]


def test_a_file_that_appears_while_exporting_is_not_replaced(settings, here):
    # Another program creates the file between the check and the rename.
    real_open = files._open_new

    def racing(path: Path) -> int:
        (here / "x.csv").write_text("theirs")
        return real_open(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "_open_new", racing)
        code, _, err = run_cli(["--out", "x.csv"], settings)
    assert code == 2 and "already exists" in err
    assert (here / "x.csv").read_text() == "theirs"
    assert [p.name for p in here.iterdir()] == ["x.csv"]


@pytest.fixture
def locked_dir(tmp_path, monkeypatch) -> Path:
    """A directory no file can be created in."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        # Root ignores permission bits: refuse as the kernel refuses anyone else.
        real_open = files._open_new

        def refuse(path: Path) -> int:
            if path.parent == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path)

        monkeypatch.setattr(files, "_open_new", refuse)
    yield folder
    folder.chmod(0o755)


def test_an_unwritable_directory_is_refused_and_nothing_is_written(
    settings, locked_dir
):
    code, out, err = run_cli(["--out", str(locked_dir / "x.csv")], settings)
    assert code == 2 and out == ""
    assert f"cannot write to the directory {locked_dir}" in err
    assert "ermission denied" in err
    assert list(locked_dir.iterdir()) == []


def test_a_missing_directory_is_refused(settings, here):
    code, _, err = run_cli(["--out", "nowhere/x.csv"], settings)
    assert code == 2
    assert f"the directory {here / 'nowhere'} does not exist" in err
    assert list(here.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--from", "2026-12-03", "--to", "2026-12-01"],
            "--from 2026-12-03 is after --to 2026-12-01",
        ),
        (
            ["--from", "2026-02-30"],
            "--from '2026-02-30' is not a date; give YYYY-MM-DD",
        ),
        (["--from", "yesterday"], "--from 'yesterday' is not a date"),
        (["--from", "2026-12-01", "--to", "12/03"], "--to '12/03' is not a date"),
        (
            ["--from", "2026-12-05"],
            "--from 2026-12-05 is after today (2026-12-04); there is no usage yet",
        ),
    ],
)
def test_invalid_dates_are_refused_with_a_message_and_nothing_written(
    settings, here, argv, message
):
    code, out, err = run_cli(argv, settings)
    assert code == 2 and out == ""
    assert err.startswith("monitor-tui export: ") and message in err
    assert list(here.iterdir()) == []


def test_unknown_format_or_grouping_exits_2(settings, here, capsys):
    for argv in (["--format", "xlsx"], ["--group-by", "user"]):
        with pytest.raises(SystemExit) as exit_:
            run_cli(argv, settings)
        assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert list(here.iterdir()) == []


def test_dash_writes_to_standard_output_and_no_file(settings, here):
    code, out, err = run_cli(["--format", "json", "--out", "-"], settings)
    assert code == 0, err
    assert json.loads(out)["totals"]["spend_usd"] == "3.583354"
    assert err == ""
    assert list(here.iterdir()) == []
    assert recent_exports(settings.data_dir) == []


def test_an_empty_range_is_written_and_the_user_told(tmp_path, here):
    settings = settings_for(tmp_path / "empty")
    code, _, err = run_cli(["--group-by", "model", "--out", "x.csv"], settings)
    assert code == 0
    assert (here / "x.csv").read_bytes().count(b"\r\n") == 1  # the header alone
    assert "run `monitor-tui sync` first" in err


def test_the_core_and_the_command_line_write_the_same_file(settings, here):
    run_cli(["--group-by", "model", "--out", "cli.csv"], settings)
    request = ExportRequest(group_by="model", destination="core.csv")
    result = export(settings, request, NOW)
    assert result.path == here / "core.csv"
    assert (here / "core.csv").read_bytes() == (here / "cli.csv").read_bytes()
    assert result.bytes == (here / "core.csv").stat().st_size


# Recent exports


def test_each_file_written_is_kept_in_the_recent_exports(settings, here):
    run_cli(["--group-by", "model", "--out", "a.csv"], settings)
    run_cli(["--format", "md", "--out", "b.md"], settings)
    records = recent_exports(settings.data_dir)
    assert [(r.path, r.format, r.group_by) for r in records] == [
        (str(here / "b.md"), "md", "day"),
        (str(here / "a.csv"), "csv", "model"),
    ]
    assert records[0].rows == 0  # the Markdown report has no rows
    assert records[1].rows == 5 and records[1].range_label == "this billing period"
    assert records[1].at == NOW_EPOCH and records[1].source == "openai"
    assert records[1].bytes == (here / "a.csv").stat().st_size


def test_the_recent_exports_keep_the_newest(tmp_path):
    for number in range(KEEP + 3):
        record = ExportRecord(
            number, f"/{number}.csv", "csv", "day", "", 0, 1, 0, 0, "demo"
        )
        add_export(tmp_path, record)
    kept = recent_exports(tmp_path)
    assert [r.at for r in kept] == list(range(KEEP + 2, 2, -1))


def test_a_damaged_recent_exports_file_is_an_empty_list(tmp_path):
    (tmp_path / "recent-exports.json").write_text("{not json")
    assert recent_exports(tmp_path) == []


# Files that are not plain files


def run_forced(settings: Settings, out: str) -> tuple[int, str, str]:
    return run_cli(["--out", out, "--force"], settings)


def make_socket(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path.name)  # relative to the current directory: paths are short
    return server


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (os.mkfifo, "named pipe"),
        (make_socket, "socket"),
    ],
)
def test_force_never_replaces_a_pipe_or_a_socket(settings, here, make, kind):
    target = here / "x.csv"
    made = make(target)
    try:
        for argv in (["--out", "x.csv"], ["--out", "x.csv", "--force"]):
            code, out, err = run_cli(argv, settings)
            assert code == 2 and out == ""
            assert f"{target} is a {kind}, not a regular file" in err
            assert "nothing was written" in err
            assert "--out -" in err  # how to write to standard output instead
        assert not target.is_file() and not target.is_symlink()
        assert [p.name for p in here.iterdir()] == ["x.csv"]
    finally:
        if isinstance(made, socket.socket):
            made.close()


def test_force_never_replaces_a_device(settings, here):
    # A device node of our own, the kind /dev/null is; /dev itself is left alone.
    try:
        os.mknod(here / "null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    code, _, err = run_forced(settings, "null")
    assert code == 2
    assert f"{here / 'null'} is a device, not a regular file" in err
    assert stat.S_ISCHR((here / "null").lstat().st_mode)


def test_a_directory_where_the_file_would_go_is_never_replaced(settings, here):
    # A directory given as --out gets the default name inside it; here that
    # name is a directory too.
    (here / "reports" / DEFAULT_NAME).mkdir(parents=True)
    (here / "reports" / DEFAULT_NAME / "inside").write_text("kept")
    code, _, err = run_forced(settings, "reports")
    assert code == 2
    assert f"{here / 'reports' / DEFAULT_NAME} is a directory" in err
    assert (here / "reports" / DEFAULT_NAME / "inside").read_text() == "kept"


def test_a_link_to_a_pipe_is_refused_as_the_pipe(settings, here):
    # As /dev/stdout is a link to a pipe when the output is piped.
    os.mkfifo(here / "pipe")
    (here / "stdout").symlink_to(here / "pipe")
    code, _, err = run_forced(settings, "stdout")
    assert code == 2
    assert "is a named pipe, not a regular file" in err and "--out -" in err
    assert (here / "stdout").is_symlink()
    assert stat.S_ISFIFO((here / "pipe").lstat().st_mode)


def test_system_directories_are_refused_and_standard_output_suggested(
    settings, tmp_path, here, monkeypatch
):
    fake_dev = tmp_path / "dev"
    fake_dev.mkdir()
    (fake_dev / "stdout").write_text("")
    monkeypatch.setattr(files, "SYSTEM_DIRS", (fake_dev,))
    code, out, err = run_forced(settings, str(fake_dev / "stdout"))
    assert code == 2 and out == ""
    assert f"{fake_dev / 'stdout'} is a system file, not a file to export to" in err
    assert "--out -" in err
    assert (fake_dev / "stdout").read_text() == ""


def test_force_writes_through_a_link_to_a_regular_file_and_keeps_the_link(
    settings, tmp_path, here
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "real.csv").write_text("old")
    (elsewhere / "real.csv").chmod(0o640)
    (here / "x.csv").symlink_to(elsewhere / "real.csv")

    code, _, err = run_cli(["--out", "x.csv"], settings)
    assert code == 2 and "already exists" in err
    assert (elsewhere / "real.csv").read_text() == "old"

    code, out, err = run_forced(settings, "x.csv")
    assert code == 0, err
    assert (here / "x.csv").is_symlink()
    assert (here / "x.csv").resolve() == elsewhere / "real.csv"
    assert (elsewhere / "real.csv").read_text().startswith("date,start,end,")
    assert stat.S_IMODE((elsewhere / "real.csv").stat().st_mode) == 0o640
    # Written beside the target, so nothing is left in either directory.
    assert [p.name for p in elsewhere.iterdir()] == ["real.csv"]
    assert [p.name for p in here.iterdir()] == ["x.csv"]
    assert str(elsewhere / "real.csv") in out


def test_a_link_to_nothing_is_refused(settings, here):
    (here / "x.csv").symlink_to(here / "gone.csv")
    code, _, err = run_forced(settings, "x.csv")
    assert code == 2
    assert f"{here / 'x.csv'} is a link to {here / 'gone.csv'}, which does not" in err
    assert not (here / "gone.csv").exists()


def test_force_keeps_the_replaced_files_permissions(settings, here):
    (here / "x.csv").write_text("old")
    (here / "x.csv").chmod(0o600)
    code, _, err = run_forced(settings, "x.csv")
    assert code == 0, err
    assert stat.S_IMODE((here / "x.csv").stat().st_mode) == 0o600
    assert (here / "x.csv").read_text().startswith("date,")


def test_a_new_directory_with_a_slash_is_refused_not_written_as_a_file(settings, here):
    code, out, err = run_cli(["--out", "newdir/"], settings)
    assert code == 2 and out == ""
    assert f"the directory {here / 'newdir'} does not exist" in err
    assert list(here.iterdir()) == []

    (here / "plain").write_text("mine")
    code, _, err = run_cli(["--out", "plain/"], settings)
    assert code == 2
    assert f"{here / 'plain'} is not a directory" in err
    assert (here / "plain").read_text() == "mine"


# What the screen shows: the display zone and a project


def export_json(settings: Settings, **fields) -> dict:
    request = ExportRequest(format="json", destination="-", **fields)
    return json.loads(export(settings, request, NOW).text)


def test_days_follow_the_display_zone_but_the_period_stays_the_configured_one(
    tmp_path,
):
    settings = settings_for(tmp_path / "data", "Asia/Tokyo")
    put(Store(settings.data_dir), ROWS)
    data = export_json(settings, zone=UTC_ZONE)
    # The billing period is the calendar month in Tokyo, shown in UTC: a UTC
    # view never moves it.
    assert data["range_start"] == "2026-11-30T15:00:00+00:00"
    assert data["timezone"] == "UTC"
    # Days are UTC days; 30 November (UTC) was never read, so it is left out.
    assert data["read_from"] == "2026-12-01T00:00:00+00:00"
    assert data["data_state"] == "partial"
    assert [row["start"] for row in data["rows"]][:2] == [
        "2026-12-01T00:00:00+00:00",
        "2026-12-02T00:00:00+00:00",
    ]

    tokyo = export_json(settings)
    assert tokyo["range_start"] == "2026-12-01T00:00:00+09:00"
    assert tokyo["timezone"] == "Asia/Tokyo"
    assert [row["start"] for row in tokyo["rows"]][:2] == [
        "2026-12-01T00:00:00+09:00",
        "2026-12-02T00:00:00+09:00",
    ]


def test_custom_dates_are_local_days_of_the_display_zone(settings):
    tokyo = ZoneInfo("Asia/Tokyo")
    data = export_json(
        settings,
        kind="custom",
        dates=(date(2026, 12, 3), date(2026, 12, 3)),
        zone=tokyo,
    )
    assert data["range_start"] == "2026-12-03T00:00:00+09:00"
    assert data["range_end"] == "2026-12-04T00:00:00+09:00"
    # 06:00 UTC on 3 December is 15:00 in Tokyo.
    assert data["totals"]["requests"] == 2


def test_a_project_limits_the_rows_the_totals_and_the_bill(settings):
    store = Store(settings.data_dir)
    costs = [
        {
            "origin": "openai",
            "start": at(2),
            "project_id": "proj_a",
            "amount": "1.5",
            "currency": "usd",
            "line_item": None,
            "api_key_id": None,
        },
        {
            "origin": "openai",
            "start": at(2),
            "project_id": NUMBER_LIKE,
            "amount": "7",
            "currency": "usd",
            "line_item": None,
            "api_key_id": None,
        },
    ]
    store.replace_costs("openai", (at(1), at(5)), costs)
    store.set_watermark("openai", "costs", "1d", at(1), NOW_EPOCH)

    data = export_json(settings, group_by="model", project="proj_a")
    assert data["project"] == "proj_a"
    assert [row["model"] for row in data["rows"]] == [
        "text-embedding-3-small",
        "mystery-model",
    ]
    assert data["totals"]["spend_usd"] == "0.000020"
    assert data["totals"]["requests"] == 2
    assert data["totals"]["billed_usd"] == "1.500000"

    everything = export_json(settings, group_by="model")
    assert everything["project"] is None
    assert everything["totals"]["billed_usd"] == "8.500000"


def test_an_empty_project_means_usage_without_a_project(tmp_path):
    settings = settings_for(tmp_path / "data")
    put(
        Store(settings.data_dir),
        [
            usage_row(at(2, 1), requests=2, cost_usd="1", project_id="proj_a"),
            usage_row(at(2, 2), requests=3, cost_usd="2"),
        ],
    )
    assert export_json(settings, project="")["totals"]["requests"] == 3
    assert export_json(settings, project="proj_a")["totals"]["requests"] == 2


def test_the_command_line_takes_a_project(settings, here):
    code, out, err = run_cli(
        ["--project", NUMBER_LIKE, "--format", "json", "--out", "-"], settings
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["project"] == NUMBER_LIKE
    assert data["totals"]["spend_usd"] == "1.583333"  # 1.25 + 0.333333


def test_the_markdown_report_says_which_project_it_is_limited_to(settings, here):
    code, _, err = run_cli(
        ["--format", "md", "--project", "proj_a", "--out", "r.md"], settings
    )
    assert code == 0, err
    text = (here / "r.md").read_text()
    assert "Only project proj_a." in text
    assert "The billing period's figures are the whole organization's." in text


# History that has not been read


def test_a_range_before_the_history_read_is_partial_and_says_where_it_begins(
    settings,
):
    data = export_json(
        settings, kind="custom", dates=(date(2026, 11, 28), date(2026, 12, 2))
    )
    assert data["data_state"] == "partial"
    assert data["read_from"] == "2026-12-01T00:00:00+00:00"
    # The days before it were not read: they are not listed as days without usage.
    assert [row["date"] for row in data["rows"]] == ["2026-12-01", "2026-12-02"]

    inside = export_json(
        settings, kind="custom", dates=(date(2026, 12, 2), date(2026, 12, 3))
    )
    assert inside["data_state"] == "complete"


def test_the_markdown_report_says_the_history_before_it_was_not_read(settings, here):
    code, _, err = run_cli(
        ["--format", "md", "--from", "2026-11-28", "--out", "r.md"], settings
    )
    assert code == 0, err
    text = (here / "r.md").read_text()
    assert "partial (usage before Tue 01 Dec 2026 00:00 has not been read)" in text
    assert "Usage before Tue 01 Dec 2026 00:00 UTC has not been read" in text
    assert "has not been read" in err


def test_the_bill_is_null_unless_costs_were_read_for_the_whole_range(settings):
    store = Store(settings.data_dir)
    cost = {
        "origin": "openai",
        "start": at(3),
        "project_id": None,
        "amount": "2",
        "currency": "usd",
        "line_item": None,
        "api_key_id": None,
    }
    store.replace_costs("openai", (at(1), at(5)), [cost])
    store.set_watermark("openai", "costs", "1d", at(2), NOW_EPOCH)

    assert export_json(settings)["totals"]["billed_usd"] is None  # from 1 December
    later = export_json(
        settings, kind="custom", dates=(date(2026, 12, 2), date(2026, 12, 4))
    )
    assert later["totals"]["billed_usd"] == "2.000000"


def test_a_store_never_synced_exports_nothing_and_says_so(tmp_path, here):
    settings = settings_for(tmp_path / "never")
    code, out, err = run_cli(["--format", "json", "--out", "-"], settings)
    assert code == 0
    data = json.loads(out)
    assert data["data_state"] == "empty"
    assert data["read_from"] is None
    assert data["totals"]["billed_usd"] is None
    assert data["rows"] == []
    assert "no data has been read yet" in err


# Names, dates and flags


def test_the_default_name_carries_the_seconds_and_demo_exports_say_demo(tmp_path):
    assert default_file_name(NOW, UTC_ZONE, "csv", "day") == (
        "monitor-tui-2026-12-04-153020-by-day.csv"
    )
    assert default_file_name(NOW, UTC_ZONE, "md", "day", source="demo") == (
        "monitor-tui-demo-2026-12-04-153020-summary.md"
    )


@pytest.mark.parametrize("text", ["20261201", "2026-W49-1", "2026-12-1", "2026-336"])
def test_dates_must_be_written_yyyy_mm_dd(settings, here, text):
    code, _, err = run_cli(["--from", text], settings)
    assert code == 2
    assert f"--from {text!r} is not a date; give YYYY-MM-DD" in err


def test_to_alone_runs_from_the_first_day_of_the_billing_period(settings, here):
    code, out, err = run_cli(
        ["--to", "2026-12-02", "--format", "json", "--out", "-"], settings
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["range_start"] == "2026-12-01T00:00:00+00:00"
    assert data["range_end"] == "2026-12-03T00:00:00+00:00"

    code, _, err = run_cli(["--to", "2026-11-20"], settings)
    assert code == 2
    assert (
        "--to 2026-11-20 is before the billing period's first day (2026-12-01)" in err
    )


def test_the_markdown_report_says_it_ignores_an_explicit_grouping(settings, here):
    code, _, err = run_cli(["--format", "md", "--group-by", "model"], settings)
    assert code == 0
    assert "the Markdown report ignores --group-by" in err
    code, _, err = run_cli(["--format", "md", "--out", "again.md"], settings)
    assert "--group-by" not in err


# Markdown wording


def test_unpriced_models_are_named_in_the_singular_or_the_plural(settings, here):
    run_cli(["--format", "md", "--out", "one.md"], settings)
    text = (here / "one.md").read_text()
    assert "No price is known for mystery-model: its spend is not counted" in text

    other = usage_row(
        at(3, 7), model="other-model", cost_usd=None, price_state="unpriced"
    )
    window = (at(3, 7), at(3, 8))
    Store(settings.data_dir).replace_usage(
        "openai", "completions", "1h", window, [other], now=NOW_EPOCH
    )
    run_cli(["--format", "md", "--out", "two.md"], settings)
    text = (here / "two.md").read_text()
    assert (
        "No price is known for mystery-model and other-model: their spend is not "
        "counted"
    ) in text


# Hours


def test_hours_without_usage_are_listed_only_where_hours_were_read(settings, here):
    run_cli(["--group-by", "hour", "--out", "x.csv"], settings)
    rows = read_csv(here / "x.csv")
    # 1 December from its daily row, then every hour read: 2 and 3 December
    # whole, and 4 December up to the hour under way.
    assert rows[0]["start"] == "2026-12-01T00:00:00+00:00"
    assert rows[0]["end"] == "2026-12-02T00:00:00+00:00"
    hours = [row["start"] for row in rows[1:]]
    assert len(hours) == 24 + 24 + 16
    assert hours[0] == "2026-12-02T00:00:00+00:00"
    assert hours[-1] == "2026-12-04T15:00:00+00:00"
    quiet = next(row for row in rows if row["start"] == "2026-12-02T11:00:00+00:00")
    assert (quiet["requests"], quiet["cost_usd"]) == ("0", "0.000000")
