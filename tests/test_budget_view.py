"""The Budget tab: the form refuses bad input next to the field and saves nothing,
a saved budget applies at once and survives a restart, and an alert that fires
reaches the screen, the log, the bell and the webhook once."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

from textual.widgets import Input

from monitor_tui.budget import Budget
from monitor_tui.notify import Notice, slack_payload
from monitor_tui.store import Store
from monitor_tui.views.budget import BudgetView
from tests.factories import HAND_COMPUTED
from tests.test_app import Clock, Harness, demo_settings, live_settings, shown
from tests.webhook_server import WebhookServer


async def fill(pilot, app, **fields: str) -> None:
    """Put text in the form's fields, as typing would."""
    for name, text in fields.items():
        app.query_one(f"#field-{name.replace('_', '-')}", Input).value = text
    await pilot.pause()


def webhook_settings(api_server, tmp_path, webhook, *, bell: bool = False):
    """Live settings that send alerts to ``webhook`` and not to the desktop."""
    return dataclasses.replace(
        live_settings(api_server, tmp_path),
        webhook_url=webhook.url,
        desktop_notifications=False,
        bell=bell,
    )


def errors(app) -> dict[str, str]:
    """The error shown next to each field that has one."""
    found = {}
    for box in app.query(".field-error"):
        if box.display:
            found[str(box.id).removeprefix("error-")] = shown(app, f"#{box.id}")
    return found


BAD_INPUT = [
    ({"amount": ""}, "amount", "enter an amount"),
    ({"amount": "lots"}, "amount", "'lots' is not an amount"),
    ({"amount": "-5"}, "amount", "out of range"),
    ({"amount": "0"}, "amount", "out of range"),
    ({"amount": "1e12"}, "amount", "out of range"),
    ({"amount": "10.001"}, "amount", "fractions of a cent"),
    ({"thresholds": ""}, "thresholds", "at least one threshold"),
    ({"thresholds": "0, 50"}, "thresholds", "from 1 to 100"),
    ({"thresholds": "50, 150"}, "thresholds", "from 1 to 100"),
    ({"thresholds": "50, 75, 50"}, "thresholds", "given twice"),
    ({"start_day": "31"}, "start-day", "not a day from 1 to 28"),
    ({"start_day": "first"}, "start-day", "not a day from 1 to 28"),
    ({"zone": "Mars/Base"}, "zone", "unknown time zone"),
    ({"zone": ""}, "zone", "give a time zone"),
    ({"projects": "proj_a"}, "projects", "is not PROJECT=AMOUNT"),
    ({"projects": "proj_a=-1"}, "projects", "proj_a: -1 is out of range"),
]
GOOD = {
    "amount": "100",
    "thresholds": "50, 75, 90",
    "start_day": "1",
    "zone": "UTC",
    "projects": "",
}


async def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(
    tmp_path,
):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await pilot.press("3")
        for fields, field, message in BAD_INPUT:
            await fill(pilot, harness.app, **{**GOOD, **fields})
            await pilot.click("#save")
            await pilot.pause()
            found = errors(harness.app)
            assert list(found) == [field], fields
            assert message in found[field], fields
            assert "Nothing was saved" in shown(harness.app, "#form-status")
            field_input = harness.app.query_one(f"#field-{field}", Input)
            assert field_input.has_class("-invalid")
            # Fixing the field takes its error away before the next save.
            await fill(pilot, harness.app, **GOOD)
            assert errors(harness.app) == {}
            assert not field_input.has_class("-invalid")
    assert Store(tmp_path).budget() is None


async def test_typing_a_budget_and_pressing_enter_saves_it_and_applies_at_once(
    tmp_path,
):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        await pilot.press("3")
        await pilot.click("#field-amount")
        await pilot.press(*"250.50", "enter")
        await harness.settle(
            pilot,
            lambda: harness.app.snapshot.budget is not None,
        )
        assert harness.app.snapshot.budget == Budget(Decimal("250.50"))
        assert "Saved: $250.50 a month" in shown(harness.app, "#form-status")
        # The digits went into the field; Escape gives the tab keys back.
        await pilot.press("escape", "1")
        assert "of $250.50" in shown(harness.app, "#spend-text")

    # A restart reads it back into the form.
    again = Harness(demo_settings(tmp_path), Clock())
    async with again.run() as pilot:
        await again.settle(pilot, lambda: again.app.snapshot is not None)
        assert again.app.query_one("#field-amount", Input).value == "250.50"
        assert again.app.query_one("#field-thresholds", Input).value == "50, 75, 90"


