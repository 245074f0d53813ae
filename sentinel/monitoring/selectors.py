"""Reads for the operational monitor: minute series, baseline moments, settings, alerts.

Every series read is one statement whatever the number of series: the wanted series travel
as one JSON document and each is read through a LATERAL subquery, so PostgreSQL walks the
``minutestat_unique`` index (partner, dimension, value, minute) once per series and never
scans months of history.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from transactions.models import PartnerBank

from .choices import BaselineMethod, Metric, OperationalAlertStatus, SlackDeliveryStatus
from .models import (
    MinuteStat,
    MonitorSettings,
    OperationalAlert,
    OperationalAlertEvent,
    SlackDelivery,
)
from .persistence import Steps
from .thresholds import DriftSteps, Moments


@dataclass(frozen=True)
class SeriesKey:
    """One series of minutes: some partners' traffic (summed when several), overall
    (dimension "") or for one value of a dimension."""

    partners: tuple[int, ...]
    dimension: str = ""
    value: str = ""


@dataclass(frozen=True)
class Row:
    """One minute of a series (a MinuteStat, or the sum of several partners' ones)."""

    minute: datetime
    total: int
    approved: int
    failed: int
    denied: int
    reversed: int
    latency_count: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None


@dataclass(frozen=True)
class Config:
    """How a partner's traffic is judged (MonitorSettings, or the defaults)."""

    baseline_method: str = BaselineMethod.TRAILING
    baseline_days: int = 7
    sigmas: float = 3.0
    ewma_alpha: float = 0.02
    min_volume: int = 20
    min_baseline_minutes: int = 120
    steps: Steps = Steps()
    is_enabled: bool = True
    rebaseline_after_hours: int | None = 72
    slack_webhook_url: str = ""

    @classmethod
    def of(cls, row: MonitorSettings | None) -> Config:
        if row is None:
            return cls()
        return cls(
            baseline_method=row.baseline_method,
            baseline_days=row.baseline_days,
            sigmas=row.sigmas,
            ewma_alpha=row.ewma_alpha,
            min_volume=row.min_volume,
            min_baseline_minutes=row.min_baseline_minutes,
            steps=Steps(
                row.info_minutes, row.warning_minutes, row.critical_minutes, row.severe_minutes
            ),
            is_enabled=row.is_enabled,
            rebaseline_after_hours=row.rebaseline_after_hours,
            slack_webhook_url=row.slack_webhook_url,
        )

    def as_dict(self) -> dict:
        return {
            "baseline_method": self.baseline_method,
            "baseline_days": self.baseline_days,
            "sigmas": self.sigmas,
            "ewma_alpha": self.ewma_alpha,
            "min_volume": self.min_volume,
            "min_baseline_minutes": self.min_baseline_minutes,
            "rebaseline_after_hours": self.rebaseline_after_hours,
            "persistence_minutes": {
                "INFO": self.steps.info,
                "WARNING": self.steps.warning,
                "CRITICAL": self.steps.critical,
                "SEVERE": self.steps.severe,
            },
        }


def monitor_configs(*, partner_ids: Iterable[int]) -> dict[int, Config]:
    ids = list(partner_ids)
    rows = {row.partner_id: row for row in MonitorSettings.objects.filter(partner_id__in=ids)}
    return {pk: Config.of(rows.get(pk)) for pk in ids}


def monitored_partners() -> list[PartnerBank]:
    return list(PartnerBank.objects.filter(is_active=True).order_by("slug"))


_SERIES = """
SELECT w.k, s.minute, s.total, s.approved, s.failed, s.denied, s.reversed, s.latency_count,
    s.p50, s.p95
FROM json_to_recordset(%s::json) AS w(
    k int, partners bigint[], dimension text, value text, start timestamptz, stop timestamptz)
CROSS JOIN LATERAL (
    SELECT m.minute, sum(m.total)::int AS total, sum(m.approved)::int AS approved,
        sum(m.failed)::int AS failed, sum(m.denied)::int AS denied,
        sum(m.reversed)::int AS reversed, sum(m.latency_count)::int AS latency_count,
        max(m.latency_p50_ms) AS p50, max(m.latency_p95_ms) AS p95
    FROM monitoring_minutestat m
    WHERE m.partner_id = ANY(w.partners) AND m.dimension = w.dimension AND m.value = w.value
        AND m.minute >= w.start AND m.minute < w.stop
    GROUP BY m.minute
) s
ORDER BY w.k, s.minute
"""


def minute_series(
    *, windows: Sequence[tuple[SeriesKey, datetime, datetime]]
) -> list[dict[datetime, Row]]:
    """For each (series, start, stop): its minutes in [start, stop) that had traffic.

    Several partners' minutes are summed; their latency is the worst partner's."""
    if not windows:
        return []
    found: list[dict[datetime, Row]] = [{} for _ in windows]
    for k, *columns in fetch_without_jit(_SERIES, [_windows_json(windows)]):
        found[k][columns[0]] = Row(*columns)
    return found


_MOMENTS = """
SELECT w.k, extract(hour FROM s.minute AT TIME ZONE 'UTC')::int AS hour,
    count(*) FILTER (WHERE s.total >= w.min_volume),
    sum(s.failed::float8 / s.total) FILTER (WHERE s.total >= w.min_volume),
    sum((s.failed::float8 / s.total) ^ 2) FILTER (WHERE s.total >= w.min_volume),
    sum(s.denied::float8 / s.total) FILTER (WHERE s.total >= w.min_volume),
    sum((s.denied::float8 / s.total) ^ 2) FILTER (WHERE s.total >= w.min_volume),
    sum(s.reversed::float8 / s.total) FILTER (WHERE s.total >= w.min_volume),
    sum((s.reversed::float8 / s.total) ^ 2) FILTER (WHERE s.total >= w.min_volume),
    count(*) FILTER (WHERE s.latency_count >= w.min_volume AND s.p95 IS NOT NULL),
    sum(s.p95) FILTER (WHERE s.latency_count >= w.min_volume),
    sum(s.p95 ^ 2) FILTER (WHERE s.latency_count >= w.min_volume)
FROM json_to_recordset(%s::json) AS w(
    k int, partners bigint[], dimension text, value text, start timestamptz, stop timestamptz,
    min_volume int)
CROSS JOIN LATERAL (
    SELECT m.minute, sum(m.total) AS total, sum(m.failed) AS failed, sum(m.denied) AS denied,
        sum(m.reversed) AS reversed, sum(m.latency_count) AS latency_count,
        max(m.latency_p95_ms) AS p95
    FROM monitoring_minutestat m
    WHERE m.partner_id = ANY(w.partners) AND m.dimension = w.dimension AND m.value = w.value
        AND m.minute >= w.start AND m.minute < w.stop
    GROUP BY m.minute
) s
GROUP BY w.k, hour
"""
_MOMENT_METRICS = (Metric.FAILED_RATE, Metric.DENIED_RATE, Metric.REVERSED_RATE)


def baseline_moments(
    *, windows: Sequence[tuple[SeriesKey, datetime, datetime, int]]
) -> list[dict[str, dict[int, Moments]]]:
    """For each (series, start, stop, min_volume): per metric, per UTC hour of day, the
    moments of the metric over the minutes with at least min_volume transactions (at least
    one, so a rate is never divided by zero)."""
    if not windows:
        return []
    documents = [
        (key, start, stop, {"min_volume": max(min_volume, 1)})
        for key, start, stop, min_volume in windows
    ]
    found: list[dict[str, dict[int, Moments]]] = [defaultdict(dict) for _ in windows]
    for k, hour, n, *sums in fetch_without_jit(_MOMENTS, [_windows_json(documents)]):
        for index, metric in enumerate(_MOMENT_METRICS):
            total, squares = sums[2 * index], sums[2 * index + 1]
            found[k][metric][hour] = Moments(n, total or 0.0, squares or 0.0)
        n_latency, total, squares = sums[6:]
        found[k][Metric.LATENCY_P95][hour] = Moments(n_latency, total or 0.0, squares or 0.0)
    return found


def fetch_without_jit(sql: str, params: list) -> list[tuple]:
    """Run a read with PostgreSQL's JIT off. The planner guesses 100 rows for
    json_to_recordset, so these cheap index walks look costly enough to JIT-compile, which
    alone took ~350 ms of a 360 ms statement (bench/monitor.py)."""
    with db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _windows_json(windows: Sequence[tuple]) -> str:
    records = []
    for k, (key, start, stop, *extra) in enumerate(windows):
        record = {
            "k": k,
            "partners": list(key.partners),
            "dimension": key.dimension,
            "value": key.value,
            "start": start.isoformat(),
            "stop": stop.isoformat(),
        }
        for more in extra:
            record.update(more)
        records.append(record)
    return json.dumps(records)


def dimension_values(
    *, partner_ids: Sequence[int], dimension: str, start: datetime, stop: datetime, limit: int
) -> list[str]:
    """The dimension's values with the most traffic in [start, stop), busiest first."""
    return list(
        MinuteStat.objects.filter(
            partner_id__in=partner_ids, dimension=dimension, minute__gte=start, minute__lt=stop
        )
        .values("value")
        .annotate(volume=Sum("total"))
        .order_by("-volume", "value")
        .values_list("value", flat=True)[:limit]
    )


def latest_minute(*, partner_ids: Sequence[int]) -> datetime | None:
    """The newest minute with traffic among these partners (for replays of past traffic)."""
    return (
        MinuteStat.objects.filter(partner_id__in=partner_ids, dimension="", value="")
        .order_by("-minute")
        .values_list("minute", flat=True)
        .first()
    )


# --- Operational alerts -----------------------------------------------------------------------


def model_drift_alerts_open() -> list[OperationalAlert]:
    """The learned risk score's open drift alerts (no partner), newest first."""
    return list(OperationalAlert.objects.open().filter(partner=None).order_by("-opened_at", "-id"))


def model_drift_open_by_metric() -> dict[str, OperationalAlert]:
    """The open drift alerts by metric, locked until the caller's transaction ends: two
    measurements handed over at once never raise the same alert twice."""
    alerts = OperationalAlert.objects.open().filter(partner=None).select_for_update()
    return {alert.metric: alert for alert in alerts}


def drift_steps() -> DriftSteps:
    return DriftSteps(
        moving=settings.SENTINEL_MONITOR_DRIFT_MOVING_PSI,
        shifted=settings.SENTINEL_MONITOR_DRIFT_SHIFTED_PSI,
    )


def operational_alerts_list(*, partner: PartnerBank | None = None) -> QuerySet[OperationalAlert]:
    queryset = OperationalAlert.objects.select_related("partner")
    return queryset if partner is None else queryset.filter(partner=partner)


def operational_alerts_open(*, partner: PartnerBank | None = None) -> list[OperationalAlert]:
    return list(operational_alerts_list(partner=partner).open().order_by("-opened_at", "-id"))


def slack_webhook_url(*, partner_id: int | None) -> str:
    """Where the partner's operational alerts go in Slack: its own webhook, else the global
    one (SENTINEL_MONITOR_SLACK_WEBHOOK_URL); "" for none. Drift alerts (no partner): the
    global one."""
    own = partner_id and (
        MonitorSettings.objects.filter(partner_id=partner_id)
        .values_list("slack_webhook_url", flat=True)
        .first()
    )
    return own or settings.SENTINEL_MONITOR_SLACK_WEBHOOK_URL


def slack_deliveries_due(*, limit: int = 100) -> list[int]:
    """Pending Slack deliveries whose next attempt is due, oldest first (slackdelivery_due)."""
    return list(
        SlackDelivery.objects.filter(
            status=SlackDeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def open_alert_counts(*, partner_ids: Iterable[int]) -> dict[int, int]:
    counts = (
        OperationalAlert.objects.open()
        .filter(partner_id__in=list(partner_ids))
        .values("partner_id")
        .annotate(count=Count("id"))
    )
    return {row["partner_id"]: row["count"] for row in counts}


def open_alerts_by_metric(*, partner_ids: Iterable[int]) -> dict[tuple[int, str], OperationalAlert]:
    alerts = OperationalAlert.objects.filter(
        partner_id__in=list(partner_ids), status=OperationalAlertStatus.OPEN
    )
    return {(alert.partner_id, alert.metric): alert for alert in alerts}


@dataclass(frozen=True)
class Incident:
    """An operational alert's span as the baseline sees it (analysis.BaselineScope)."""

    partner_id: int
    metric: str
    started: datetime
    last: datetime
    is_open: bool
    accepted: bool


def incidents_since(*, partner_ids: Sequence[int], since: datetime, at: datetime) -> list[Incident]:
    """The operational alerts of these partners that began by ``at`` and were still going on
    ``since`` or later (open ones whatever their age): what a baseline ending by ``at`` must
    leave out, freeze at, or restart from. Served by opalert_partner_opened's partner."""
    rows = (
        OperationalAlert.objects.filter(partner_id__in=list(partner_ids), started_minute__lte=at)
        .filter(Q(status=OperationalAlertStatus.OPEN) | Q(last_minute__gte=since))
        .values_list(
            "partner_id", "metric", "started_minute", "last_minute", "status", "accepted_at"
        )
    )
    return [
        Incident(
            pk, metric, started, last, status == OperationalAlertStatus.OPEN, accepted is not None
        )
        for pk, metric, started, last, status, accepted in rows
    ]


def operational_alert_history(*, alert: OperationalAlert) -> QuerySet[OperationalAlertEvent]:
    return alert.events.order_by("id")
