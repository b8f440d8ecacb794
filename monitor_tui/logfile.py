"""The log file: a record of each sync (its windows, pages, rows, time, errors)
kept in the user's state directory, for when something goes wrong."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

from monitor_tui.config import Settings

LOG_FILE = "monitor-tui.log"
LOG_BYTES = 1_000_000
"""Each file's size before it rotates; two old files are kept."""


def log_to_file(settings: Settings) -> logging.Handler | None:
    """Send this package's records, from INFO up, to the log file.

    Returns:
        The handler (to remove when done), or None when the log directory
        cannot be used; the program goes on without a log then.
    """
    try:
        settings.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = RotatingFileHandler(
            settings.log_dir / LOG_FILE,
            maxBytes=LOG_BYTES,
            backupCount=2,
            encoding="utf-8",
        )
    except OSError:
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logger = logging.getLogger("monitor_tui")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler
