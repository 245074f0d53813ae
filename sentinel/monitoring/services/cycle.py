"""Writes of the operational monitor: the monitoring cycle and operational alerts.

An alert per (partner, metric) is raised when the metric's severity first rises above
HEALTHY, escalated (one event each) as it reaches the next severity, kept quietly up to date
while it stays, and resolved when the metric is back below its threshold. Judging the same
minute twice changes nothing, so a retried or overlapping cycle sends no second page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone

from transactions.models import PartnerBank

from .. import selectors
from ..analysis import MINUTE, MetricState, analyse, floor_minute, metric_point
from ..choices import (
    HEALTH_SEVERITY_RANK,
    HealthSeverity,
    OperationalAlertEventType,
    OperationalAlertStatus,
)
from ..live import operational_alert_announce
from ..models import MinuteStat, OperationalAlert, OperationalAlertEvent
from ..selectors import Row, SeriesKey
from .aggregation import minute_stats_refresh
from .slack import slack_delivery_record

# Dimension values named in an alert, per dimension.
DETAIL_TOP = 3


@dataclass(frozen=True)
class CycleResult:
    minute: datetime
    stats_changed: int
    partners: int
    events: list[OperationalAlertEvent]


def monitor_cycle_run(*, now: datetime | None = None) -> CycleResult:
    """One monitoring cycle: fold new transactions, judge the last complete minute."""
    now = now or timezone.now()
    changed = minute_stats_refresh(now=now)
    minute = floor_minute(now) - MINUTE
    partners = selectors.monitored_partners()
    events = monitor_evaluate(partners=partners, at=minute)
    return CycleResult(minute, changed, len(partners), events)


def monitor_evaluate(
    *, partners: Sequence[PartnerBank], at: datetime
) -> list[OperationalAlertEvent]:
    """Judge each partner's traffic at minute ``at`` and track its operational alerts."""
    configs = selectors.monitor_configs(partner_ids=[partner.pk for partner in partners])
    partners = [partner for partner in partners if configs[partner.pk].is_enabled]
    analyses = analyse(
        keys=[SeriesKey((partner.pk,)) for partner in partners],
        configs=[configs[partner.pk] for partner in partners],
        at=at,
    )
    events = []
    with db_transaction.atomic():
        open_alerts = selectors.open_alerts_by_metric(partner_ids=[p.pk for p in partners])
        for partner, analysis in zip(partners, analyses, strict=True):
            for metric, state in analysis.states.items():
                event = operational_alert_track(
                    partner=partner,
                    metric=metric,
                    state=state,
                    minute=analysis.minute,
                    alert=open_alerts.get((partner.pk, metric)),
                    rebaseline_after_hours=analysis.config.rebaseline_after_hours,
                )
                if event is not None:
                    events.append(event)
    return events


def operational_alert_track(
    *,
    partner: PartnerBank,
    metric: str,
    state: MetricState,
    minute: datetime,
    alert: OperationalAlert | None,
    rebaseline_after_hours: int | None = None,
) -> OperationalAlertEvent | None:
    """Raise, escalate, keep, resolve or (open for ``rebaseline_after_hours``) accept the
    metric's alert as the new normal; the event written, if any."""
    if alert is None:
        if state.severity == HealthSeverity.HEALTHY:
            return None
        return operational_alert_raise(partner=partner, metric=metric, state=state, minute=minute)
    if minute <= alert.last_minute:
        return None  # already judged: a retried cycle or an older replay
    if not state.above_threshold:
        return operational_alert_resolve(alert=alert, state=state, minute=minute)
    if rebaseline_after_hours is not None and minute - alert.started_minute >= timedelta(
        hours=rebaseline_after_hours
    ):
        _follow(alert, state, minute)
        return operational_alert_accept(alert=alert, by=None)
    if HEALTH_SEVERITY_RANK[state.severity] > HEALTH_SEVERITY_RANK[alert.severity]:
        return operational_alert_escalate(alert=alert, state=state, minute=minute)
    _follow(alert, state, minute)
    alert.save(update_fields=["last_minute", "persistence_minutes", "value", "threshold"])
    return None


