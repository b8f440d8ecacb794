"""A bar chart of spend per local day, with the budget's daily pace as a line."""

from __future__ import annotations

from monitor_tui.analytics import DailyTrend
from monitor_tui.widgets.themed_plot import ThemedPlot

MAX_LABELS = 8
"""At most this many dates under the bars, so they never run together."""


class DailySpendChart(ThemedPlot):
    """Spend per local day over the range, oldest on the left."""

    DEFAULT_CSS = """
    DailySpendChart {
        height: 12;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._trend: DailyTrend | None = None

    def show_trend(self, trend: DailyTrend) -> None:
        """Redraw the chart with ``trend``."""
        self._trend = trend
        self._draw_again()

    def draw(self) -> None:
        trend = self._trend
        if trend is None or not trend.days:
            return
        plt = self.plt
        positions = list(range(len(trend.days)))
        # Dollars become floats only here, to be drawn; sums stay Decimal.
        spend = [float(day.spend_usd) for day in trend.days]
        plt.bar(
            positions,
            spend,
            width=0.6 if len(positions) <= 31 else 0.9,
            color=self.theme_rgb("primary"),
            marker="hd",
        )
        top = max(spend, default=0.0)
        if trend.pace_usd is not None:
            pace = float(trend.pace_usd)
            plt.hline(pace, color=self.theme_rgb("warning"))
            top = max(top, pace)
        step = max(1, -(-len(positions) // MAX_LABELS))
        ticks = positions[::-step][::-1]
        plt.xticks(ticks, [f"{trend.days[i].day:%d %b}" for i in ticks])
        plt.ylim(0, top * 1.1 if top else 1)
        plt.ylabel("$ / day")
