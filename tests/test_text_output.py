"""What a person reads: money with its sign before the dollar, and names from the
API that cannot rewrite the terminal."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor_tui.money import json_money, screen_money
from monitor_tui.period import billing_period
from monitor_tui.report import build_report
from monitor_tui.report_text import compact_count, format_report, printable, short_name
from tests.conftest import NOW, NOW_EPOCH
from tests.factories import usage_row

HOUR = NOW_EPOCH - NOW_EPOCH % 3600


def test_screen_money_has_cents_and_four_places_below_a_dollar():
    assert screen_money(Decimal("1234.567")) == "$1,234.57"
    assert screen_money(Decimal("0.00421")) == "$0.0042"
    assert screen_money(None) == "—"
    assert screen_money(Decimal(0)) == "$0.00"


def test_a_negative_amount_puts_the_sign_before_the_dollar():
    assert screen_money(Decimal("-5")) == "-$5.00"
    assert screen_money(Decimal("-0.00001")) == "$0.0000"


def test_json_money_has_six_places():
    assert json_money(Decimal("12.83795")) == "12.837950"
    assert json_money(Decimal("0.0000005")) == "0.000001"


def test_control_and_direction_characters_in_names_are_replaced():
    assert printable("gpt-4o\x1b[2J\u202egnp.exe") == "gpt-4o?[2J?gnp.exe"
    assert printable("gpt-4o-mini-2024-07-18") == "gpt-4o-mini-2024-07-18"


def test_counts_in_the_model_table_are_compact_above_a_million():
    assert compact_count(999_999) == "999,999"
    assert compact_count(253_333_440) == "253.33M"
    assert compact_count(1_234_567_890) == "1.23B"
    assert compact_count(7_000_000_000_000) == "7.00T"


def test_long_model_names_keep_both_ends():
    name = "ft:gpt-4o-mini-2024-07-18:acme:support-bot:9xY2kQ"
    short = short_name(name, 28)
    assert len(short) == 28
    assert short.startswith("ft:gpt-4o-mi") and short.endswith(
        "support-bot:9xY2kQ"[-13:]
    )


def test_a_very_large_organization_still_fits_80_columns(store):
    rows = [
        usage_row(
            HOUR,
            model="ft:gpt-4o-2024-08-06:acme:a-very-long-name:AbC123",
            input_tokens=1_234_567_890_123,
            cached_input_tokens=999_999_999,
            output_tokens=88_000_000_000,
            requests=12_345_678,
            cost_usd="123456789.99",
        ),
    ]
    store.replace_usage(
        "openai", "completions", "1h", (HOUR, HOUR + 3600), rows, now=NOW_EPOCH
    )
    store.set_watermark("openai", "completions", "1h", HOUR - 86400, NOW_EPOCH)
    period = billing_period(NOW, 1, ZoneInfo("Pacific/Chatham"))
    text = format_report(build_report(store, "openai", period, NOW, Decimal(10**7)))
    assert "$123,456,789.99" in text
    for line in text.splitlines():
        assert len(line) <= 80, line