async def test_the_form_saves_every_field_and_shows_thresholds_and_projects(
    tmp_path,
):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        await pilot.press("3")
        await fill(
            pilot,
            harness.app,
            amount="1200",
            thresholds="90 25",
            start_day="15",
            zone="Asia/Tokyo",
            projects="proj_demo=40",
        )
        await pilot.click("#save")
        await harness.settle(pilot, lambda: harness.app.snapshot.budget is not None)
        status = shown(harness.app, "#period-status")
    assert Store(tmp_path).budget() == {
        "amount_usd": "1200.00",
        "start_day": 15,
        "timezone": "Asia/Tokyo",
        "thresholds": [25, 90],
        "projects": {"proj_demo": "40.00"},
    }
    assert "Sun 15 Nov 00:00 → Tue 15 Dec 00:00 (Asia/Tokyo)" in status
    assert "○ 25% $300.00 · ○ 90% $1,080.00 · ○ 100% $1,200.00" in status
    assert "proj_demo" in status and "of $40.00" in status


async def test_a_budget_set_elsewhere_fills_the_form_unless_it_is_being_edited(
    tmp_path,
):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        await pilot.press("3")
        Store(tmp_path).set_budget(Budget(Decimal(70)).to_record())
        await harness.settle(pilot, lambda: harness.app.snapshot.budget is not None)
        amount = harness.app.query_one("#field-amount", Input)
        assert amount.value == "70.00"

        await fill(pilot, harness.app, amount="80")
        Store(tmp_path).set_budget(Budget(Decimal(90)).to_record())
        await harness.settle(
            pilot, lambda: harness.app.snapshot.budget.amount_usd == 90
        )
        assert amount.value == "80", "what the user is typing is kept"
        await pilot.click("#undo")
        await pilot.pause()
        assert amount.value == "90.00"


async def test_removing_the_budget_takes_a_second_press(tmp_path):
    Store(tmp_path).set_budget(Budget(Decimal(70)).to_record())
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        await pilot.press("3")
        await pilot.click("#remove")
        await pilot.pause()
        assert "Press Remove budget again" in shown(harness.app, "#form-status")
        assert Store(tmp_path).budget() is not None
        await pilot.pause(0.3)  # a button ignores clicks while it shows a press
        await pilot.click("#remove")
        await harness.settle(pilot, lambda: harness.app.snapshot.budget is None)
        assert Store(tmp_path).budget() is None
        assert "no budget set" in shown(harness.app, "#period-status")


async def test_an_alert_reaches_toast_bell_log_and_webhook_once(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)  # $3.41 this period
    Store(tmp_path).set_budget(Budget(Decimal(5)).to_record())  # 68.2 %
    with WebhookServer() as webhook:
        settings = webhook_settings(api_server, tmp_path, webhook, bell=True)
        harness = Harness(settings, Clock())
        bells = []
        harness.app.bell = lambda: bells.append(1)
        async with harness.run() as pilot:
            await harness.sync(pilot)
            await harness.sync(pilot)  # a second sync fires nothing new
            assert webhook.wait_for_requests(1)
            await pilot.press("3")
            log = shown(harness.app, "#alert-log")

        alert_toasts = [t for t in harness.toasts if "budget" in t[0]]
        assert alert_toasts == [
            (
                "Monthly budget 50% reached",
                "$3.41 of $5.00 spent this period; forecast $28.99 by period end.",
                "warning",
            )
        ]
        assert bells == [1]
        assert "Monthly budget 50% reached — $3.41 of $5.00 spent" in log
        [request] = webhook.requests
        assert request.json() == slack_payload(
            Notice(
                "Monthly budget 50% reached",
                "$3.41 of $5.00 spent this period; forecast $28.99 by period end.",
                "warning",
            )
        )


