"""Setting up and cleaning up: ``doctor`` says what works and what to fix,
``prune`` drops old history, ``reset`` empties the store; both ask first."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor_tui.config import Settings
from monitor_tui.store import PARTITION_FOLDERS, Store, StoreError, data_dir_problem
from monitor_tui.usage import align

Ask = Callable[[str], bool]
"""Asks the user a yes/no question; True means go ahead."""


@dataclass(frozen=True)
class Check:
    """One line of ``doctor``: what was checked, whether it is fine, and why."""

    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.text}"


def _check_data_dir(settings: Settings) -> Check:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=settings.data_dir):
            pass
    except OSError as exc:
        return Check(False, data_dir_problem(exc, settings.data_dir))
    return Check(True, f"the data directory {settings.data_dir} is writable")


def _check_store(settings: Settings, now: datetime) -> Check:
    store = Store(settings.store_dir)
    try:
        last = store.last_sync(settings.origin)
        store.budget()
    except StoreError as exc:
        return Check(False, str(exc))
    if store.recovered:
        return Check(False, "; ".join(store.recovered))
    if last is None or last.get("last_ok_at") is None:
        return Check(True, "the store opens; no sync has finished yet")
    age = now - datetime.fromtimestamp(last["last_ok_at"], UTC)
    minutes = int(age.total_seconds() // 60)
    if last.get("ok") is False:
        return Check(
            False,
            f"the last sync failed: {last.get('error')}; the last good one was "
            f"{minutes} min ago",
        )
    if age > timedelta(minutes=settings.stale_after_minutes):
        return Check(False, f"the last sync was {minutes} min ago: the data is stale")
    return Check(True, f"the store opens; the last sync was {minutes} min ago")


def _check_key(settings: Settings, now: datetime) -> Check:
    if settings.demo:
        return Check(True, "--demo: demo data is used, the key is not checked")
    if not settings.admin_key:
        return Check(
            False,
            "no admin key: the app shows demo data; set OPENAI_ADMIN_KEY (or "
            "admin_key in the config file) to an organization admin key",
        )
    from monitor_tui.sources import SyncError
    from monitor_tui.sources.openai_api import OpenAISource

    source = OpenAISource(
        settings.admin_key, settings.base_url, timeout=15, max_retries=1
    )
    day = align(int(now.timestamp()), "1d")
    try:
        page = next(iter(source.usage_pages("completions", "1d", day, day + 1, ())))
    except SyncError as exc:
        return Check(False, str(exc))
    finally:
        source.close()
    if not isinstance(page, dict) or "data" not in page:
        return Check(False, "the API answered, but not with a page of usage")
    where = settings.base_url or "the OpenAI API"
    return Check(True, f"the admin key reads the organization's usage from {where}")


def doctor(settings: Settings, now: datetime) -> list[Check]:
    """Check the configuration, the data directory, the store and the key."""
    checks = [
        Check(
            True,
            f"configuration read from {settings.config_path}"
            if settings.config_path
            else "no config file; defaults and the environment are used "
            "(`monitor-tui config init` writes one)",
        )
    ]
    checks += [Check(False, warning) for warning in settings.warnings]
    checks.append(_check_data_dir(settings))
    checks.append(_check_store(settings, now))
    checks.append(_check_key(settings, now))
    checks.append(
        Check(True, f"the app's log is {settings.log_dir / 'monitor-tui.log'}")
    )
    return checks


def prune(settings: Settings, days: int, now: datetime, ask: Ask) -> str:
    """Delete stored rows older than ``days`` days, after asking.

    Whole files go: a day of hourly rows, a month of costs, a year of daily
    rows, once all of it is older than the cut-off. The watermarks then start at
    the cut-off, so nothing older is read again by the next sync.
    """
    if days < settings.history_days:
        raise ValueError(
            f"history_days is {settings.history_days}, so the next sync would read "
            f"rows from the last {days} to {settings.history_days} days again; "
            "prune at least that far back, or lower history_days first"
        )
    cutoff = align(int((now - timedelta(days=days)).timestamp()), "1d")
    store = Store(settings.store_dir)
    old = store.files_before(cutoff)
    if not old:
        return f"nothing is older than {days} days in {settings.store_dir}"
    day = datetime.fromtimestamp(cutoff, UTC).date()
    if not ask(f"Delete {len(old)} files of rows from before {day} UTC?"):
        return "nothing was deleted"
    store.delete_files_before(settings.origin, cutoff)
    return f"deleted {len(old)} files of rows from before {day} UTC"


def reset(settings: Settings, ask: Ask) -> str:
    """Delete everything in the store of the active source, after asking: rows,
    watermarks, the budget and alert state. The config file is kept."""
    store_dir = settings.store_dir
    if not store_dir.exists():
        return f"{store_dir} is already empty"
    what = "demo data" if settings.use_demo else "stored usage, costs"
    if not settings.use_demo:
        what += ", the budget and the alert log"
    if not ask(f"Delete all {what} in {store_dir}?"):
        return "nothing was deleted"
    # The demo's own folder inside the real data directory is left alone.
    for name in PARTITION_FOLDERS:
        if (store_dir / name).is_dir():
            shutil.rmtree(store_dir / name)
    for pattern in ("*.json", "*.json.bak", "*.json.damaged-*"):
        for path in store_dir.glob(pattern):
            path.unlink(missing_ok=True)
    return f"the store in {store_dir} is empty; the next sync reads the history again"


def tty_ask(question: str) -> bool:
    """Ask on the terminal; only ``y`` or ``yes`` goes ahead."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def can_ask() -> bool:
    """True when a person can answer a question on this terminal."""
    try:
        return os.isatty(0)
    except OSError:
        return False
