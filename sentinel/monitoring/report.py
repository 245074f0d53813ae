"""The monitor's JSON document (``GET /api/v1/monitor``, ``manage.py monitor_report``).

Shape (docs/api.md § Operational monitor)::

    {"partner": "<slug>" | "all", "current_minute": "...Z", "severity": "HEALTHY",
     "metrics": {"total", "approved", "failed", "denied", "reversed", "failed_rate",
                 "denied_rate", "reversed_rate", "latency_count", "latency_p50_ms",
                 "latency_p95_ms"},
     "thresholds": {"<metric>": {"value", "mean", "stddev", "method", "baseline_minutes",
                                 "reason"}},
     "persistence_analysis": {"<metric>": {"consecutive_minutes", "severity",
                                           "above_threshold", "since", "reason"}},
     "settings": {...},
     "dimension": {"name": "acquirer", "values": [{"value", "severity", "metrics",
                                                   "thresholds", "persistence_analysis"}]}}
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sentinel.timestamps import iso_utc
from transactions.models import PartnerBank

from . import selectors
from .analysis import MINUTE, Analysis, analyse, floor_minute
from .selectors import SeriesKey

# Dimension values reported at most (the busiest of the last hour).
MAX_DIMENSION_VALUES = 20


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def metrics_of(analysis: Analysis) -> dict:
    row = analysis.row
    counts = {
        name: getattr(row, name) if row else 0
        for name in ("total", "approved", "failed", "denied", "reversed", "latency_count")
    }
    total = counts["total"]
    return {
        **{name: counts[name] for name in ("total", "approved", "failed", "denied", "reversed")},
        "failed_rate": _rounded(counts["failed"] / total) if total else None,
        "denied_rate": _rounded(counts["denied"] / total) if total else None,
        "reversed_rate": _rounded(counts["reversed"] / total) if total else None,
        "latency_count": counts["latency_count"],
        "latency_p50_ms": _rounded(row.latency_p50_ms, 2) if row else None,
        "latency_p95_ms": _rounded(row.latency_p95_ms, 2) if row else None,
    }


def thresholds_of(analysis: Analysis) -> dict:
    return {
        metric: {
            "value": _rounded(state.threshold.value),
            "mean": _rounded(state.threshold.mean),
            "stddev": _rounded(state.threshold.stddev),
            "method": state.threshold.method,
            "baseline_minutes": state.threshold.samples,
            "reason": state.threshold.reason,
        }
        for metric, state in analysis.states.items()
    }


def persistence_of(analysis: Analysis) -> dict:
    return {
        metric: {
            "consecutive_minutes": state.consecutive_minutes,
            "severity": state.severity,
            "above_threshold": state.above_threshold,
            "since": iso(state.since),
            "reason": state.reason,
        }
        for metric, state in analysis.states.items()
    }


def section(analysis: Analysis) -> dict:
    return {
        "severity": analysis.severity,
        "metrics": metrics_of(analysis),
        "thresholds": thresholds_of(analysis),
        "persistence_analysis": persistence_of(analysis),
    }


def monitor_report(
    *,
    partners: Sequence[PartnerBank],
    at: datetime,
    dimension: str | None = None,
    label: str | None = None,
) -> dict:
    """The document for one partner, or for several summed (``label`` "all")."""
    at = floor_minute(at)
    ids = tuple(partner.pk for partner in partners)
    if len(partners) == 1:
        config = selectors.monitor_configs(partner_ids=ids)[ids[0]]
    else:
        config = selectors.Config()
    keys, configs = [SeriesKey(ids)], [config]
    values: list[str] = []
    if dimension:
        values = selectors.dimension_values(
            partner_ids=ids,
            dimension=dimension,
            start=at - timedelta(hours=1) + MINUTE,
            stop=at + MINUTE,
            limit=MAX_DIMENSION_VALUES,
        )
        keys += [SeriesKey(ids, dimension, value) for value in values]
        configs += [config] * len(values)
    overall, *per_value = analyse(keys=keys, configs=configs, at=at)
    document = {
        "partner": label or partners[0].slug,
        "current_minute": iso(at),
        **section(overall),
        "settings": config.as_dict(),
    }
    if dimension:
        document["dimension"] = {
            "name": dimension,
            "values": [
                {"value": value, **section(analysis)}
                for value, analysis in zip(values, per_value, strict=True)
            ],
        }
    return document


def partners_summary(*, partners: Sequence[PartnerBank], at: datetime) -> list[dict]:
    """Each partner's severity and persistence at ``at`` (the staff "all" view)."""
    ids = [partner.pk for partner in partners]
    configs = selectors.monitor_configs(partner_ids=ids)
    analyses = analyse(
        keys=[SeriesKey((pk,)) for pk in ids], configs=[configs[pk] for pk in ids], at=at
    )
    return [
        {
            "partner": partner.slug,
            "severity": analysis.severity,
            "persistence_analysis": persistence_of(analysis),
        }
        for partner, analysis in zip(partners, analyses, strict=True)
    ]
