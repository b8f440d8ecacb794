"""The export form under Pilot, inline on the Export tab and in the dialog: it
writes the file and names it, refuses bad input next to the field, asks before
replacing a file, and fits an 80x24 terminal."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.reactive import reactive
from textual.widgets import Button, Input, RadioSet, Static

from monitor_tui.analytics import custom_range
from monitor_tui.config import Settings
from monitor_tui.store import Store
from monitor_tui.views.export import ExportDialog, ExportForm, ExportView
from tests.conftest import NOW
from tests.test_export import NUMBER_LIKE, ROWS, UTC_ZONE, put, settings_for

SIZE = (100, 40)


class Clock:
    """The tests' fixed moment, which a test can move on."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


DEFAULT_NAME = "monitor-tui-2026-12-04-153020-by-day.csv"
"""The default name at the tests' fixed moment, in UTC."""


class ExportApp(App[None]):
    """The Export tab alone; ``open_dialog`` puts the dialog over it."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock or Clock()
        self.theme = "textual-dark"
        self.animation_level = "none"
        self.messages: list[Message] = []
        self.toasts: list[str] = []
        self.dismissed: list[Path | None] = []

    def compose(self) -> ComposeResult:
        yield ExportView(self.settings, self.clock)

    def on_export_form_exported(self, message: ExportForm.Exported) -> None:
        # What the real app does with the message.
        self.toasts.append(f"{message.title} {message.path}")

    def open_dialog(self, default_range=None, **shown) -> None:
        dialog = ExportDialog(self.settings, self.clock, default_range, **shown)
        self.push_screen(dialog, self.dismissed.append)

    def exported(self) -> list[ExportForm.Exported]:
        return [m for m in self.messages if isinstance(m, ExportForm.Exported)]

    def run_here(self, size: tuple[int, int] = SIZE):
        return self.run_test(size=size, message_hook=self.messages.append)


async def settle(pilot: Pilot, done: Callable[[], bool]) -> None:
    """Let the app run until ``done`` (about posted messages) is true."""
    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline, "the form did not get there in 30 s"
        await pilot.pause(0.02)
    await pilot.pause()


async def press_export(pilot: Pilot, app: App) -> None:
    """Click Export. The button's press effect, which ignores another press for
    0.2 s, is turned off, so that a test presses twice without a sleep."""
    button = app.screen.query_one("#export-now", Button)
    button.active_effect_duration = 0
    await pilot.click(button)


def shown(app: App, selector: str) -> str:
    """The plain text a Static shows, whatever it was given."""
    content = app.screen.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    if isinstance(content, Text):
        return content.plain
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(content)
    return console.export_text()


@pytest.fixture
def settings(tmp_path) -> Settings:
    data_dir = tmp_path / "data"
    put(Store(data_dir), ROWS)
    return settings_for(data_dir)


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "here"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


async def test_the_form_writes_the_file_and_the_app_can_name_it(settings, here):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        await pilot.pause()
        assert app.query_one("#export-path", Input).value == DEFAULT_NAME
        assert shown(app, "#path-note") == f"→ {here / DEFAULT_NAME}"
        assert shown(app, "#recent-exports").startswith("Nothing exported yet.")

        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.exported()))

        message = app.exported()[0]
        assert message.path == here / DEFAULT_NAME
        assert message.what == "CSV by day, this billing period"
        assert message.rows == 4  # 1 to 4 December
        assert message.path.read_text().startswith("date,start,end,")
        assert app.toasts == [f"Exported {here / DEFAULT_NAME}"]
        assert shown(app, "#export-status").startswith(f"Wrote {message.path} (")
        await settle(pilot, lambda: DEFAULT_NAME in shown(app, "#recent-exports"))
        assert "CSV by day" in shown(app, "#recent-exports")


async def test_format_and_grouping_choose_the_file_name_until_one_is_typed(
    settings, here
):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        path = app.query_one("#export-path", Input)
        await pilot.click("#export-format-json")
        await pilot.click("#export-group-by-api_key")
        assert path.value == "monitor-tui-2026-12-04-153020-by-api-key.json"

        await pilot.click("#export-format-md")
        assert path.value == "monitor-tui-2026-12-04-153020-summary.md"
        assert app.query_one("#group-by-choice", RadioSet).disabled
        assert shown(app, "#group-note") == "The Markdown report has its own layout."

        path.value = "mine.md"
        await pilot.click("#export-format-csv")
        assert path.value == "mine.md"


async def test_custom_dates_that_are_wrong_are_refused_next_to_the_field(
    settings, here
):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        dates = app.query_one("#export-dates", Input)
        assert not app.query_one("#dates-field").display
        await pilot.click("#export-range-custom")
        await pilot.pause()
        assert app.query_one("#dates-field").display
        assert app.focused is dates

        for text, problem in (
            ("2026-12-03 2026-12-01", "2026-12-01 is before 2026-12-03"),
            ("last week", "is not a date range"),
            ("2027-01-01 2027-01-02", "2027-01-01 has not begun yet in UTC"),
        ):
            dates.value = text
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert dates.has_class("-invalid")
            assert problem in shown(app, "#dates-error")
            assert shown(app, "#export-status") == "Nothing was written."
        assert list(here.iterdir()) == []

        dates.value = "2026-12-02 2026-12-03"
        await pilot.pause()
        assert not app.query_one("#dates-error").display
        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.exported()))
        assert app.exported()[0].what == "CSV by day, 02 Dec 2026 → 03 Dec 2026"


async def test_an_existing_file_is_replaced_only_after_a_second_press(settings, here):
    (here / DEFAULT_NAME).write_text("the user's own numbers")
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        await press_export(pilot, app)
        await pilot.pause()
        assert shown(app, "#path-error") == (
            f"✗ {DEFAULT_NAME} exists: press Export again to replace it"
        )
        assert (here / DEFAULT_NAME).read_text() == "the user's own numbers"

        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.exported()))
        assert (here / DEFAULT_NAME).read_text().startswith("date,start,end,")
        assert sorted(p.name for p in here.iterdir()) == [DEFAULT_NAME]


async def test_a_change_after_the_warning_asks_again(settings, here):
    (here / DEFAULT_NAME).write_text("mine")
    (here / "other.csv").write_text("mine too")
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        await press_export(pilot, app)
        app.query_one("#export-path", Input).value = "other.csv"
        await pilot.pause()
        await press_export(pilot, app)
        await pilot.pause()
        assert "other.csv exists" in shown(app, "#path-error")
        assert (here / "other.csv").read_text() == "mine too"
        assert (here / DEFAULT_NAME).read_text() == "mine"
        assert app.exported() == []


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("-", "the app cannot write to standard output; give a file"),
        ("missing/x.csv", "missing does not exist; create it first"),
    ],
)
async def test_a_path_that_cannot_be_written_is_refused_next_to_it(
    settings, here, path, problem
):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        app.query_one("#export-path", Input).value = path
        await pilot.pause()
        await press_export(pilot, app)
        await pilot.pause()
        assert problem in shown(app, "#path-error")
        assert app.query_one("#export-path").has_class("-invalid")
        assert list(here.iterdir()) == []


async def test_the_dialog_exports_closes_and_hands_back_the_file(settings, here):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        app.open_dialog("7d")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        assert app.screen.query_one("#export-range-7d").value
        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.dismissed))
        assert not isinstance(app.screen, ExportDialog)
        assert app.dismissed == [here / DEFAULT_NAME]
        # The 7 days reach before 1 December, where the history read begins.
        assert app.toasts == [
            "Exported: usage before 2026-12-01 00:00 UTC has not been read "
            f"{here / DEFAULT_NAME}"
        ]
        assert app.exported()[0].what == "CSV by day, last 7 days"


async def test_escape_or_cancel_close_the_dialog_and_write_nothing(settings, here):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        app.open_dialog()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)

        app.open_dialog()
        await pilot.pause()
        await pilot.click("#export-cancel")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)
        assert app.dismissed == [None, None]
        assert list(here.iterdir()) == []


async def test_the_dialog_starts_with_the_custom_range_a_tab_shows(settings, here):
    span = custom_range(date(2026, 11, 20), date(2026, 11, 26), UTC_ZONE, NOW)
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        app.open_dialog(span)
        await pilot.pause()
        dialog = app.screen
        assert dialog.query_one("#export-range-custom").value
        assert dialog.query_one("#export-dates", Input).value == "2026-11-20 2026-11-26"


async def test_at_80_by_24_the_dialog_fits_and_export_is_reached_by_keys(
    settings, here
):
    app = ExportApp(settings)
    async with app.run_here(size=(80, 24)) as pilot:
        app.open_dialog("custom")
        await pilot.pause()
        box = app.screen.query_one("#export-dialog")
        assert box.region.right <= 80 and box.region.bottom <= 24
        for radio in app.screen.query(RadioSet):
            assert radio.query("RadioButton").last().region.right <= 80

        app.screen.query_one("#export-dates", Input).value = "2026-12-01 2026-12-02"
        for _ in range(10):
            if isinstance(app.focused, Button) and app.focused.id == "export-now":
                break
            await pilot.press("tab")
        assert app.focused is app.screen.query_one("#export-now", Button)
        await pilot.press("enter")
        await settle(pilot, lambda: bool(app.dismissed))
        assert app.dismissed == [here / DEFAULT_NAME]


async def test_at_80_by_24_the_tab_scrolls_to_the_recent_exports(settings, here):
    app = ExportApp(settings)
    async with app.run_here(size=(80, 24)) as pilot:
        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.exported()))
        view = app.query_one(ExportView)
        await settle(pilot, lambda: bool(view.records))
        view.focus()
        await pilot.press("end")
        await pilot.pause()
        recent = app.query_one("#recent-exports")
        assert view.scroll_y == view.max_scroll_y
        assert recent.region.bottom <= 24 and recent.region.y >= 0


# What the screen shows, and when


async def test_the_dialog_exports_in_the_zone_and_project_the_app_shows(settings, here):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        app.open_dialog("period", zone=ZoneInfo("Asia/Tokyo"), project=NUMBER_LIKE)
        await pilot.pause()
        assert shown(app, "#project-text") == f"only {NUMBER_LIKE}"
        await pilot.click("#export-format-json")
        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.dismissed))
    # The name is stamped in Tokyo time, as the screen shows it.
    [written] = here.iterdir()
    assert written.name == "monitor-tui-2026-12-05-003020-by-day.json"
    data = json.loads(written.read_text())
    assert data["timezone"] == "Asia/Tokyo"
    # The billing period is still the configured zone's (UTC) month.
    assert data["range_start"] == "2026-12-01T09:00:00+09:00"
    assert data["project"] == NUMBER_LIKE
    assert data["totals"]["spend_usd"] == "1.583333"
    assert app.exported()[0].what.endswith(f"project {NUMBER_LIKE}")


async def test_the_project_can_be_cleared_in_the_dialog(settings, here):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        app.open_dialog(project="proj_a")
        await pilot.pause()
        await pilot.click("#export-all-projects")
        await pilot.pause()
        assert shown(app, "#project-text") == "all projects"
        assert not app.screen.query_one("#export-all-projects").display
        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.dismissed))
    assert (here / DEFAULT_NAME).read_bytes().count(b"\r\n") == 1 + 4


async def test_the_default_name_is_stamped_when_the_export_runs(settings, here):
    clock = Clock()
    app = ExportApp(settings, clock)
    async with app.run_here() as pilot:
        await pilot.pause()
        clock.now = NOW + timedelta(minutes=5, seconds=1)
        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.exported()))
    assert [p.name for p in here.iterdir()] == [
        "monitor-tui-2026-12-04-153521-by-day.csv"
    ]


async def test_a_pipe_is_refused_even_on_a_second_press(settings, here):
    os.mkfifo(here / "x.csv")
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        app.query_one("#export-path", Input).value = "x.csv"
        await pilot.pause()
        for _ in range(2):
            await press_export(pilot, app)
            await pilot.pause()
            assert "x.csv is a named pipe, not a regular file" in shown(
                app, "#path-error"
            )
        assert app.exported() == []
    assert (here / "x.csv").is_fifo()


async def test_an_export_of_a_store_never_synced_says_so_in_the_toast(tmp_path, here):
    app = ExportApp(settings_for(tmp_path / "never"))
    async with app.run_here() as pilot:
        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.exported()))
        assert app.toasts == [
            f"Exported: no data has been read yet {here / DEFAULT_NAME}"
        ]
        assert "no data has been read yet" in shown(app, "#export-status")


async def test_demo_exports_say_demo_in_the_name_and_the_recent_list(tmp_path, here):
    demo = Settings(data_dir=tmp_path / "data", timezone="UTC")
    app = ExportApp(demo)
    async with app.run_here() as pilot:
        assert app.query_one("#export-path", Input).value.startswith(
            "monitor-tui-demo-2026-12-04-153020-"
        )
        await press_export(pilot, app)
        await settle(pilot, lambda: "DEMO" in shown(app, "#recent-exports"))


async def test_dates_in_another_iso_form_are_refused(settings, here):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        await pilot.click("#export-range-custom")
        dates = app.query_one("#export-dates", Input)
        dates.value = "20261201 20261202"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "is not a date range; give YYYY-MM-DD YYYY-MM-DD" in shown(
            app, "#dates-error"
        )
        assert list(here.iterdir()) == []


async def test_the_tab_exports_in_the_zone_the_app_shows(settings, here):
    app = ExportApp(settings)
    async with app.run_here() as pilot:
        app.query_one(ExportView).zone = ZoneInfo("Asia/Tokyo")
        await pilot.pause()
        path = app.query_one("#export-path", Input)
        assert path.value == "monitor-tui-2026-12-05-003020-by-day.csv"
        assert shown(app, "#zone-note").startswith("Days and hours in Asia/Tokyo")
        await press_export(pilot, app)
        await settle(pilot, lambda: bool(app.exported()))
    text = (here / "monitor-tui-2026-12-05-003020-by-day.csv").read_text()
    assert '"2026-12-01","2026-12-01T09:00:00+09:00"' in text


class BoundApp(App[None]):
    """The Export tab bound to the app's zone, as ``MonitorApp`` binds it."""

    zone: reactive[ZoneInfo] = reactive(ZoneInfo("Asia/Tokyo"))

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        yield ExportView(self.settings, Clock()).data_bind(BoundApp.zone)


async def test_the_tab_follows_the_zone_bound_to_it(tmp_path, here):
    app = BoundApp(settings_for(tmp_path / "data", "Asia/Tokyo"))
    async with app.run_test(size=SIZE) as pilot:
        path = app.query_one("#export-path", Input)
        assert path.value == "monitor-tui-2026-12-05-003020-by-day.csv"
        app.zone = UTC_ZONE
        await pilot.pause()
        assert path.value == DEFAULT_NAME
        assert app.query_one("#zone-note").display
