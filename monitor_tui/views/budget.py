"""The Budget tab: the form that sets the budget and its alerts, where the period
will land, which thresholds have fired, and the log of alerts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Input, Label, Static

from monitor_tui.budget import (
    DEFAULT_THRESHOLDS,
    Budget,
    BudgetError,
    check_start_day,
    check_zone,
    format_project_budgets,
    parse_amount,
    parse_project_budgets,
    parse_thresholds,
    resolve_project_names,
)
from monitor_tui.config import Settings
from monitor_tui.money import screen_money, screen_percent
from monitor_tui.report_text import printable, short_name
from monitor_tui.snapshot import Snapshot
from monitor_tui.store import Store
from monitor_tui.views.forms import mark_field, say
from monitor_tui.views.live import span

FIELDS = {
    "amount": ("Monthly budget (USD)", "such as 500 or 1250.50"),
    "thresholds": ("Alert at (% of budget)", "such as 50, 75, 90"),
    "start-day": ("Period starts on day", "1 to 28"),
    "zone": ("Budget time zone", "an IANA name, such as Europe/Paris"),
    "projects": ("Project budgets", "optional: Web app=50, proj_def=120"),
}

EARLY_HOURS = 24
"""Before this much of the period has passed, the forecast is marked as early."""

CONFIRM_SECONDS = 5
"""How long a first press of Remove budget waits for the second."""


def _start_day(text: str) -> int:
    if not text.strip():
        raise BudgetError("give a day from 1 to 28")
    if not text.strip().isdigit():
        raise BudgetError(f"{text.strip()!r} is not a day from 1 to 28")
    return check_start_day(int(text))


def _zone(text: str) -> str:
    if not text.strip():
        raise BudgetError("give a time zone, such as UTC or Europe/Paris")
    return check_zone(text.strip())


PARSERS: dict[str, Callable[[str], object]] = {
    "amount": parse_amount,
    "thresholds": parse_thresholds,
    "start-day": _start_day,
    "zone": _zone,
    "projects": parse_project_budgets,
}


def read_form(
    values: dict[str, str], project_names: Mapping[str, str] | None = None
) -> tuple[Budget | None, dict[str, str]]:
    """Read the form's fields into a budget, or say what is wrong with each;
    projects given by name become their ids (``project_names``: names by id).

    Returns:
        The budget when every field is valid (else None), and the error of each
        invalid field by field name.
    """
    errors: dict[str, str] = {}

    def field(name: str) -> Any:
        try:
            return PARSERS[name](values.get(name, ""))
        except BudgetError as exc:
            errors[name] = str(exc)
            return None

    projects = field("projects")
    if projects is not None:
        try:
            projects = resolve_project_names(projects, project_names or {})
        except BudgetError as exc:
            errors["projects"] = str(exc)
    budget = Budget(
        amount_usd=field("amount"),
        thresholds=field("thresholds"),
        start_day=field("start-day"),
        timezone=field("zone"),
        projects=projects,
    )
    return (None, errors) if errors else (budget, {})


def form_values(
    budget: Budget | None,
    default_zone: str,
    project_names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The form's fields for ``budget``; defaults when there is none. Projects
    show by name where ``project_names`` has a name that reads back to them."""
    if budget is None:
        return {
            "amount": "",
            "thresholds": ", ".join(map(str, DEFAULT_THRESHOLDS)),
            "start-day": "1",
            "zone": default_zone,
            "projects": "",
        }
    return {
        "amount": f"{budget.amount_usd}",
        "thresholds": ", ".join(map(str, budget.thresholds)),
        "start-day": str(budget.start_day),
        "zone": budget.timezone,
        "projects": format_project_budgets(budget.projects, project_names),
    }


