"""The monthly budget: its amount, the day its billing period starts, its zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor_tui.period import BillingPeriod, billing_period

MIN_BUDGET_USD = Decimal("0.01")
MAX_BUDGET_USD = Decimal("10000000")
CENT = Decimal("0.01")


class BudgetError(ValueError):
    """A budget value is unusable; the message says what is expected."""


def parse_amount(text: str) -> Decimal:
    """Read a budget in dollars, such as ``100`` or ``250.50``.

    Raises:
        BudgetError: not a plain amount of dollars and cents within range.
    """
    try:
        amount = Decimal(text.strip())
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise BudgetError(
            f"{text!r} is not an amount; give dollars such as 100 or 250.50"
        ) from None
    if not MIN_BUDGET_USD <= amount <= MAX_BUDGET_USD:
        raise BudgetError(
            f"{text} is out of range; the budget is from ${MIN_BUDGET_USD} to "
            f"${MAX_BUDGET_USD:,.2f}"
        )
    if amount != amount.quantize(CENT):
        raise BudgetError(f"{text} has fractions of a cent; give at most 2 decimals")
    return amount.quantize(CENT)


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

    def period(self, now: datetime) -> BillingPeriod:
        """The billing period of this budget that contains ``now``."""
        return billing_period(now, self.start_day, ZoneInfo(self.timezone))

    def to_record(self) -> dict[str, Any]:
        """The budget as the store keeps it."""
        return {
            "amount_usd": str(self.amount_usd),
            "start_day": self.start_day,
            "timezone": self.timezone,
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
            return cls(
                amount_usd=parse_amount(str(record["amount_usd"])),
                start_day=check_start_day(start_day),
                timezone=check_zone(str(record.get("timezone") or "UTC")),
            )
        except (KeyError, BudgetError) as exc:
            raise BudgetError(
                f"the stored budget is damaged ({exc}); set it again with "
                "`monitor-tui budget set AMOUNT`"
            ) from None

    def describe(self) -> str:
        """One line for a person: ``$250.50 a month from day 15 (Europe/Paris)``."""
        return (
            f"${self.amount_usd:,.2f} a month, periods starting on day "
            f"{self.start_day} at midnight {self.timezone}"
        )
