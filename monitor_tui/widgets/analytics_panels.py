"""The Analytics tab's figures in words: the range against the span before, the
busiest hours of the day, and the savings suggestions."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from monitor_tui.analytics import Analytics, Suggestion
from monitor_tui.analytics.text import (
    change_text,
    count_text,
    hour_span_text,
    local_moment,
    rate_text,
)
from monitor_tui.money import screen_money
from monitor_tui.report_text import printable, short_name

SAVINGS_SHOWN = 5
"""How many savings suggestions the tab lists, the largest first."""


class ComparisonPanel(Static):
    """Each total of the range beside the span before's, with the change."""

    def show(self, analytics: Analytics, zone: ZoneInfo) -> None:
        """Show ``analytics``' totals, with times in ``zone``; dashes before any
        usage has been read, since nothing read is not nothing spent."""
        if analytics.nothing_read:
            self.update(
                Group(
                    Text(
                        "No usage has been read yet: the figures appear after the "
                        "first sync.",
                        style="dim",
                    ),
                    self._grid(analytics, known=False, comparable=False),
                )
            )
            return
        previous = analytics.range.previous
        comparable = analytics.previous_is_complete
        now = analytics.now
        caption = (
            "Compared with "
            f"{local_moment(previous.start, zone, now, with_zone=False)} "
            f"→ {local_moment(previous.end, zone, now)}"
        )
        if not comparable:
            caption += ", which has not been read"
        parts: list[Text | Table] = [
            Text(caption, style="dim"),
            self._grid(analytics, known=True, comparable=comparable),
        ]
        totals = analytics.totals
        if totals.spend_is_lower_bound:
            names = ", ".join(
                printable(m) for m in (*totals.unpriced_models, *totals.unpriced_usage)
            )
            parts.append(
                Text(f"Spend is a lower bound: no price for {names}.", style="bold")
            )
        self.update(Group(*parts))

    @staticmethod
    def _grid(analytics: Analytics, *, known: bool, comparable: bool) -> Table:
        """The figures now, before and their change; ``—`` where not ``known``
        (now) or not ``comparable`` (before)."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        for _ in range(3):
            grid.add_column(justify="right", no_wrap=True)
        grid.add_row("", "now", "before", "change", style="dim")
        for change in analytics.changes:
            show = screen_money if change.money else count_text
            grid.add_row(
                change.name,
                show(change.value) if known else "—",
                show(change.previous) if comparable else "—",
                change_text(change) if comparable else "—",
            )
        hit_rate = analytics.totals.cache_hit_rate if known else None
        grid.add_row("Cache hit rate", rate_text(hit_rate), "", "")
        return grid


class BusiestHours(Static):
    """The busiest hours of the local day, with their average spend and tokens."""

    def show(self, analytics: Analytics) -> None:
        """Show the busiest hours of ``analytics``' hourly pattern."""
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row("Busiest hours", "avg $", "tokens")
        if not analytics.hourly.busiest:
            grid.add_row(Text("— (no usage)", style="not bold"), "", "")
        for slot in analytics.hourly.busiest:
            grid.add_row(
                hour_span_text(slot),
                screen_money(slot.spend_usd),
                count_text(slot.tokens),
            )
        self.update(grid)


def _suggestion(suggestion: Suggestion) -> str:
    model = short_name(suggestion.model, 28)
    if suggestion.kind == "model":
        return f"{model} on {suggestion.alternative}"
    return (
        f"{model} cached like the best "
        f"({rate_text(suggestion.target_rate)}, not {rate_text(suggestion.hit_rate)})"
    )


class SavingsList(Static):
    """The largest savings suggestions, labelled as estimates."""

    def show(self, analytics: Analytics) -> None:
        """Show the first ``SAVINGS_SHOWN`` of ``analytics``' suggestions."""
        suggestions = analytics.savings.suggestions[:SAVINGS_SHOWN]
        if not suggestions:
            self.update(
                Text("No cheaper model of the same family, and nothing to cache.")
            )
            return
        grid = Table.grid(padding=(0, 2))
        # On a narrow terminal the suggestion wraps; the amounts stay whole.
        grid.add_column()
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row("", "would cost", "saving", style="dim")
        for suggestion in suggestions:
            grid.add_row(
                _suggestion(suggestion),
                f"≈ {screen_money(suggestion.estimate_usd)}",
                f"≈ {screen_money(suggestion.saved_usd)}",
            )
        notes = [
            Text(
                "If the same requests ran the other way, at the list prices of "
                "their days; whether a smaller model does the job is yours to judge.",
                style="dim",
            )
        ]
        target = analytics.savings.cache_target_model
        if any(s.kind == "cache" for s in suggestions) and target is not None:
            notes.append(
                Text(
                    "Caching assumes every model could cache as much of its input "
                    f"as {short_name(target, 28)}, the best-cached model here.",
                    style="dim",
                )
            )
        self.update(Group(grid, *notes))
