"""monitor-tui: watch what an OpenAI organization spends, and keep it under budget.

``from monitor_tui import track``; ``track(client)`` records each call an OpenAI
client makes, for the app to show.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "track"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: the app and the commands do not need the tracker.
    if name == "track":
        from monitor_tui.tracker import track

        return track
    raise AttributeError(f"module 'monitor_tui' has no attribute {name!r}")
