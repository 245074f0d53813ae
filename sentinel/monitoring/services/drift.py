"""Writes of the monitor for the learned risk score's drift: operational alerts with no partner.

The model's drift is measured once a day, elsewhere (the monitor may not read the model:
pyproject's contracts); the pipeline's drift task hands each measurement here as plain
values. Per metric (the score's PSI, the worst input's PSI) an alert is raised when the
figure first rises above SENTINEL_MONITOR_DRIFT_MOVING_PSI (WARNING), escalated above
..._SHIFTED_PSI (CRITICAL: on-call is emailed), kept quietly up to date while it stays above,
and resolved by the first measurement back below (or none at all: no live model, no
decisions). Handing the same measurement over twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction as db_transaction
from django.utils import timezone

from .. import selectors
from ..analysis import MINUTE, floor_minute
from ..choices import (
    HEALTH_SEVERITY_RANK,
    DriftMetric,
    HealthSeverity,
    OperationalAlertEventType,
    OperationalAlertStatus,
)
from ..models import OperationalAlert, OperationalAlertEvent
from ..thresholds import DriftSteps
from .cycle import operational_alert_event_record


def model_drift_judge(
    *,
    version: int | None,
    window_end: datetime,
    decisions: int = 0,
    score_psi: float | None = None,
    worst_input_psi: float | None = None,
    inputs_psi: Mapping[str, float] | None = None,
) -> list[OperationalAlertEvent]:
    """Track the drift alerts for one measurement of the live model ``version`` over the day
    ending at ``window_end`` (``version`` None: nothing was measured). The events written."""
    minute = floor_minute(window_end)
    steps = selectors.drift_steps()
    detail = {
        "model_version": version,
        "decisions": decisions,
        "score_psi": score_psi,
        "worst_input_psi": worst_input_psi,
        "inputs_psi": dict(inputs_psi or {}),
    }
    figures = {DriftMetric.MODEL_SCORE: score_psi, DriftMetric.MODEL_INPUT: worst_input_psi}
    events = []
    with db_transaction.atomic():
        open_alerts = selectors.model_drift_open_by_metric()
        for metric, psi in figures.items():
            event = model_drift_alert_track(
                metric=metric,
                psi=None if version is None else psi,
                steps=steps,
                minute=minute,
                detail=detail,
                alert=open_alerts.get(metric),
            )
            if event is not None:
                events.append(event)
    return events


def model_drift_alert_track(
    *,
    metric: str,
    psi: float | None,
    steps: DriftSteps,
    minute: datetime,
    detail: dict,
    alert: OperationalAlert | None,
) -> OperationalAlertEvent | None:
    """Raise, escalate, keep or resolve one drift metric's alert; the event written, if any."""
    severity = steps.severity(psi)
    if alert is None:
        if severity == HealthSeverity.HEALTHY:
            return None
        alert = OperationalAlert(
            partner=None, metric=metric, severity=severity, started_minute=minute
        )
        _follow(alert, psi, steps.bar(severity), minute, detail)
        alert.save()
        return operational_alert_event_record(alert, OperationalAlertEventType.RAISED, minute)
    if minute <= alert.last_minute:
        return None  # this measurement was judged already (a retried task)
    if severity == HealthSeverity.HEALTHY:
        alert.status, alert.resolved_at = OperationalAlertStatus.RESOLVED, timezone.now()
        alert.last_minute, alert.value, alert.detail = minute, psi, detail
        alert.save()
        return operational_alert_event_record(alert, OperationalAlertEventType.RESOLVED, minute)
    if HEALTH_SEVERITY_RANK[severity] > HEALTH_SEVERITY_RANK[alert.severity]:
        alert.severity = severity
        _follow(alert, psi, steps.bar(severity), minute, detail)
        alert.save()
        return operational_alert_event_record(alert, OperationalAlertEventType.ESCALATED, minute)
    # Still above its bar (a shifted model that is now only moving stays CRITICAL, as a
    # traffic alert keeps the severity it reached): no new page, the figures kept current.
    _follow(alert, psi, alert.threshold, minute, detail)
    alert.save()
    return None


def _follow(
    alert: OperationalAlert, psi: float | None, bar: float | None, minute: datetime, detail: dict
) -> None:
    alert.last_minute = minute
    alert.persistence_minutes = int((minute - alert.started_minute) / MINUTE)
    alert.value, alert.threshold, alert.detail = psi, bar, detail
