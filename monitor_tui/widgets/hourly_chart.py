"""A bar chart of spend per hour, drawn by plotext inside the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from textual_plotext import PlotextPlot

from monitor_tui.snapshot import HourSpend

LABEL_EVERY_HOURS = 3


class HourlySpendChart(PlotextPlot):
    """Spend per clock hour, the current hour on the right."""

    DEFAULT_CSS = """
    HourlySpendChart {
        height: 1fr;
        min-height: 10;
    }
    """

    def show_hours(self, hours: Sequence[HourSpend], zone: ZoneInfo) -> None:
        """Redraw the chart with ``hours``, labelled with their hour in ``zone``."""
        plt = self.plt
        plt.clear_data()
        positions = list(range(len(hours)))
        # Dollars become floats only here, to be drawn; sums stay Decimal.
        plt.bar(positions, [float(hour.spend_usd) for hour in hours], width=0.4)
        labels = [f"{hour.start.astimezone(zone):%H}h" for hour in hours]
        plt.xticks(
            positions[::-LABEL_EVERY_HOURS][::-1], labels[::-LABEL_EVERY_HOURS][::-1]
        )
        if not any(hour.spend_usd for hour in hours):
            plt.ylim(0, 1)  # plotext would centre an all-zero axis on zero
        else:
            plt.ylim(0, None)
        plt.ylabel("$ / hour")
        self.refresh()
