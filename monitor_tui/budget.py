"""The monthly budget: its amount, alert thresholds, the day its billing period
starts, its zone, and optional budgets for single projects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor_tui.period import BillingPeriod, billing_period

MIN_BUDGET_USD = Decimal("0.01")
MAX_BUDGET_USD = Decimal("10000000")
CENT = Decimal("0.01")

THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")
"""An amount written with thousands separators, such as 1,250.50."""

DEFAULT_THRESHOLDS = (50, 75, 90)
"""Percentages of the budget at which an alert fires, unless the user sets others."""
MAX_THRESHOLDS = 10


class BudgetError(ValueError):
    """A budget value is unusable; the message says what is expected."""


def parse_amount(text: str) -> Decimal:
    """Read a budget in dollars, such as ``100`` or ``250.50``.

    Raises:
        BudgetError: not a plain amount of dollars and cents within range.
    """
    if not text.strip():
        raise BudgetError("enter an amount in dollars, such as 100 or 250.50")
    plain = text.strip().removeprefix("$")
    if "," in plain:
        # Only as thousands separators: "1,5" is not fifteen dollars.
        if not THOUSANDS.fullmatch(plain):
            raise BudgetError(
                f"{text.strip()!r} is not an amount; commas only separate "
                "thousands, and cents follow a dot: 1,250.50"
            )
        plain = plain.replace(",", "")
    try:
        amount = Decimal(plain)
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise BudgetError(
            f"{text!r} is not an amount; give dollars such as 100 or 250.50"
        ) from None
    if not MIN_BUDGET_USD <= amount <= MAX_BUDGET_USD:
        raise BudgetError(
            f"{text.strip()} is out of range; the budget is from ${MIN_BUDGET_USD} "
            f"to ${MAX_BUDGET_USD:,.2f}"
        )
    if amount != amount.quantize(CENT):
        raise BudgetError(f"{text} has fractions of a cent; give at most 2 decimals")
    return amount.quantize(CENT)


def parse_thresholds(text: str) -> tuple[int, ...]:
    """Read alert thresholds such as ``50,75,90``: whole percentages of the budget.

    Raises:
        BudgetError: empty, not whole numbers from 1 to 100, or one repeated.
    """
    parts = [
        part.strip().removesuffix("%") for part in text.replace(" ", ",").split(",")
    ]
    parts = [part for part in parts if part]
    if not parts:
        raise BudgetError("give at least one threshold, such as 50,75,90")
    values = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= 100:
            raise BudgetError(
                f"{part!r} is not a whole percentage from 1 to 100; "
                "give thresholds such as 50,75,90"
            )
        values.append(int(part))
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise BudgetError(f"{repeated[0]}% is given twice; give each threshold once")
    if len(values) > MAX_THRESHOLDS:
        raise BudgetError(f"give at most {MAX_THRESHOLDS} thresholds")
    return tuple(sorted(values))


def parse_project_budgets(text: str) -> tuple[tuple[str, Decimal], ...]:
    """Read per-project budgets such as ``proj_abc=50, Web app=120``: each
    project by its id or its name (``resolve_project_names`` turns names into
    ids).

    Raises:
        BudgetError: an entry is not ``PROJECT=AMOUNT``, an amount is not a
            budget, or a project is given twice.
    """
    budgets: dict[str, Decimal] = {}
    for entry in text.replace(";", ",").replace("\n", ",").split(","):
        if not entry.strip():
            continue
        project, sep, amount = entry.partition("=")
        project = " ".join(project.split())
        if not sep or not project:
            raise BudgetError(
                f"{entry.strip()!r} is not PROJECT=AMOUNT, such as proj_abc=50 or "
                "Web app=50"
            )
        if project in budgets:
            raise BudgetError(f"{project} is given twice; give each project once")
        try:
            budgets[project] = parse_amount(amount)
        except BudgetError as exc:
            raise BudgetError(f"{project}: {exc}") from None
    return tuple(budgets.items())


PROJECT_ID_PREFIX = "proj_"


def resolve_project_names(
    budgets: tuple[tuple[str, Decimal], ...], project_names: Mapping[str, str]
) -> tuple[tuple[str, Decimal], ...]:
    """Turn the projects of ``budgets`` given by name into their ids.

    Args:
        budgets: what ``parse_project_budgets`` read.
        project_names: the known projects' names by id.

    Raises:
        BudgetError: a name matches no known project, or several; or one
            project is given twice (by its id and its name).
    """
    by_name: dict[str, list[str]] = {}
    for project_id, name in project_names.items():
        by_name.setdefault(" ".join(name.split()).casefold(), []).append(project_id)
    resolved: dict[str, Decimal] = {}
    for project, amount in budgets:
        if project in project_names or project.startswith(PROJECT_ID_PREFIX):
            project_id = project  # an id, known or not yet
        else:
            ids = by_name.get(project.casefold(), [])
            if not ids:
                raise BudgetError(
                    f"no project named {project!r} is known; give its id "
                    "(proj_...) or a name as Analytics shows it"
                )
            if len(ids) > 1:
                raise BudgetError(
                    f"{len(ids)} projects are named {project!r}; give the id of "
                    f"the one you mean ({', '.join(sorted(ids))})"
                )
            project_id = ids[0]
        if project_id in resolved:
            raise BudgetError(f"{project} is given twice; give each project once")
        resolved[project_id] = amount
    return tuple(resolved.items())


def format_project_budgets(
    budgets: tuple[tuple[str, Decimal], ...],
    project_names: Mapping[str, str] | None = None,
) -> str:
    """The text ``parse_project_budgets`` reads back: ``Web app=50.00, ...``,
    each project by its name where that name reads back to it alone, else by
    its id."""
    names = project_names or {}
    counts: dict[str, int] = {}
    for name in names.values():
        key = " ".join(name.split()).casefold()
        counts[key] = counts.get(key, 0) + 1

    def shown(project: str) -> str:
        name = " ".join(names.get(project, "").split())
        readable = (
            name
            and not any(mark in name for mark in ",;=")
            and not name.startswith(PROJECT_ID_PREFIX)
            and counts.get(name.casefold()) == 1
        )
        return name if readable else project

    return ", ".join(f"{shown(project)}={amount}" for project, amount in budgets)


def check_start_day(day: int) -> int:
    """Return ``day`` if a period can start on it in every month (1 to 28)."""
    if not 1 <= day <= 28:
        raise BudgetError(f"{day} is not a day from 1 to 28")
    return day


def check_zone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BudgetError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Paris'"
        ) from None
    return name


@dataclass(frozen=True)
class Budget:
    """A monthly budget in US dollars."""

    amount_usd: Decimal
    start_day: int = 1
    """The day of the month the billing period starts, 1 to 28."""
    timezone: str = "UTC"
    """The zone whose midnight starts the period; fixed when the budget is set."""
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    """Percentages of the budget at which an alert fires, ascending."""
    projects: tuple[tuple[str, Decimal], ...] = ()
    """Budgets of single projects: (project id, dollars a month), each alerted on
    at the same thresholds."""

    def period(self, now: datetime) -> BillingPeriod:
        """The billing period of this budget that contains ``now``."""
        return billing_period(now, self.start_day, ZoneInfo(self.timezone))

    def to_record(self) -> dict[str, Any]:
        """The budget as the store keeps it."""
        return {
            "amount_usd": str(self.amount_usd),
            "start_day": self.start_day,
            "timezone": self.timezone,
            "thresholds": list(self.thresholds),
            "projects": {project: str(amount) for project, amount in self.projects},
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Budget:
        """Read a stored budget, refusing one that was damaged.

        Raises:
            BudgetError: a field is missing or invalid.
        """
        try:
            start_day = record.get("start_day", 1)
            if isinstance(start_day, bool) or not isinstance(start_day, int):
                raise BudgetError(f"start day {start_day!r} is not a number")
            thresholds = record.get("thresholds", list(DEFAULT_THRESHOLDS))
            if not isinstance(thresholds, list) or not all(
                type(value) is int for value in thresholds
            ):
                raise BudgetError(f"thresholds {thresholds!r} are not percentages")
            projects = record.get("projects") or {}
            if not isinstance(projects, dict):
                raise BudgetError("the project budgets are not a table")
            return cls(
                amount_usd=parse_amount(str(record["amount_usd"])),
                start_day=check_start_day(start_day),
                timezone=check_zone(str(record.get("timezone") or "UTC")),
                thresholds=parse_thresholds(",".join(map(str, thresholds))),
                projects=tuple(
                    (str(project), parse_amount(str(amount)))
                    for project, amount in projects.items()
                ),
            )
        except (KeyError, BudgetError) as exc:
            raise BudgetError(
                f"the stored budget is damaged ({exc}); set it again with "
                "`monitor-tui budget set AMOUNT`"
            ) from None

    def threshold_usd(self, percent: int, amount: Decimal | None = None) -> Decimal:
        """The dollars at which ``percent`` of the budget (or of ``amount``) is
        reached."""
        return (amount or self.amount_usd) * percent / 100

    def describe(self) -> str:
        """One line for a person: the amount, the period, the thresholds."""
        text = (
            f"${self.amount_usd:,.2f} a month, periods starting on day "
            f"{self.start_day} at midnight {self.timezone}; alerts at "
            + ", ".join(f"{value}%" for value in self.thresholds)
        )
        if self.projects:
            text += "; projects: " + ", ".join(
                f"{project} ${amount:,.2f}" for project, amount in self.projects
            )
        return text
