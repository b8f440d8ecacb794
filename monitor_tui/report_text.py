"""The report as a short table for a terminal, and a sync's outcome as text."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

from monitor_tui.money import screen_money, screen_percent
from monitor_tui.report import ModelLine, Report, time_left
from monitor_tui.sync import SyncResult

SOURCE_LABELS = {"openai": "LIVE", "demo": "DEMO", "tracked": "TRACKED"}


def printable(text: str) -> str:
    """``text`` with control and direction-changing characters replaced, so a
    name from the API cannot rewrite the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _when(report: Report, moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return report.period.local(moment).strftime("%Y-%m-%d %H:%M %Z")


def _day(report: Report, moment: datetime) -> str:
    return report.period.local(moment).strftime("%Y-%m-%d")


def _left(report: Report) -> str:
    left = time_left(report.period, report.now)
    days, rest = divmod(int(left.total_seconds()), 86400)
    return f"{days}d {rest // 3600}h"


def short_name(text: str, width: int) -> str:
    """Shorten a name in the middle, keeping both ends: fine-tuned models of one
    base differ only at the end."""
    text = printable(text)
    if len(text) <= width:
        return text
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[-tail:]


def compact_count(count: int) -> str:
    """A count in at most 7 characters: exact below a million, then 253.33M."""
    if count < 1_000_000:
        return f"{count:,}"
    for limit, suffix in ((10**9, "M"), (10**12, "B"), (10**15, "T")):
        if count < limit:
            return f"{count / (limit // 1000):.2f}{suffix}"
    return f"{count:.2e}"


# Columns of the model table; with single spaces between them a row is 80 wide.
# Counts are compact here (the JSON report has them exact).
MODEL_COLUMNS = (
    ("Model", 28),
    ("Input", 8),
    ("Cached", 8),
    ("Output", 8),
    ("Requests", 8),
    ("Cost", 15),
)


def format_report(report: Report) -> str:
    """Render the report as the plain table ``monitor-tui report`` prints.

    Every line fits an 80-column terminal, unless one model costs more than
    $1 trillion.
    """
    label = SOURCE_LABELS.get(report.source, report.source.upper())
    lines = [
        f"{label}  period {_day(report, report.period.start)} → "
        f"{_day(report, report.period.end)} ({report.period.zone.key}), "
        f"{_left(report)} left",
    ]
    billed = screen_money(report.billed_usd)
    lines.append(
        f"Spend      {screen_money(report.spend_usd)} estimated · {billed} billed"
    )
    if report.spend_is_lower_bound:
        named = [printable(m) for m in report.unpriced_models]
        if any(v.cost_usd is None for v in report.usage_volume):
            named.append("other usage below")
        lines.extend(
            textwrap.wrap(
                f"at least: no price for {', '.join(named)}",
                width=80,
                initial_indent="           ",
                subsequent_indent="             ",
                break_on_hyphens=False,
            )
        )
    if report.billed_other_currencies:
        others = ", ".join(c.upper() for c in report.billed_other_currencies)
        lines.append(f"           billed leaves out amounts in {printable(others)}")
    lines.extend(_gap_lines(report))
    if report.skipped_results:
        lines.append(
            f"           the last sync skipped {report.skipped_results:,} results it "
            "could not read"
        )
    if report.budget_usd is not None and report.budget_usd > 0:
        share = report.spend_usd / report.budget_usd * 100
        used = screen_percent(share)
        lines.append(f"Budget     {screen_money(report.budget_usd)}, {used} used")
    else:
        lines.append("Budget     no budget set")
    lines.append(
        f"Forecast   {screen_money(report.forecast_usd)} at period end, at the "
        "average so far"
    )
    lines.append(
        f"           {screen_money(report.forecast_recent_usd)} at the last 24 "
        "hours' rate"
    )
    if report.budget_usd is not None and report.spend_usd >= report.budget_usd:
        lines.append("           the budget is spent")
    elif report.budget_crossing_at is not None:
        lines.append(
            "           at this pace the budget is reached "
            f"{_when(report, report.budget_crossing_at)}"
        )
    if report.burn_rate_tokens_per_min is None:
        lines.append("Burn rate  —")
    else:
        lines.append(
            f"Burn rate  {report.burn_rate_tokens_per_min:,.0f} tokens/min · "
            f"{screen_money(report.burn_rate_usd_per_hour)}/hour"
        )
    lines.append(
        f"Tokens     {report.input_tokens:,} in ({report.cached_input_tokens:,} "
        f"cached) · {report.output_tokens:,} out"
    )
    lines.append(f"Requests   {report.requests:,}")
    if report.tracked_calls:
        lines.append(
            f"Tracked    {screen_money(report.tracked_spend_usd)} in "
            f"{report.tracked_calls:,} calls recorded with track() on this machine"
        )
    lines.append(
        f"Synced     {_when(report, report.last_sync_at)} · data {report.data_state}"
    )
    if report.models:
        lines.append("")
        lines.append(
            " ".join(
                f"{title:<{width}}" if title == "Model" else f"{title:>{width}}"
                for title, width in MODEL_COLUMNS
            )
        )
        for line in report.models:
            cells = (
                short_name(line.model, 28),
                compact_count(line.input_tokens),
                compact_count(line.cached_input_tokens),
                compact_count(line.output_tokens),
                compact_count(line.requests),
                _model_cost(line),
            )
            lines.append(
                " ".join(
                    f"{cell:<{width}}" if title == "Model" else f"{cell:>{width}}"
                    for cell, (title, width) in zip(cells, MODEL_COLUMNS, strict=True)
                )
            )
        if any(line.price_state == "override" for line in report.models):
            lines.append("* priced at your [prices] rates from the config file")
    lines.extend(_volume_table(report))
    lines.extend(_project_table(report))
    return "\n".join(lines)


def _model_cost(line: ModelLine) -> str:
    if not line.priced:
        return "no price"
    if line.price_state == "free":
        return "free"
    mark = " *" if line.price_state == "override" else ""
    return screen_money(line.cost_usd) + mark


def _gap_lines(report: Report) -> list[str]:
    """How far the bill is from the estimate, and why, wrapped to 80 columns."""
    gap = report.billed_gap
    if gap is None or report.billed_usd is None:
        return []
    lines = []
    if gap.difference_usd:
        side = "above" if gap.difference_usd > 0 else "below"
        lines.append(
            f"           the bill is {screen_money(abs(gap.difference_usd))} "
            f"{side} the estimate"
        )
    for reason in gap.reasons:
        lines.extend(
            textwrap.wrap(
                printable(reason),
                width=80,
                initial_indent="           · ",
                subsequent_indent="             ",
            )
        )
    return lines


# Columns of the other usage table; like the model table, 80 wide.
VOLUME_COLUMNS = (("Other usage", 36), ("Quantity", 18), ("Requests", 8), ("Cost", 15))


def _volume_table(report: Report) -> list[str]:
    """The usage not counted in tokens (images, speech...), if there is any."""
    if not report.usage_volume:
        return []

    def line(cells: tuple[str, ...]) -> str:
        return " ".join(
            f"{cell:<{width}}" if index == 0 else f"{cell:>{width}}"
            for index, (cell, (_, width)) in enumerate(
                zip(cells, VOLUME_COLUMNS, strict=True)
            )
        )

    lines = ["", line(tuple(title for title, _ in VOLUME_COLUMNS))]
    for volume in report.usage_volume:
        what = volume.endpoint + (f" {volume.model}" if volume.model else "")
        lines.append(
            line(
                (
                    short_name(what, 36),
                    f"{compact_count(volume.quantity)} {volume.unit}",
                    "" if volume.requests is None else compact_count(volume.requests),
                    "no price"
                    if volume.cost_usd is None
                    else screen_money(volume.cost_usd),
                )
            )
        )
    return lines


PROJECTS_SHOWN = 10
"""Projects listed in the text report; the JSON report lists them all."""


def _project_table(report: Report) -> list[str]:
    """Spend by project, named where the name is known, when any usage names a
    project."""
    projects = report.project_lines()
    if not any(project_id for project_id, _, _ in projects):
        return []
    width = MODEL_COLUMNS[0][1]
    lines = ["", f"{'Project':<{width}} {'Cost':>15}"]
    for _, label, spend in projects[:PROJECTS_SHOWN]:
        lines.append(f"{short_name(label, width):<{width}} {screen_money(spend):>15}")
    if len(projects) > PROJECTS_SHOWN:
        lines.append(f"… and {len(projects) - PROJECTS_SHOWN} more (see --json)")
    return lines


def format_sync(result: SyncResult) -> str:
    """Render what a sync read: one line per window and a total."""
    lines = []
    for item in result.windows:
        window = item.window
        # 79 columns with the longest endpoint name; the window's year is left
        # out to make room for it.
        lines.append(
            f"  {window.endpoint:<25} {window.width} "
            f"{datetime.fromtimestamp(window.start, UTC):%m-%d %H:%M}Z "
            f"{item.pages:>3} pages {item.buckets:>5} buckets {item.rows:>6} rows"
        )
    label = SOURCE_LABELS.get(result.origin, result.origin)
    status = "synced" if result.ok else "sync FAILED"
    lines.append(
        f"{status} {label}: {result.pages} pages, {result.buckets} buckets, "
        f"{result.rows} rows in {result.seconds:.2f} s"
    )
    if result.skipped:
        reasons = "; ".join(f"{n} × {why}" for why, n in result.skipped.items())
        lines.append(
            f"skipped {sum(result.skipped.values())} results the API sent that could "
            f"not be read ({reasons}); totals leave them out"
        )
    names = result.names
    if names is not None and names.read:
        lines.append(f"names: {names.projects} projects, {names.keys} API keys")
    elif names is not None:
        lines.append(f"names not read (ids are shown): {printable(names.error or '')}")
    if result.error:
        lines.append(f"error: {result.error}")
    return "\n".join(lines)
