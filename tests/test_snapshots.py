"""How the Live tab looks, on fixed demo data at a fixed size, theme and clock.

A changed screen fails here with a side-by-side report; after looking at it,
``pytest --snapshot-update`` records the new look.
"""

from __future__ import annotations

import time
from datetime import timedelta

from textual.pilot import Pilot

from monitor_tui.app import MonitorApp, build_app
from monitor_tui.budget import Budget
from monitor_tui.store import Store
from monitor_tui.views.analytics import AnalyticsView
from tests.conftest import NOW
from tests.factories import HAND_COMPUTED
from tests.test_app import SIZE, Clock, demo_settings, live_settings


def demo_app(tmp_path, clock: Clock) -> MonitorApp:
    Store(tmp_path).set_budget(Budget(amount_usd=2500).to_record())
    app = build_app(demo_settings(tmp_path), clock=clock, autostart=False)
    app.theme = "textual-dark"
    app.animation_level = "none"
    return app


async def sync_and_wait(pilot: Pilot, app: MonitorApp) -> None:
    deadline = time.monotonic() + 30
    while app.snapshot is None or app.syncing:
        assert time.monotonic() < deadline, "the store was never read"
        await pilot.pause(0.02)
    assert app.start_sync()
    while app.syncing:
        assert time.monotonic() < deadline, "the sync never finished"
        await pilot.pause(0.02)
    await pilot.pause()


def test_the_live_tab_on_demo_data(snap_compare, tmp_path):
    app = demo_app(tmp_path, Clock())

    async def run_before(pilot: Pilot) -> None:
        await sync_and_wait(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_the_live_tab_when_the_api_fails(snap_compare, api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    Store(tmp_path).set_budget(Budget(amount_usd=20).to_record())
    clock = Clock()
    app = build_app(live_settings(api_server, tmp_path), clock=clock, autostart=False)
    app.theme = "textual-dark"
    app.animation_level = "none"

    async def run_before(pilot: Pilot) -> None:
        await sync_and_wait(pilot, app)
        api_server.add_fault(status=500, retry_after=0.01, count=1000)
        clock.now = NOW + timedelta(minutes=12)
        await sync_and_wait(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_the_budget_tab_after_an_alert(snap_compare, tmp_path):
    Store(tmp_path).set_budget(
        Budget(
            amount_usd=500,
            thresholds=(50, 80),
            projects=(("proj_demo_webapp", 300),),
        ).to_record()
    )
    app = build_app(demo_settings(tmp_path), clock=Clock(), autostart=False)
    app.theme = "textual-dark"
    app.animation_level = "none"

    async def run_before(pilot: Pilot) -> None:
        await sync_and_wait(pilot, app)
        await pilot.press("3")
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_the_analytics_tab_on_demo_data(snap_compare, tmp_path):
    app = demo_app(tmp_path, Clock())

    async def run_before(pilot: Pilot) -> None:
        await sync_and_wait(pilot, app)
        await pilot.press("2", "w")
        view = app.query_one(AnalyticsView)
        deadline = time.monotonic() + 30
        while view.analytics is None or view.analytics.range.kind != "7d":
            assert time.monotonic() < deadline, "the tab never computed"
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
