"""monitor-tui: watch what an OpenAI organization spends, and keep it under budget.

``track(client)`` records each call an OpenAI client makes, for the app to show.
"""

__version__ = "0.1.0"

from monitor_tui.track import track

__all__ = ["__version__", "track"]
