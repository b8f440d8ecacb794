"""The CSV export: UTF-8, one header row, text quoted and never run as a formula,
numbers and money bare so a spreadsheet sums them."""

from __future__ import annotations

from decimal import Decimal

from monitor_tui.export.table import ExportTable
from monitor_tui.money import json_money

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is run as a formula by spreadsheets."""


def neutralize(text: str) -> str:
    """``text`` with an apostrophe in front when a spreadsheet would run it as a
    formula (the OWASP advice): ``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: str | int | bool | Decimal | None) -> str:
    """One CSV cell.

    Text is always quoted, so an id such as ``00123`` or ``2026-12-04`` stays the
    same text for any CSV reader (and for a spreadsheet told to read quoted
    fields as text); counts and money are bare numbers, money to 6 places; an
    unknown value is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return json_money(value) or ""
    return '"' + neutralize(value).replace('"', '""') + '"'


def to_csv(table: ExportTable) -> str:
    """The export as CSV text, lines ending in CRLF as RFC 4180 has it."""
    lines = [",".join(table.columns)]
    lines.extend(",".join(cell(v) for v in table.values(row)) for row in table.rows)
    return "\r\n".join(lines) + "\r\n"
