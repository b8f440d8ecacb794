"""A plotext chart that draws its data again when the app's theme changes, so its
colours always come from the theme in use."""

from __future__ import annotations

from textual.color import Color
from textual_plotext import PlotextPlot


class ThemedPlot(PlotextPlot):
    """A chart whose ``draw`` runs again on every theme change.

    Bars are drawn with plotext's half-block marker, which doubles the
    resolution, so that the narrow bars of an 80-column terminal keep a gap
    between them.
    """

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._draw_again())

    def _draw_again(self) -> None:
        self.plt.clear_figure()
        self.draw()
        self.refresh()

    def draw(self) -> None:
        """Plot the chart's data on ``self.plt``; subclasses say what."""

    def theme_rgb(self, variable: str) -> tuple[int, int, int]:
        """The colour of a theme variable (``primary``, ``warning``...) for plotext."""
        return Color.parse(self.app.theme_variables[variable]).rgb
