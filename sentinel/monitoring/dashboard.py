"""What the staff dashboard draws: each metric over a window, with its threshold line and
the anomalous minutes, bucketed so a long window stays a few hundred points."""

from __future__ import annotations

import math
from datetime import datetime

from transactions.models import PartnerBank

from . import selectors
from .analysis import METRICS, MINUTE, Analysis, metric_point
from .models import MinuteStat
from .persistence import anomalous
from .report import iso
from .selectors import Row, SeriesKey

WINDOWS = {"6h": 6 * 60, "12h": 12 * 60, "24h": 24 * 60, "48h": 48 * 60, "all": None}
DEFAULT_WINDOW = "6h"
MAX_POINTS = 720
MAX_ALL_DAYS = 90


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
