"""What the measures of one benchmark run share: the fake API, a scratch folder
holding the store, the settings and environment the app runs with, and the
findings of the profiles taken."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from busy_api import ADMIN_KEY, BusyApi
from results import Finding, Measure
from terminal import AppInTerminal

from monitor_tui.config import Settings

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent

BUDGET_USD = "10000000"
"""High enough that no alert fires: alerts would reach the desktop."""

CONFIG = """\
# Written by the benchmark: the defaults, without desktop notifications.
poll_interval_seconds = 60
desktop_notifications = false
bell = false
"""


class BenchError(Exception):
    """The benchmark could not take a measure; the message says which and why."""


class Workbench:
    """The shared state of one benchmark run.

    Args:
        api: The started fake API.
        work: A scratch folder, deleted afterwards; the store is in ``data``.
        quick: Fewer runs and a shorter idle window.
        zone: The display zone of the app and of the Analytics recompute.
        profile: None, ``miss`` (profile each measure that misses its target)
            or ``all``.
    """

    def __init__(
        self, api: BusyApi, work: Path, *, quick: bool, zone: str, profile: str | None
    ) -> None:
        self.api = api
        self.work = work
        self.data_dir = work / "data"
        self.quick = quick
        self.zone = zone
        self.profile = profile
        self.findings: list[Finding] = []
        """Where the time goes, for the measures profiled."""
        self.config = work / "config" / "monitor-tui" / "config.toml"
        """The app's config file, where XDG_CONFIG_HOME points it."""
        self.config.parent.mkdir(parents=True)
        self.config.write_text(CONFIG)

    def profiling(self, *measures: Measure) -> bool:
        """Whether to profile what ``measures`` measured."""
        if self.profile == "all":
            return True
        return self.profile == "miss" and any(m.verdict == "MISS" for m in measures)

    def settings(self, data_dir: Path | None = None) -> Settings:
        """The settings of a sync into the benchmark's store (or ``data_dir``)."""
        return Settings(
            admin_key=ADMIN_KEY,
            base_url=self.api.base_url,
            data_dir=data_dir or self.data_dir,
            timezone=self.zone,
            history_days=90,
            log_dir=self.work / "log-bench",
        )

    def app_env(self, name: str) -> dict[str, str]:
        """The app's environment: the fake API, the benchmark's store and its own
        config, log and state folders, so nothing of the user's is read or
        written; the log goes to ``work / name``."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MONITOR_TUI_", "OPENAI_", "TEXTUAL"))
        }
        env.update(
            OPENAI_ADMIN_KEY=ADMIN_KEY,
            OPENAI_BASE_URL=self.api.base_url,
            MONITOR_TUI_DATA_DIR=str(self.data_dir),
            MONITOR_TUI_TIMEZONE=self.zone,
            MONITOR_TUI_LOG_DIR=str(self.work / name),
            XDG_CONFIG_HOME=str(self.work / "config"),
            XDG_STATE_HOME=str(self.work / "state"),
        )
        return env

    def app(
        self,
        name: str,
        profile_to: Path | None = None,
        *,
        from_signal: bool = False,
        timeline_to: Path | None = None,
    ) -> AppInTerminal:
        """The real app on the benchmark's store, logging to ``work / name``.

        Args:
            name: Names the app's log folder.
            profile_to: Run it under cProfile (see ``probes.py app``), whose
                stats are written here when it quits.
            from_signal: Profile only from SIGUSR1 on.
            timeline_to: Note the steps of its start (see ``probes.py
                timeline``), written here when it quits.
        """
        probes = [sys.executable, str(BENCH / "probes.py")]
        if profile_to is not None:
            flags = ["--from-signal"] if from_signal else []
            argv = [*probes, "app", *flags, str(profile_to)]
        elif timeline_to is not None:
            argv = [*probes, "timeline", str(timeline_to)]
        else:
            argv = [sys.executable, "-m", "monitor_tui"]
        return AppInTerminal(argv, self.app_env(name), cwd=ROOT)

    def syncs_logged(self, name: str) -> int:
        """How many successful syncs the app named ``name`` has logged."""
        try:
            text = (self.work / name / "monitor-tui.log").read_text()
        except FileNotFoundError:
            return 0
        return text.count("sync openai ok")

    def probe(self, *args: str) -> dict[str, Any]:
        """Run ``probes.py`` with ``args`` in a new process; return its answer."""
        done = subprocess.run(
            [sys.executable, str(BENCH / "probes.py"), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BenchError(f"the probe {args[0]} failed:\n{done.stderr}")
        return json.loads(done.stdout.splitlines()[-1])

    def pin_budget(self, now: datetime) -> float:
        """Set a budget whose billing period (in UTC) began a day after the same
        date last month, or on the 1st, so that the Live tab reads nearly a
        whole period whatever the date; return the days the period has run.

        The Live tab's read grows with the days the period has run: on the 2nd
        it reads one day, on the 28th four weeks.
        """
        from monitor_tui.cli import main
        from monitor_tui.period import billing_period

        tomorrow = (now + timedelta(days=1)).day
        start_day = tomorrow if tomorrow <= 28 else 1
        out, err = io.StringIO(), io.StringIO()
        argv = ["--config", str(self.config), "--data-dir", str(self.data_dir)]
        argv += ["budget", "set", BUDGET_USD, "--start-day", str(start_day)]
        argv += ["--timezone", "UTC"]
        if main(argv, env=self.app_env("log-bench"), out=out, err=err) != 0:
            raise BenchError(f"the budget could not be set: {err.getvalue()}")
        period = billing_period(now, start_day, ZoneInfo("UTC"))
        return (now - period.start) / timedelta(days=1)
