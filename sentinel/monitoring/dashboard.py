"""What the staff dashboard draws: each metric over a window, with its threshold line and
the anomalous minutes, bucketed so a long window stays a few hundred points."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from transactions.models import PartnerBank

from . import selectors
from .analysis import METRICS, MINUTE, Analysis, analyse, metric_point
from .choices import HEALTH_SEVERITY_RANK
from .models import MinuteStat
from .persistence import anomalous
from .report import iso
from .selectors import Row, SeriesKey

WINDOWS = {"6h": 6 * 60, "12h": 12 * 60, "24h": 24 * 60, "48h": 48 * 60, "all": None}
DEFAULT_WINDOW = "6h"
MAX_POINTS = 720
MAX_ALL_DAYS = 90


# The overview's "busiest": transactions in the hour up to the judged minute.
BUSY_MINUTES = 60


def partners_overview(*, partners: Sequence[PartnerBank], at: datetime) -> list[dict]:
    """Every partner judged at ``at``: its worst severity over the metrics, its traffic in
    the last hour and its open operational alerts; busiest first (then worst, then slug), so
    the page opens on the partners that matter rather than the alphabetically first."""
    ids = [partner.pk for partner in partners]
    configs = selectors.monitor_configs(partner_ids=ids)
    analyses = analyse(
        keys=[SeriesKey((pk,)) for pk in ids], configs=[configs[pk] for pk in ids], at=at
    )
    open_alerts = selectors.open_alert_counts(partner_ids=ids)
    rows = []
    for partner, analysis in zip(partners, analyses, strict=True):
        worst = max(
            analysis.states.values(),
            key=lambda state: (HEALTH_SEVERITY_RANK[state.severity], state.consecutive_minutes),
        )
        rows.append(
            {
                "partner": partner.slug,
                "name": partner.name,
                "severity": analysis.severity,
                "worst_metric": worst.metric if worst.consecutive_minutes else None,
                "consecutive_minutes": worst.consecutive_minutes,
                "transactions_last_hour": sum(
                    row.total for row in analysis.recent[-BUSY_MINUTES:] if row is not None
                ),
                "open_alerts": open_alerts.get(partner.pk, 0),
            }
        )
    rows.sort(
        key=lambda row: (
            -row["transactions_last_hour"],
            -HEALTH_SEVERITY_RANK[row["severity"]],
            row["partner"],
        )
    )
    return rows


def window_minutes(*, partner: PartnerBank, window: str, at: datetime) -> int:
    minutes = WINDOWS[window]
    if minutes is not None:
        return minutes
    first = (
        MinuteStat.objects.filter(partner=partner, dimension="", value="", minute__lte=at)
        .order_by("minute")
        .values_list("minute", flat=True)
        .first()
    )
    if first is None:
        return WINDOWS[DEFAULT_WINDOW]
    return max(60, min(int((at - first) / MINUTE) + 1, MAX_ALL_DAYS * 24 * 60))


def chart_series(*, partner: PartnerBank, analysis: Analysis, window: str) -> dict:
    """Per metric: values, the threshold in force and whether any minute of each bucket was
    anomalous. The threshold is today's (per hour of day with that baseline), drawn across
    the window."""
    at = analysis.minute
    minutes = window_minutes(partner=partner, window=window, at=at)
    size = max(1, math.ceil(minutes / MAX_POINTS))
    start = at - (minutes - 1) * MINUTE
    (rows,) = selectors.minute_series(windows=[(SeriesKey((partner.pk,)), start, at + MINUTE)])
    labels, buckets = [], []
    cursor = start
    while cursor <= at:
        labels.append(iso(cursor))
        buckets.append([rows.get(cursor + i * MINUTE) for i in range(size)])
        cursor += size * MINUTE
    series = {}
    for metric in METRICS:
        state = analysis.states[metric]
        values, bars, flags = [], [], []
        for index, bucket in enumerate(buckets):
            first = start + index * size * MINUTE
            merged = _merge([row for row in bucket if row is not None], first)
            values.append(_round(metric_point(merged, metric, first).value))
            bars.append(_round(state.bar_at(first)))
            flags.append(
                any(
                    anomalous(
                        metric_point(row, metric, first + i * MINUTE),
                        state.bar_at(first + i * MINUTE),
                        analysis.config.min_volume,
                    )
                    for i, row in enumerate(bucket)
                    if row is not None
                )
            )
        series[metric] = {"values": values, "threshold": bars, "anomalous": flags}
    return {"labels": labels, "bucket_minutes": size, "window": window, "metrics": series}


def _merge(rows: list[Row], minute: datetime) -> Row | None:
    if not rows:
        return None
    if len(rows) == 1:
        return rows[0]
    p95s = [row.latency_p95_ms for row in rows if row.latency_p95_ms is not None]
    p50s = [row.latency_p50_ms for row in rows if row.latency_p50_ms is not None]
    return Row(
        minute,
        *(sum(getattr(row, name) for row in rows) for name in _COUNTS),
        max(p50s) if p50s else None,
        max(p95s) if p95s else None,
    )


_COUNTS = ("total", "approved", "failed", "denied", "reversed", "latency_count")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
