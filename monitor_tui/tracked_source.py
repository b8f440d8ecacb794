"""Which data is shown without an admin key: the calls recorded with ``track``
once there is one, else the demo."""

from __future__ import annotations

from dataclasses import replace

from monitor_tui.config import Settings
from monitor_tui.spool import pending_files
from monitor_tui.store import Store
from monitor_tui.tracked_calls import TRACKED


def has_tracked_calls(settings: Settings) -> bool:
    """True when the data directory holds recorded calls, stored or still in
    the spool; a directory listing or two, nothing is read."""
    data_dir = settings.data_dir
    try:
        return bool(pending_files(data_dir)) or Store(data_dir).holds_calls()
    except OSError:  # an unreadable data directory is named where it is used
        return False


def can_show_tracked(settings: Settings) -> bool:
    """True when recorded calls, once there are some, are the data to show: no
    admin key, no ``--demo``, and no origin chosen already."""
    return not settings.admin_key and not settings.demo and not settings.chosen_origin


def choose_source(settings: Settings) -> Settings:
    """The settings with the tracked calls as the data when there is no admin
    key (nor ``--demo``) and calls have been recorded; else unchanged.

    Calls still in the spool count as recorded: readers ingest them first.
    """
    if not can_show_tracked(settings) or not has_tracked_calls(settings):
        return settings
    return replace(settings, chosen_origin=TRACKED)
