"""Money as text: six decimal places in JSON, two on screen (four below a dollar)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

JSON_PLACES = Decimal("0.000001")


def json_money(amount: Decimal | None) -> str | None:
    """Return ``amount`` as the report's JSON writes money: ``"12.837950"``."""
    if amount is None:
        return None
    return str(amount.quantize(JSON_PLACES, rounding=ROUND_HALF_UP))


def screen_money(amount: Decimal | None) -> str:
    """Return ``amount`` for a person: ``$12.84``, ``$0.0042``, ``$0.00`` for nothing,
    ``—`` if unknown."""
    if amount is None:
        return "—"
    if not amount:
        return "$0.00"
    places = Decimal("0.01") if abs(amount) >= 1 else Decimal("0.0001")
    shown = abs(amount).quantize(places, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 and shown else ""
    return f"{sign}${shown:,}"


def screen_percent(share: Decimal) -> str:
    """Return a share for a person, rounded half up: ``17.05`` gives ``17.1%``."""
    return f"{share.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
