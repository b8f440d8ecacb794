"""The Analytics tab's figures as short text: counts, rates, costs and changes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from monitor_tui.analytics import BreakdownLine, Change, HourSlot
from monitor_tui.money import screen_money, screen_percent
from monitor_tui.report_text import compact_count


def count_text(count: Decimal | int) -> str:
    """A count in at most 7 characters: ``253.33M``."""
    return compact_count(int(count))


def rate_text(rate: Decimal | None) -> str:
    """A percentage, or ``—`` when there is none."""
    return "—" if rate is None else screen_percent(rate)


def cost_text(line: BreakdownLine) -> str:
    """A line's cost: ``$12.84``, ``≥ $12.84`` when some of it has no price,
    ``no price`` when none of it has, ``free`` when all of it is free, and a
    ``*`` when some of it is priced at the user's ``[prices]`` rates."""
    if line.unpriced and not line.cost_usd:
        return "no price"
    if line.free:
        return "free"
    mark = " *" if line.overridden else ""
    return ("≥ " if line.unpriced else "") + screen_money(line.cost_usd) + mark


def change_text(change: Change) -> str:
    """``+12.3%``, ``-4.0%``, ``new`` or ``—`` for a figure against the one before."""
    if change.percent is None:
        return "new" if change.value else "—"
    sign = "+" if change.percent > 0 else ""
    return f"{sign}{screen_percent(change.percent)}"


def local_moment(
    moment: datetime, zone: ZoneInfo, now: datetime, *, with_zone: bool = True
) -> str:
    """A moment in ``zone`` for a person: ``Fri 04 Dec 15:30 UTC``, with its year
    (``Tue 01 Dec 1999 00:00 UTC``) when that is not the year of ``now`` there."""
    local = moment.astimezone(zone)
    day = "%a %d %b" if local.year == now.astimezone(zone).year else "%a %d %b %Y"
    return local.strftime(f"{day} %H:%M %Z" if with_zone else f"{day} %H:%M")


def hour_span_text(slot: HourSlot) -> str:
    """The local hour a slot covers, from its buckets' real start: ``03:00–04:00``,
    or ``03:30–04:30`` in a zone half an hour off UTC."""
    minute = slot.start_minute
    return f"{slot.hour:02}:{minute:02}–{(slot.hour + 1) % 24:02}:{minute:02}"