async def test_a_webhook_that_hangs_does_not_stall_the_app(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    Store(tmp_path).set_budget(Budget(Decimal(3)).to_record())  # over budget
    with WebhookServer() as webhook:
        webhook.hang(times=10)
        settings = webhook_settings(api_server, tmp_path, webhook)
        harness = Harness(settings, Clock())
        async with harness.run() as pilot:
            await harness.sync(pilot)
            assert webhook.wait_for_requests(1)
            # The request hangs; the app goes on syncing and drawing.
            refreshed = await harness.sync(pilot)
            assert refreshed.sync_error is None
            assert ("Monthly budget reached") in [t[0] for t in harness.toasts]


async def test_demo_alerts_stay_on_screen(tmp_path):
    Store(tmp_path).set_budget(Budget(Decimal("0.01")).to_record())
    with WebhookServer() as webhook:
        settings = demo_settings(tmp_path, webhook_url=webhook.url)
        harness = Harness(settings, Clock())
        async with harness.run() as pilot:
            await harness.sync(pilot)
            assert "Monthly budget reached" in [t[0] for t in harness.toasts]
        assert webhook.requests == []


async def test_a_webhook_that_refuses_the_alert_says_so_on_screen(api_server, tmp_path):
    api_server.set_records(HAND_COMPUTED)
    Store(tmp_path).set_budget(Budget(Decimal(3)).to_record())
    with WebhookServer() as webhook:
        webhook.answer(404, "no_service")
        settings = webhook_settings(api_server, tmp_path, webhook)
        harness = Harness(settings, Clock())
        async with harness.run() as pilot:
            await harness.sync(pilot)
            await harness.settle(
                pilot,
                lambda: any(t[0] == "The alert webhook failed" for t in harness.toasts),
            )
        [failure] = [t for t in harness.toasts if t[0] == "The alert webhook failed"]
        assert "Monthly budget reached" in failure[1] and "404" in failure[1]
        assert webhook.path not in failure[1]


async def test_tab_reaches_the_first_field_so_digits_are_typed_not_tab_switches(
    tmp_path,
):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        await pilot.press("3", "tab", *"200")
        tabs = harness.app.query_one("TabbedContent")
        assert tabs.active == "budget"
        assert harness.app.query_one("#field-amount", Input).value == "200"
        await pilot.press("enter")
        await harness.settle(pilot, lambda: harness.app.snapshot.budget is not None)
        # After saving, typing goes on at the end of the amount, not before .00
        await pilot.press("backspace", "backspace", *"50")
        assert harness.app.query_one("#field-amount", Input).value == "200.50"


async def test_a_budget_changed_elsewhere_while_editing_is_said_once(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        await pilot.press("3")
        await fill(pilot, harness.app, amount="80")
        await fill(pilot, harness.app, amount="")  # typed and deleted: not edited
        Store(tmp_path).set_budget(Budget(Decimal(90)).to_record())
        await harness.settle(pilot, lambda: harness.app.snapshot.budget is not None)
        assert harness.app.query_one("#field-amount", Input).value == "90.00"

        await fill(pilot, harness.app, amount="95")
        Store(tmp_path).set_budget(Budget(Decimal(70)).to_record())
        await harness.settle(
            pilot, lambda: harness.app.snapshot.budget.amount_usd == 70
        )
        status = shown(harness.app, "#form-status")
        assert "The budget was set to $70.00 a month" in status
        assert "Save replaces it" in status


async def test_after_a_refused_save_every_edit_says_at_once_if_its_field_is_right(
    tmp_path,
):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await pilot.press("3")
        await fill(pilot, harness.app, **{**GOOD, "thresholds": "50,50"})
        await pilot.click("#save")
        await pilot.pause()
        assert list(errors(harness.app)) == ["thresholds"]
        await fill(pilot, harness.app, thresholds="50")
        assert errors(harness.app) == {}
        # Going on typing into a wrong value marks it again, without a save.
        await fill(pilot, harness.app, thresholds="50,50", start_day="29")
        assert set(errors(harness.app)) == {"thresholds", "start-day"}


async def test_a_snapshot_of_the_forms_own_save_arriving_first_is_not_elsewhere(
    tmp_path,
):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        await pilot.press("3")
        view = harness.app.query_one(BudgetView)
        # A refused save first, so the status line is showing.
        await pilot.click("#field-amount")
        await pilot.press(*"abc", "enter")
        assert "Nothing was saved" in shown(harness.app, "#form-status")
        saving = Budget(Decimal(250))
        # The save is on its way; a refresh that already read it lands first.
        view._saving.append(saving)
        view.snapshot = dataclasses.replace(harness.app.snapshot, budget=saving)
        await pilot.pause()
        assert "elsewhere" not in shown(harness.app, "#form-status")


async def test_a_project_typed_by_name_is_saved_by_id_and_shown_by_name(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.sync(pilot)  # the demo names its projects
        await pilot.press("3")
        await fill(pilot, harness.app, amount="500", projects="Web app=300")
        await pilot.click("#save")
        await harness.settle(
            pilot, lambda: "Saved" in shown(harness.app, "#form-status")
        )
        await harness.settle(pilot, lambda: harness.app.snapshot.budget is not None)
        assert harness.app.snapshot.budget.projects == (
            ("proj_demo_webapp", Decimal(300)),
        )
        projects = harness.app.query_one("#field-projects", Input)
        assert projects.value == "Web app=300.00"
        assert "elsewhere" not in shown(harness.app, "#form-status")


async def test_a_snapshot_read_before_the_forms_save_does_not_undo_it(tmp_path):
    harness = Harness(demo_settings(tmp_path), Clock())
    async with harness.run() as pilot:
        await harness.settle(pilot, lambda: harness.app.snapshot is not None)
        await pilot.press("3")
        before = harness.app.snapshot  # read before any budget was saved
        await fill(pilot, harness.app, amount="250")
        await pilot.click("#save")
        await harness.settle(
            pilot, lambda: "Saved" in shown(harness.app, "#form-status")
        )
        view = harness.app.query_one(BudgetView)
        earlier = before.report.now - timedelta(seconds=1)
        view.snapshot = dataclasses.replace(
            before, report=dataclasses.replace(before.report, now=earlier)
        )
        await pilot.pause()
        assert harness.app.query_one("#field-amount", Input).value == "250.00"
        assert "elsewhere" not in shown(harness.app, "#form-status")
