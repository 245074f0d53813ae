"""Live push and on-call email of operational alerts.

Live push uses the staff live feed (``sentinel.live.broadcast``, the group the ``ws/alerts/``
consumer relays): an operational alert arrives as ``{"type": "monitor.alert", "alert":
{...}}``. Sent after the commit; a failure to reach the channel layer is logged and never
undoes the alert. CRITICAL and worse go to on-call by email (``sentinel.notifications``).
"""

from __future__ import annotations

import logging

from django.db import transaction as db_transaction

from sentinel.live import broadcast
from sentinel.notifications import on_call_notify

from .choices import HEALTH_SEVERITY_RANK, HealthSeverity, OperationalAlertEventType
from .models import OperationalAlert, OperationalAlertEvent
from .report import iso

logger = logging.getLogger(__name__)

MONITOR_ALERT = "monitor.alert"
# Email from this severity up (and when such an alert resolves).
EMAIL_FROM = HealthSeverity.CRITICAL


def operational_alert_message(*, alert: OperationalAlert, event: OperationalAlertEvent) -> dict:
    """The frame's ``alert`` object (docs/api.md § Operational monitor)."""
    return {
        "id": alert.pk,
        "kind": "operational",
        "event": event.type,
        "partner": alert.partner.slug if alert.partner else None,
        "metric": alert.metric,
        "severity": alert.severity,
        "status": alert.status,
        "persistence_minutes": alert.persistence_minutes,
        "value": alert.value,
        "threshold": alert.threshold,
        "started_minute": iso(alert.started_minute),
        "last_minute": iso(alert.last_minute),
        "opened_at": iso(alert.opened_at),
        "resolved_at": iso(alert.resolved_at),
    }


def operational_alert_announce(*, alert: OperationalAlert, event: OperationalAlertEvent) -> None:
    """Push the change to every connected staff browser, and email on-call when it is
    CRITICAL or worse (or such an alert resolves), once the transaction commits."""
    message = operational_alert_message(alert=alert, event=event)
    db_transaction.on_commit(lambda: _send(message), robust=True)
    if HEALTH_SEVERITY_RANK[alert.severity] >= HEALTH_SEVERITY_RANK[EMAIL_FROM]:
        on_call_notify(subject=_subject(alert, event), body=_body(alert, event))


def operational_alert_text(*, alert: OperationalAlert, event: OperationalAlertEvent) -> str:
    """The event as one plain-text message (the Slack webhook's ``text``)."""
    return f"{_subject(alert, event)}\n{_body(alert, event)}"


def _send(message: dict) -> None:
    try:
        broadcast([{"type": MONITOR_ALERT, "alert": message}])
    except Exception:  # noqa: BLE001  browsers catch up from the page; the alert stands
        logger.warning("Could not push operational alert %s live.", message["id"], exc_info=True)


def _subject(alert: OperationalAlert, event: OperationalAlertEvent) -> str:
    verb = {
        OperationalAlertEventType.RAISED: "raised",
        OperationalAlertEventType.ESCALATED: "escalated",
        OperationalAlertEventType.RESOLVED: "resolved",
        OperationalAlertEventType.ACCEPTED: "accepted as the new normal",
    }[event.type]
    if alert.partner is None:
        return (
            f"[Sentinel {alert.severity}] Learned risk score: {alert.get_metric_display()} "
            f"{verb} (PSI {_figure(alert.value)}, bar {_figure(alert.threshold)})"
        )
    return (
        f"[Sentinel {alert.severity}] {alert.partner.name}: {alert.get_metric_display()} "
        f"{verb} ({alert.persistence_minutes} min)"
    )


def _body(alert: OperationalAlert, event: OperationalAlertEvent) -> str:
    if alert.partner is None:
        return _drift_body(alert)
    lines = [
        f"Partner: {alert.partner.name} ({alert.partner.slug})",
        f"Metric: {alert.get_metric_display()}",
        f"Severity: {alert.severity}",
        f"Status: {alert.status}",
        f"Above threshold since: {alert.started_minute:%Y-%m-%d %H:%M} UTC "
        f"({alert.persistence_minutes} consecutive minutes)",
        f"Last value: {alert.value}; threshold: {alert.threshold}",
    ]
    for dimension, values in (alert.detail or {}).items():
        top = ", ".join(f"{v['value']} {v['metric_value']:.4g} of {v['total']}" for v in values)
        lines.append(f"Highest {dimension}: {top}")
    return "\n".join(lines)


def _drift_body(alert: OperationalAlert) -> str:
    """The learned risk score's drift (services.drift): what moved, on which version."""
    detail = alert.detail or {}
    lines = [
        f"Model: v{detail.get('model_version')} (docs/models.md § Drift)",
        f"Metric: {alert.get_metric_display()}",
        f"Severity: {alert.severity}",
        f"Status: {alert.status}",
        f"Above the bar since the day ending {alert.started_minute:%Y-%m-%d %H:%M} UTC; "
        f"last measured for the day ending {alert.last_minute:%Y-%m-%d %H:%M} UTC",
        f"Last PSI: {_figure(alert.value)}; bar: {_figure(alert.threshold)} "
        "(under 0.1 stable, 0.1 to 0.25 moving, over 0.25 shifted)",
        f"Decisions measured: {detail.get('decisions')}",
    ]
    inputs = detail.get("inputs_psi") or {}
    if inputs:
        lines.append(
            "Inputs that moved most: "
            + ", ".join(f"{name} {_figure(value)}" for name, value in inputs.items())
        )
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"
