"""The Markdown report: one page for stakeholders with the range's spend, the
billing period against its budget and forecast, the top models, projects and keys,
and the biggest savings, every estimate labelled as one."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from monitor_tui.analytics import Analytics, BreakdownLine, Change, Suggestion
from monitor_tui.analytics.tally import percent
from monitor_tui.export.table import ExportTable
from monitor_tui.money import screen_money, screen_percent
from monitor_tui.report import Report, time_left
from monitor_tui.report_text import SOURCE_LABELS, compact_count, printable

TOP_LINES = 5
"""Models, projects, keys and savings listed in each section."""

# Underscores inside a word never start emphasis, so ids such as proj_abc stay
# readable as plain text.
_MARKUP = re.compile(r"([\\`*\[\]<>|#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def escape(text: str) -> str:
    """``text`` shown as itself in Markdown: a name cannot add a link, a table
    cell or a heading."""
    return _MARKUP.sub(r"\\\1", printable(text))


def _when(moment: datetime, table: ExportTable, *, zone: bool = False) -> str:
    local = moment.astimezone(table.zone)
    return f"{local:%a %d %b %Y %H:%M}" + (f" {table.zone.key}" if zone else "")


def _percent(part: Decimal | int, whole: Decimal | int) -> str:
    share = percent(part, whole)
    return "—" if share is None else screen_percent(share)


def _change(change: Change) -> str:
    """The figure before, and how much the range's differs from it."""
    before = screen_money(change.previous)
    if change.percent is None:
        return before
    sign = "+" if change.percent > 0 else ""
    return f"{before} (now {sign}{screen_percent(change.percent)})"


def _state(table: ExportTable) -> str:
    unread = table.unread_before
    if table.data_state == "partial" and unread is not None:
        return f"partial (usage before {_when(unread, table)} has not been read)"
    if table.nothing_read:
        return "no data has been read yet"
    return {
        "partial": "partial (the latest hours may still change)",
        "empty": "no usage in this range",
    }.get(table.data_state, table.data_state)


def _project(project: str | None) -> list[str]:
    if project is None:
        return []
    if not project:
        return ["", "Only usage without a project."]
    return ["", f"Only project {escape(project)}."]


def _heading(table: ExportTable) -> list[str]:
    span = table.range
    source = SOURCE_LABELS.get(table.source, table.source.upper())
    synced = "never" if table.last_sync_at is None else _when(table.last_sync_at, table)
    return [
        f"# OpenAI spend: {escape(span.label)}",
        "",
        f"**{_when(span.start, table)} → {_when(span.end, table)} "
        f"({table.zone.key})** · {source} data · {_state(table)} · "
        f"last sync {synced}",
        *_project(table.project),
    ]


def _summary(table: ExportTable, analytics: Analytics) -> list[str]:
    totals = analytics.totals
    spend = screen_money(totals.spend_usd)
    if totals.spend_is_lower_bound:
        spend = f"at least {spend}"
    previous = analytics.range.previous
    lines = [
        "",
        "## Spend",
        "",
        "| | |",
        "|---|---|",
        f"| Estimated spend | {spend} |",
    ]
    if table.billed_usd is not None:
        lines.append(
            f"| Billed (Costs API, UTC days) | {screen_money(table.billed_usd)} |"
        )
    lines += [
        f"| Before: {_when(previous.start, table)} → {_when(previous.end, table)} "
        f"| {_change(analytics.changes[0])} |",
        f"| Requests | {totals.requests:,} |",
        f"| Input tokens | {totals.input_tokens:,} "
        f"({_percent(totals.cached_input_tokens, totals.input_tokens)} cached) |",
        f"| Output tokens | {totals.output_tokens:,} |",
    ]
    return lines


def _budget(report: Report, table: ExportTable) -> list[str]:
    period = report.period
    lines = [
        "",
        f"## Billing period {_when(period.start, table)} → "
        f"{_when(period.end, table)} ({table.zone.key})",
        "",
        "| | |",
        "|---|---|",
    ]
    spent = screen_money(report.spend_usd)
    if report.spend_is_lower_bound:
        spent = f"at least {spent}"
    if report.budget_usd is None:
        lines.append(f"| Spent so far | {spent}; no budget is set |")
    else:
        share = _percent(report.spend_usd, report.budget_usd)
        lines.append(
            f"| Spent so far | {spent} of the {screen_money(report.budget_usd)} "
            f"budget ({share}) |"
        )
    left = time_left(period, report.now)
    lines.append(
        f"| Forecast at period end (estimate) | {screen_money(report.forecast_usd)} "
        f"at the pace so far · {screen_money(report.forecast_recent_usd)} at the "
        f"last 24 hours' pace · {left.days}d {left.seconds // 3600}h left |"
    )
    if report.budget_usd is not None:
        crossing = report.budget_crossing_at
        if report.spend_usd >= report.budget_usd:
            reached = "already spent"
        elif crossing is None:
            reached = "not within the period, at the pace so far"
        else:
            reached = f"{_when(crossing, table, zone=True)}, at the pace so far"
        lines.append(f"| Budget reached (estimate) | {reached} |")
    if table.project is not None:
        lines += ["", "The billing period's figures are the whole organization's."]
    return lines


