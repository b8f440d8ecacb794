"""monitor-tui: watch what an OpenAI organization spends, and keep it under budget."""

__version__ = "0.1.0"
