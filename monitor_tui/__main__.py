"""``python -m monitor_tui`` runs the ``monitor-tui`` command."""

from monitor_tui.cli import run

run()