def _top(title: str, what: str, lines: tuple[BreakdownLine, ...]) -> list[str]:
    out = ["", f"## Top {title}", ""]
    if not lines:
        return [*out, "No usage."]
    out += [
        f"| {what} | Spend | Share | Requests | Tokens |",
        "|---|--:|--:|--:|--:|",
    ]
    for line in lines[:TOP_LINES]:
        cost = screen_money(line.cost_usd)
        if line.unpriced:
            cost = f"at least {cost}" if line.cost_usd else "no price"
        share = "—" if line.share is None else screen_percent(line.share)
        tokens = compact_count(line.input_tokens + line.output_tokens)
        out.append(
            f"| {escape(line.label)} | {cost} | {share} | {line.requests:,} "
            f"| {tokens} |"
        )
    if len(lines) > TOP_LINES:
        out += ["", f"And {len(lines) - TOP_LINES} more."]
    return out


def _suggestion(suggestion: Suggestion) -> str:
    model = escape(suggestion.model)
    if suggestion.kind == "model":
        return f"Run {model} on {escape(suggestion.alternative or '')}"
    target = screen_percent(suggestion.target_rate or Decimal(0))
    now = screen_percent(suggestion.hit_rate or Decimal(0))
    return f"Cache {target} of {model}'s input, not {now}"


def _savings(analytics: Analytics) -> list[str]:
    out = ["", "## Biggest savings (estimates)", ""]
    suggestions = analytics.savings.suggestions[:TOP_LINES]
    if not suggestions:
        return [*out, "No cheaper model of the same family, and nothing to cache."]
    out += ["| Change | Spent | Would cost | Saving |", "|---|--:|--:|--:|"]
    out += [
        f"| {_suggestion(s)} | {screen_money(s.cost_usd)} "
        f"| ≈ {screen_money(s.estimate_usd)} | ≈ {screen_money(s.saved_usd)} |"
        for s in suggestions
    ]
    out += [
        "",
        "What the same requests would have cost at the list prices of their days; "
        "whether a smaller model does the job well enough is for you to judge.",
    ]
    target = analytics.savings.cache_target_model
    if target is not None and any(s.kind == "cache" for s in suggestions):
        out += [
            "",
            f"Caching assumes each model could cache as much of its input as "
            f"{escape(target)}, the best-cached model in the range.",
        ]
    return out


def _notes(table: ExportTable, analytics: Analytics) -> list[str]:
    out = [
        "",
        "---",
        "",
        "- Spend is an estimate: usage priced at the list prices in force on each "
        "bucket's day. The bill (Costs API) lags by about a day.",
    ]
    totals = analytics.totals
    unpriced = [
        escape(model) for model in (*totals.unpriced_models, *totals.unpriced_usage)
    ]
    if unpriced:
        names = unpriced[0]
        if len(unpriced) > 1:
            names = f"{', '.join(unpriced[:-1])} and {unpriced[-1]}"
        whose = "its" if len(unpriced) == 1 else "their"
        out.append(
            f"- No price is known for {names}: {whose} spend is not counted, so "
            "spend is a lower bound."
        )
    out += _reading(table)
    out.append(
        f"- Generated {_when(table.generated_at, table, zone=True)} by monitor-tui."
    )
    return out


def _reading(table: ExportTable) -> list[str]:
    """What the report cannot know, because the store has not read it."""
    if table.nothing_read:
        return [
            "- No usage has been read into the store yet, so every figure is "
            "zero; run `monitor-tui sync` (or start the app) and export again."
        ]
    unread = table.unread_before
    if unread is None:
        return []
    return [
        f"- Usage before {_when(unread, table, zone=True)} has not been read into "
        "the store: this report counts none before then, though there may have "
        "been some. Raise `history_days` and sync to read further back."
    ]


def to_markdown(table: ExportTable, analytics: Analytics, report: Report) -> str:
    """The one-page report of ``table``'s range.

    Args:
        table: the range's metadata (source, sync, data state, billed spend).
        analytics: the range's figures, breakdowns and savings.
        report: the billing period containing now, for the budget and forecast.
    """
    lines = [
        *_heading(table),
        *_summary(table, analytics),
        *_budget(report, table),
        *_top("models", "Model", analytics.by_model),
        *_top("projects", "Project", analytics.by_project),
        *_top("API keys", "API key", analytics.by_key),
        *_savings(analytics),
        *_notes(table, analytics),
    ]
    return "\n".join(lines) + "\n"