class BudgetView(VerticalScroll):
    """Set the budget; see the forecast, the thresholds and the alerts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    snapshot: reactive[Snapshot | None] = reactive(None)
    """The figures to show; None until the store has been read."""
    store_problem: reactive[str | None] = reactive(None)
    """Why the store or the budget could not be read, if they could not."""
    problem: reactive[str | None] = reactive(None)
    """Why this session's last sync failed, if it did."""

    class Saved(Message):
        """The budget in the store changed; the app reads the store again."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.settings = settings
        self.clock = clock
        self._shown_budget: Budget | None = None
        """The stored budget the form was last filled from."""
        self._noticed: Budget | None = None
        """A budget set elsewhere while the form was being edited, once said."""
        self._filled_names: dict[str, str] = {}
        self._written_at: datetime | None = None
        """When this form last saved: a snapshot read before it is stale."""
        self._saving: list[Budget | None] = []
        """Budgets this form is writing: a snapshot that already holds one is
        this form's own save, not a change made elsewhere."""
        self._checking = False
        """True after a refused save: every edit then says at once whether its
        field is right, until a save succeeds."""
        self._confirm_remove = False

    def compose(self) -> ComposeResult:
        with Vertical(id="budget-form"):
            yield Label("Budget and alerts", classes="section-title")
            for name, (label, placeholder) in FIELDS.items():
                with Horizontal(classes="field"):
                    yield Label(label, classes="field-label")
                    yield Input(
                        placeholder=placeholder, id=f"field-{name}", compact=True
                    )
                yield Static(id=f"error-{name}", classes="field-error", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Undo changes", id="undo", compact=True)
                yield Button(
                    "Remove budget", id="remove", variant="error", compact=True
                )
            yield Static(id="form-status", markup=False)
        yield Label("This period", classes="section-title")
        yield Static(id="period-status")
        yield Label("Alert log", classes="section-title")
        yield Static(id="alert-log")

    def on_mount(self) -> None:
        self._fill_form(None)
        self._say("")
        self._show()
        # The age of the data moves between syncs; redrawn while shown.
        self.set_interval(1, self._tick)

    def _tick(self) -> None:
        if self.is_on_screen:
            self._show()

    def watch_snapshot(self) -> None:
        self._show()

    def watch_store_problem(self) -> None:
        self._show()

    def watch_problem(self) -> None:
        self._show()

    # The form

    def _inputs(self) -> dict[str, Input]:
        return {name: self.query_one(f"#field-{name}", Input) for name in FIELDS}

    def _project_names(self) -> dict[str, str]:
        """The known projects' names by id, from the last read of the store."""
        if self.snapshot is None:
            return {}
        names = self.snapshot.report.names
        return {project_id: p.name for project_id, p in names.projects.items()}

    def _fill_form(self, budget: Budget | None) -> None:
        # The names the form was filled with: names read later must not make
        # an untouched form look edited.
        self._filled_names = self._project_names()
        values = form_values(budget, self.settings.timezone, self._filled_names)
        with self.prevent(Input.Changed):
            for name, field in self._inputs().items():
                field.value = values[name]
                field.cursor_position = len(field.value)
        self._shown_budget = budget
        self._noticed = None
        self._show_errors({})

    @property
    def edited(self) -> bool:
        """True when the fields differ from the budget they were filled from."""
        shown = form_values(
            self._shown_budget, self.settings.timezone, self._filled_names
        )
        return {name: f.value for name, f in self._inputs().items()} != shown

    def _mark(self, name: str, error: str | None) -> None:
        mark_field(
            self.query_one(f"#error-{name}", Static),
            self.query_one(f"#field-{name}", Input),
            error,
        )

    def _show_errors(self, errors: dict[str, str]) -> None:
        for name in FIELDS:
            self._mark(name, errors.get(name))

    def _say(self, text: str, *, problem: bool = False) -> None:
        say(self.query_one("#form-status", Static), text, problem=problem)

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        self._confirm_remove = False
        name = (event.input.id or "").removeprefix("field-")
        if name not in PARSERS or not self._checking:
            return
        # After a refused save, a field being fixed says what is still wrong,
        # and loses its mark as soon as it is right.
        try:
            PARSERS[name](event.value)
        except BudgetError as exc:
            self._mark(name, str(exc))
            return
        self._mark(name, None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        """Save the form if every field is valid; else say what to fix."""
        values = {name: field.value for name, field in self._inputs().items()}
        budget, errors = read_form(values, self._project_names())
        self._show_errors(errors)
        self._checking = budget is None
        if budget is None:
            count = len(errors)
            self._say(
                f"Nothing was saved: fix the {count} field{'s' * (count > 1)} "
                "marked ✗.",
                problem=True,
            )
            return
        self._saving.append(budget)
        self._write(budget)

    @on(Button.Pressed, "#undo")
    def undo(self) -> None:
        """Put back the budget as it is stored."""
        self._fill_form(self.snapshot.budget if self.snapshot else None)
        self._say("The form shows the stored budget again.")

    @on(Button.Pressed, "#remove")
    def remove(self) -> None:
        """Remove the budget, after a second press to confirm."""
        if self.snapshot is None or self.snapshot.budget is None:
            self._say("No budget is set; there is nothing to remove.")
            return
        if not self._confirm_remove:
            self._confirm_remove = True
            self._say(
                "Press Remove budget again within 5 seconds to remove it; no alert "
                "fires without one.",
                problem=True,
            )
            self.set_timer(CONFIRM_SECONDS, self._forget_remove)
            return
        self._confirm_remove = False
        self._saving.append(None)
        self._write(None)

    def _forget_remove(self) -> None:
        if self._confirm_remove:
            self._confirm_remove = False
            self._say("")

    def action_leave_field(self) -> None:
        """Leave the field being edited, so the tab keys work again."""
        self.focus()

    @work(thread=True, exclusive=True, group="budget-write")
    def _write(self, budget: Budget | None) -> None:
        # The store takes a file lock another process may hold for a moment.
        store = Store(self.settings.data_dir)
        try:
            if budget is None:
                store.clear_budget()
            else:
                store.set_budget(budget.to_record())
        except Exception as exc:  # the form must say why, whatever it was
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            self.app.call_from_thread(self._not_written, budget, reason)
            return
        self.app.call_from_thread(self._written, budget)

    def _written(self, budget: Budget | None) -> None:
        if budget in self._saving:
            self._saving.remove(budget)
        self._written_at = self.clock()
        self._fill_form(budget)
        if budget is None:
            self._say("Budget removed.")
        else:
            self._say(f"Saved: {budget.describe()}.")
        self.post_message(self.Saved())

    def _not_written(self, budget: Budget | None, reason: str) -> None:
        if budget in self._saving:
            self._saving.remove(budget)
        self._say(f"Nothing was saved: {printable(reason)}", problem=True)

    def _changed_elsewhere(self, stored: Budget | None) -> None:
        """Show a budget set elsewhere (the command line, another window),
        unless the user is editing the form; then say so once."""
        now = "removed" if stored is None else f"set to {stored.describe()}"
        if not self.edited:
            self._fill_form(stored)
            self._say(f"The budget was {now} elsewhere." if self._said() else "")
        elif stored != self._noticed:
            self._noticed = stored
            self._say(
                f"The budget was {now} elsewhere. Save replaces it with this form; "
                "Undo changes shows it.",
                problem=True,
            )

    def _said(self) -> bool:
        return bool(self.query_one("#form-status", Static).display)

    # The period and the log

    def _show(self) -> None:
        if not self.is_mounted:
            return
        snapshot = self.snapshot
        stored = snapshot.budget if snapshot else None
        # A snapshot read just after this form's own save can arrive before the
        # save's confirmation, and one read just before it after: neither is a
        # change made elsewhere.
        stale = (
            snapshot is not None
            and self._written_at is not None
            and snapshot.report.now < self._written_at
        )
        if stored != self._shown_budget and stored not in self._saving and not stale:
            self._changed_elsewhere(stored)
        elif (
            stored is not None
            and stored.projects
            and not self.edited
            and self._project_names() != self._filled_names
        ):
            self._fill_form(stored)  # names read since: show projects by name
        status = self.query_one("#period-status", Static)
        log = self.query_one("#alert-log", Static)
        if snapshot is None:
            status.update(
                "The store could not be read." if self.store_problem else "Reading…"
            )
            log.update("")
            return
        status.update(self._period(snapshot))
        log.update(self._log(snapshot))

    def _period(self, snapshot: Snapshot) -> Table:
        report = snapshot.report
        period = report.period
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row("Data", self._freshness(snapshot))
        start, end = period.local(period.start), period.local(period.end)
        grid.add_row(
            "Period",
            f"{start:%a %d %b %H:%M} → {end:%a %d %b %H:%M} ({period.zone.key}), "
            f"{span(period.end - snapshot.now)} left",
        )
        budget = snapshot.budget
        spent = screen_money(report.spend_usd)
        if report.spend_is_lower_bound:
            spent = f"at least {spent}"
        if budget is None:
            grid.add_row("Spent", f"{spent}; no budget set, so no alerts fire")
        else:
            share = screen_percent(report.spend_usd / budget.amount_usd * 100)
            grid.add_row(
                "Spent", f"{spent} of {screen_money(budget.amount_usd)} ({share})"
            )
        grid.add_row("Forecast", self._forecast(snapshot))
        if budget is not None:
            grid.add_row("Crossing", self._crossing(snapshot))
            grid.add_row("Thresholds", self._thresholds(snapshot, budget))
            for project, amount in budget.projects:
                spend = dict(report.project_spend).get(project, Decimal(0))
                grid.add_row(
                    Text(
                        short_name(report.names.project_label(project), 20),
                        style="bold",
                    ),
                    f"{screen_money(spend)} of {screen_money(amount)} "
                    f"({screen_percent(spend / amount * 100)})",
                )
        return grid

    def _freshness(self, snapshot: Snapshot) -> Text:
        """How old the figures below are, as alerts and forecasts depend on it."""
        last_ok = snapshot.sync.last_ok_at
        if last_ok is None:
            return Text("not synced yet", style="bold")
        age = self.clock() - last_ok
        when = last_ok.astimezone(snapshot.zone)
        text = Text(f"as of {when:%d %b %H:%M} ({span(age)} ago)")
        if age > timedelta(minutes=self.settings.stale_after_minutes):
            text.append(" · STALE", style="bold")
        if self.problem or snapshot.sync.error:
            text.append(" · the last sync failed (see Live)", style="bold")
        return text

    def _forecast(self, snapshot: Snapshot) -> str:
        report = snapshot.report
        text = (
            f"{screen_money(report.forecast_usd)} at period end at the pace so far "
            f"· {screen_money(report.forecast_recent_usd)} at the last 24 hours' "
            "pace"
        )
        elapsed = snapshot.now - report.period.start
        if elapsed < timedelta(hours=EARLY_HOURS):
            # A few hours of a month say little about the rest of it.
            text += f" (early: {span(elapsed)} into the period)"
        return text

    def _crossing(self, snapshot: Snapshot) -> str:
        report = snapshot.report
        crossing = report.budget_crossing_at
        if crossing is None:
            return "not before the period ends, at the pace so far"
        if report.budget_usd is not None and report.spend_usd >= report.budget_usd:
            return "the budget is spent"
        when = crossing.astimezone(snapshot.zone)
        return f"{when:%a %d %b %H:%M %Z}, at the pace so far"

    @staticmethod
    def _thresholds(snapshot: Snapshot, budget: Budget) -> Text:
        text = Text()
        for percent in sorted({*budget.thresholds, 100}):
            if text:
                text.append(" · ")
            crossed = f"budget:{percent}" in snapshot.fired
            mark = "✓" if crossed else "○"
            text.append(
                f"{mark} {percent}% {screen_money(budget.threshold_usd(percent))}",
                style="bold" if crossed else "",
            )
        return text

    @staticmethod
    def _log(snapshot: Snapshot) -> Table | str:
        if not snapshot.alerts:
            return "No alert has fired yet."
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column()
        for alert in snapshot.alerts[:20]:
            when = alert.at.astimezone(snapshot.zone)
            style = "bold red" if alert.severity == "critical" else "bold"
            table.add_row(
                f"{when:%d %b %H:%M}",
                Text.assemble(
                    (printable(alert.title), style), " — ", printable(alert.text)
                ),
            )
        return table
