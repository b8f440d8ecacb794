"""A bar chart of the average spend in each hour of the local day, the busiest
hours picked out."""

from __future__ import annotations

from monitor_tui.analytics import HourlyPattern, HourSlot
from monitor_tui.widgets.themed_plot import ThemedPlot

LABEL_EVERY_HOURS = 3
BAR_WIDTH = 0.4
"""The width of a bar, as a share of an hour."""


def _bar_width(hours: list[int]) -> float:
    """The width to ask plotext for so that bars at ``hours`` are
    ``BAR_WIDTH`` wide: plotext scales a width by the average gap of a series."""
    if len(hours) < 2:
        return BAR_WIDTH
    return BAR_WIDTH * (len(hours) - 1) / (hours[-1] - hours[0])


def _tick(slot: HourSlot) -> str:
    """``03h``, or ``03:30`` where the hour's buckets start at half past."""
    if slot.start_minute:
        return f"{slot.hour:02}:{slot.start_minute:02}"
    return f"{slot.hour:02}h"


class HourPatternChart(ThemedPlot):
    """Average spend per hour of the local day, 00h on the left."""

    DEFAULT_CSS = """
    HourPatternChart {
        height: 12;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pattern: HourlyPattern | None = None

    def show_pattern(self, pattern: HourlyPattern) -> None:
        """Redraw the chart with ``pattern``."""
        self._pattern = pattern
        self._draw_again()

    def draw(self) -> None:
        pattern = self._pattern
        if pattern is None:
            return
        plt = self.plt
        busiest = {slot.hour for slot in pattern.busiest}
        # Dollars become floats only here, to be drawn; sums stay Decimal.
        spend = [float(slot.spend_usd) for slot in pattern.hours]
        # Two series, so the busiest hours can have their own colour.
        for picked, colour in ((False, "primary"), (True, "warning")):
            hours = [hour for hour in range(24) if (hour in busiest) == picked]
            if hours:
                plt.bar(
                    hours,
                    [spend[hour] for hour in hours],
                    width=_bar_width(hours),
                    color=self.theme_rgb(colour),
                    marker="hd",
                )
        ticks = list(range(0, 24, LABEL_EVERY_HOURS))
        plt.xticks(ticks, [_tick(pattern.hours[hour]) for hour in ticks])
        plt.ylim(0, max(spend) * 1.1 if any(spend) else 1)
        plt.ylabel("avg $ / hour")
