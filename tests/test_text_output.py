"""What a person reads: money with its sign before the dollar, and names from the
API that cannot rewrite the terminal."""

from __future__ import annotations

from decimal import Decimal

from monitor_tui.money import json_money, screen_money
from monitor_tui.report_text import printable


def test_screen_money_has_cents_and_four_places_below_a_dollar():
    assert screen_money(Decimal("1234.567")) == "$1,234.57"
    assert screen_money(Decimal("0.00421")) == "$0.0042"
    assert screen_money(None) == "—"


def test_a_negative_amount_puts_the_sign_before_the_dollar():
    assert screen_money(Decimal("-5")) == "-$5.00"
    assert screen_money(Decimal("-0.00001")) == "$0.0000"


def test_json_money_has_six_places():
    assert json_money(Decimal("12.83795")) == "12.837950"
    assert json_money(Decimal("0.0000005")) == "0.000001"


def test_control_and_direction_characters_in_names_are_replaced():
    assert printable("gpt-4o\x1b[2J\u202egnp.exe") == "gpt-4o?[2J?gnp.exe"
    assert printable("gpt-4o-mini-2024-07-18") == "gpt-4o-mini-2024-07-18"
