"""A sync killed at any moment leaves a store that opens and still holds every
sync that completed; the next sync finishes the work without counting twice.

Each sync runs as a real ``monitor-tui sync`` process against the local API
server and is killed with SIGKILL at points drawn from a fixed seed.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor_tui.cli import main
from tests.conftest import ADMIN_KEY
from tests.usage_api.scenarios import small_org

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

TOTALS = ("spend_usd", "billed_usd", "input_tokens", "output_tokens", "requests")


def report(env: dict[str, str]) -> dict:
    out, err = io.StringIO(), io.StringIO()
    code = main(["report", "--json"], env=env, out=out, err=err)
    assert code == 0, err.getvalue()
    data = json.loads(out.getvalue())
    return {name: data[name] for name in TOTALS}


def sync_process(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor_tui", "sync"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def started_writing(state: Path, since: float) -> float:
    """Wait until a sync process records its start in ``state`` (modified after
    ``since``); the seconds waited. The kill then falls among the writes, not
    during the interpreter's start-up."""
    began = time.monotonic()
    while not state.exists() or state.stat().st_mtime < since:
        assert time.monotonic() - began < 60, "the sync never started"
        time.sleep(0.002)
    return time.monotonic() - began


def test_a_sync_killed_at_any_point_keeps_every_completed_sync(api_server, tmp_path):
    api_server.now = None  # the processes use the real clock
    api_server.set_records(small_org(int(time.time())))

    def env_for(name: str) -> dict[str, str]:
        return {
            "OPENAI_ADMIN_KEY": ADMIN_KEY,
            "OPENAI_BASE_URL": api_server.base_url,
            "MONITOR_TUI_DATA_DIR": str(tmp_path / name),
            "MONITOR_TUI_TIMEZONE": "UTC",
        }

    completed = env_for("completed")
    first = sync_process(completed)
    start_up = started_writing(tmp_path / "completed" / "state.json", 0)
    began = time.monotonic()
    assert first.wait(timeout=120) == 0, first.stderr.read()
    full_sync = time.monotonic() - began
    expected = report(completed)
    assert expected["requests"] > 0
    assert start_up < 60

    rng = random.Random(20261204)
    for attempt in range(6):
        # A later sync of the completed store, killed part-way: every total
        # stays exactly as the completed sync left it.
        since = time.time()
        later = sync_process(completed)
        started_writing(tmp_path / "completed" / "state.json", since)
        time.sleep(rng.uniform(0, full_sync / 4))
        later.send_signal(signal.SIGKILL)
        later.wait(timeout=30)
        assert report(completed) == expected, f"kill {attempt} of a later sync"

        # A first sync killed part-way: the store opens, and the next sync
        # completes it without counting anything twice.
        fresh = env_for(f"fresh-{attempt}")
        killed = sync_process(fresh)
        started_writing(tmp_path / f"fresh-{attempt}" / "state.json", 0)
        time.sleep(rng.uniform(0, full_sync))
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        report(fresh)
        finisher = sync_process(fresh)
        assert finisher.wait(timeout=120) == 0, finisher.stderr.read()
        assert report(fresh) == expected, f"kill {attempt} of a first sync"