def operational_alert_raise(
    *, partner: PartnerBank, metric: str, state: MetricState, minute: datetime
) -> OperationalAlertEvent:
    alert = OperationalAlert(
        partner=partner,
        metric=metric,
        severity=state.severity,
        started_minute=state.since or minute,
        detail=_standouts(partner=partner, metric=metric, minute=minute, state=state),
    )
    _follow(alert, state, minute)
    alert.save()
    return operational_alert_event_record(alert, OperationalAlertEventType.RAISED, minute)


def operational_alert_escalate(
    *, alert: OperationalAlert, state: MetricState, minute: datetime
) -> OperationalAlertEvent:
    alert.severity = state.severity
    alert.detail = _standouts(
        partner=alert.partner, metric=alert.metric, minute=minute, state=state
    )
    _follow(alert, state, minute)
    alert.save()
    return operational_alert_event_record(alert, OperationalAlertEventType.ESCALATED, minute)


def operational_alert_resolve(
    *, alert: OperationalAlert, state: MetricState, minute: datetime
) -> OperationalAlertEvent:
    """Back below the threshold (or too little traffic to say otherwise): resolved. The
    severity and persistence it reached are kept; the event records the minute it ended."""
    alert.status = OperationalAlertStatus.RESOLVED
    alert.resolved_at = timezone.now()
    alert.last_minute = minute
    alert.value = state.value
    alert.save()
    return operational_alert_event_record(alert, OperationalAlertEventType.RESOLVED, minute)


def operational_alert_accept(
    *, alert: OperationalAlert, by: AbstractBaseUser | None
) -> OperationalAlertEvent:
    """Close an open alert as a legitimate change of level (an operator's decision, or the
    partner's ``rebaseline_after_hours`` running out, ``by`` None): from its first minute on
    the metric's baseline is the new level (analysis.BaselineScope.floor), so the shift stops
    being an incident once the baseline has ``min_baseline_minutes`` of it."""
    if alert.status != OperationalAlertStatus.OPEN:
        raise ValidationError("Only an open operational alert can be accepted as the new normal.")
    alert.status = OperationalAlertStatus.RESOLVED
    alert.resolved_at = alert.accepted_at = timezone.now()
    alert.accepted_by = by
    alert.full_clean()
    alert.save()
    return operational_alert_event_record(
        alert, OperationalAlertEventType.ACCEPTED, alert.last_minute
    )


def _follow(alert: OperationalAlert, state: MetricState, minute: datetime) -> None:
    alert.last_minute = minute
    alert.persistence_minutes = state.consecutive_minutes
    alert.value = state.value
    alert.threshold = state.threshold.value


def operational_alert_event_record(
    alert: OperationalAlert, kind: str, minute: datetime
) -> OperationalAlertEvent:
    """The alert's history, pushed live, emailed from CRITICAL and queued for Slack: every
    kind of operational alert (traffic and model drift) is announced the same way."""
    event = OperationalAlertEvent.objects.create(
        alert=alert,
        type=kind,
        severity=alert.severity,
        minute=minute,
        persistence_minutes=alert.persistence_minutes,
        value=alert.value,
        threshold=alert.threshold,
    )
    operational_alert_announce(alert=alert, event=event)
    slack_delivery_record(alert=alert, event=event)
    return event


def _standouts(
    *, partner: PartnerBank, metric: str, minute: datetime, state: MetricState
) -> dict[str, list[dict]]:
    """Per dimension, the values whose metric stood highest this minute (which acquirer is
    failing), among those with some traffic."""
    rows = MinuteStat.objects.filter(partner=partner, minute=minute).exclude(dimension="")
    found: dict[str, list[dict]] = {}
    for stat in rows:
        row = Row(
            minute,
            stat.total,
            stat.approved,
            stat.failed,
            stat.denied,
            stat.reversed,
            stat.latency_count,
            stat.latency_p50_ms,
            stat.latency_p95_ms,
        )
        point = metric_point(row, metric, minute)
        if point.value is None:
            continue
        found.setdefault(stat.dimension, []).append(
            {"value": stat.value, "metric_value": round(point.value, 6), "total": point.volume}
        )
    return {
        dimension: sorted(values, key=lambda v: (-v["metric_value"], -v["total"]))[:DETAIL_TOP]
        for dimension, values in sorted(found.items())
    }
