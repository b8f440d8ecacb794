"""The JSON export: one object, the report's names for the report's things, money
as 6-place strings, and the rows."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from monitor_tui.export.table import ExportTable
from monitor_tui.money import json_money

CURRENCY = "USD"


def _plain(value: Any) -> Any:
    return json_money(value) if isinstance(value, Decimal) else value


def export_object(table: ExportTable) -> dict[str, Any]:
    """The export as the documented JSON object."""
    totals = table.totals
    span = table.range
    return {
        "generated_at": table.local(table.generated_at),
        "range_start": table.local(span.start),
        "range_end": table.local(span.end),
        "range_label": span.label,
        "timezone": table.zone.key,
        "source": table.source,
        "last_sync_at": table.local(table.last_sync_at),
        "data_state": table.data_state,
        "currency": CURRENCY,
        "group_by": table.group_by,
        "project": table.project,
        "read_from": table.local(table.read_from),
        "read_until": table.local(table.read_until),
        "totals": {
            "spend_usd": json_money(totals.spend_usd),
            "spend_is_lower_bound": totals.spend_is_lower_bound,
            "billed_usd": json_money(table.billed_usd),
            "input_tokens": totals.input_tokens,
            "cached_input_tokens": totals.cached_input_tokens,
            "output_tokens": totals.output_tokens,
            "requests": totals.requests,
            "unpriced_models": list(totals.unpriced_models),
            "unpriced_usage": list(totals.unpriced_usage),
        },
        "rows": [
            {
                name: _plain(value)
                for name, value in zip(table.columns, table.values(row), strict=True)
            }
            for row in table.rows
        ],
    }


def to_json(table: ExportTable) -> str:
    """The export as indented JSON text."""
    return json.dumps(export_object(table), indent=2, ensure_ascii=False) + "\n"
