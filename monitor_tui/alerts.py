"""Budget alerts: which thresholds the period's spend has crossed, whether the burn
rate has run away, and the rule that makes each alert fire once.

A threshold alert fires the first time spend is at or above it in a billing period
and never again in that period, even if a correction takes spend below it and back;
a new period arms it again, and so does a new budget amount that spend no longer
reaches it at. The burn-rate alert may repeat,
at most once an hour. What has fired is kept in the store, so a restart, or a second
process reading the same store, does not fire it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from monitor_tui.budget import Budget
from monitor_tui.money import screen_money
from monitor_tui.report import Report
from monitor_tui.store import Store

BURN_RATE_REPEAT_SECONDS = 3600
"""The burn-rate alert fires at most once an hour."""

MIN_BASELINE_HOURS = 24
"""Less history than this is no baseline for "unusually fast"."""

ALERT_LOG_LENGTH = 200
"""Fired alerts kept for the log, per origin; older ones are dropped."""

WARNING, CRITICAL = "warning", "critical"


@dataclass(frozen=True)
class Alert:
    """One alert, due or fired."""

    key: str
    """What fires once per period: the budget and threshold (``budget:75``,
    ``project:proj_abc:90``), or ``burn_rate``."""
    severity: str
    """``warning``, or ``critical`` once a budget is reached."""
    title: str
    text: str
    at: datetime

    def to_record(self, origin: str, period_start: datetime) -> dict[str, Any]:
        """The alert as the store's log keeps it."""
        return {
            "origin": origin,
            "key": self.key,
            "severity": self.severity,
            "title": self.title,
            "text": self.text,
            "at": int(self.at.timestamp()),
            "period_start": int(period_start.timestamp()),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Alert:
        """Read an alert back from the store's log."""
        return cls(
            key=str(record.get("key", "")),
            severity=str(record.get("severity", WARNING)),
            title=str(record.get("title", "")),
            text=str(record.get("text", "")),
            at=datetime.fromtimestamp(int(record.get("at") or 0), UTC),
        )


def _threshold_alerts(
    scope: str,
    label: str,
    spend: Decimal,
    amount: Decimal,
    thresholds: tuple[int, ...],
    report: Report,
) -> list[Alert]:
    """The alerts of every threshold ``spend`` has reached against ``amount``;
    reaching 100 % is always one, whether or not it is among the thresholds."""
    due = []
    for percent in sorted({*thresholds, 100}):
        if spend < amount * percent / 100:
            continue
        over = percent >= 100
        forecast = (
            ""
            if over or scope != "budget"
            else f"; forecast {screen_money(report.forecast_usd)} by period end"
        )
        due.append(
            Alert(
                key=f"{scope}:{percent}",
                severity=CRITICAL if over else WARNING,
                title=(
                    f"{label} budget reached"
                    if over
                    else f"{label} budget {percent}% reached"
                ),
                text=(
                    f"{screen_money(spend)} of {screen_money(amount)} spent this "
                    f"period{forecast}."
                ),
                at=report.now,
            )
        )
    return due


def _burn_rate_alert(
    report: Report, hourly_average_usd: Decimal | None, multiple: Decimal | None
) -> Alert | None:
    rate = report.burn_rate_usd_per_hour
    if not multiple or rate is None or not hourly_average_usd:
        return None
    if rate <= hourly_average_usd * multiple:
        return None
    times = rate / hourly_average_usd
    return Alert(
        key=BURN_RATE,
        severity=WARNING,
        title="Spending unusually fast",
        text=(
            f"{screen_money(rate)}/hour over the last hour, {times:.1f}× the 7-day "
            f"average of {screen_money(hourly_average_usd)}/hour."
        ),
        at=report.now,
    )


def due_alerts(
    report: Report,
    budget: Budget | None,
    project_spend: Mapping[str, Decimal],
    hourly_average_usd: Decimal | None,
    burn_multiple: Decimal | None,
) -> list[Alert]:
    """Every alert whose condition holds at ``report.now``, fired before or not.

    Args:
        report: the billing period so far.
        budget: the budget, or None (then only the burn rate can alert).
        project_spend: spend this period by project id.
        hourly_average_usd: the trailing 7-day average of spend per hour, or None
            without enough history.
        burn_multiple: how many times that average the last hour must exceed;
            None or 0 turns the burn-rate alert off.
    """
    due: list[Alert] = []
    if budget is not None:
        due += _threshold_alerts(
            "budget",
            "Monthly",
            report.spend_usd,
            budget.amount_usd,
            budget.thresholds,
            report,
        )
        for project, amount in budget.projects:
            due += _threshold_alerts(
                f"project:{project}",
                # Named where the name is known: people know projects by name.
                f"Project {report.names.project_label(project)}",
                project_spend.get(project, Decimal(0)),
                amount,
                budget.thresholds,
                report,
            )
    burn = _burn_rate_alert(report, hourly_average_usd, burn_multiple)
    if burn is not None:
        due.append(burn)
    return due


BURN_RATE = "burn_rate"


def _scope(key: str) -> str:
    """Which budget a threshold belongs to: ``project:proj_abc:90`` ->
    ``project:proj_abc``."""
    return key if key == BURN_RATE else key.rsplit(":", 1)[0]


def budget_amounts(budget: Budget | None) -> dict[str, str]:
    """The amount of each budget the thresholds are shares of, by scope."""
    if budget is None:
        return {}
    amounts = {"budget": str(budget.amount_usd)}
    amounts.update((f"project:{p}", str(a)) for p, a in budget.projects)
    return amounts


def _claim(
    state: dict[str, Any] | None,
    due: list[Alert],
    period_start: int,
    amounts: dict[str, str],
) -> tuple[dict[str, Any], list[Alert]]:
    """Decide which due alerts fire now, given what fired before.

    When one reading crosses several thresholds of a budget at once (the first
    sync of the day finds spend at 91 %), all are recorded as fired but only
    the highest is delivered: three alerts saying one thing are noise. When a
    budget's amount changed, its thresholds that spend no longer reaches are
    armed again; those it still reaches stay fired, so raising a budget never
    repeats an alert already sent.
    """
    fired: dict[str, int] = {}
    if state and state.get("period_start") == period_start:
        fired = {
            str(key): at
            for key, at in (state.get("fired") or {}).items()
            if type(at) is int
        }
        before = state.get("amounts") or {}
        due_keys = {alert.key for alert in due}
        for scope, amount in amounts.items():
            if before.get(scope) not in (None, amount):
                for key in [k for k in fired if _scope(k) == scope]:
                    if key not in due_keys:
                        del fired[key]
    firing: dict[str, Alert] = {}
    for alert in due:  # thresholds come in ascending order
        at = int(alert.at.timestamp())
        last = fired.get(alert.key)
        repeats = alert.key == BURN_RATE and (
            last is not None and at - last >= BURN_RATE_REPEAT_SECONDS
        )
        if last is None or repeats:
            fired[alert.key] = at
            firing[_scope(alert.key)] = alert
    new_state = {"period_start": period_start, "fired": fired, "amounts": amounts}
    return new_state, list(firing.values())


def fire_due_alerts(
    store: Store,
    origin: str,
    due: list[Alert],
    report: Report,
    budget: Budget | None = None,
) -> list[Alert]:
    """Record and return the alerts of ``due`` that have not fired before.

    The check and the record are one step under the store's lock, so two
    processes watching one store never both fire the same alert.
    """
    if not due:
        # Nothing to fire; a changed amount is looked at when something is due.
        return []
    period_start = report.period.start
    amounts = budget_amounts(budget)

    def update(state: dict[str, Any] | None) -> tuple[dict[str, Any], list[dict]]:
        new_state, firing = _claim(state, due, int(period_start.timestamp()), amounts)
        return new_state, [alert.to_record(origin, period_start) for alert in firing]

    records = store.update_alert_state(origin, update, keep=ALERT_LOG_LENGTH)
    return [Alert.from_record(record) for record in records]


def fired_keys(store: Store, origin: str, report: Report) -> frozenset[str]:
    """The keys of the alerts that have fired in the report's billing period."""
    state = store.alert_state(origin)
    if not state or state.get("period_start") != int(report.period.start.timestamp()):
        return frozenset()
    return frozenset(str(key) for key in state.get("fired") or {})


def alert_log(store: Store, origin: str, limit: int = 50) -> tuple[Alert, ...]:
    """The alerts fired most recently, newest first."""
    records = list(enumerate(store.alert_log(origin)))
    # Alerts fired at the same moment: the one recorded last is the newest.
    records.sort(key=lambda item: (item[1].get("at") or 0, item[0]), reverse=True)
    return tuple(Alert.from_record(record) for _, record in records[:limit])
