"""Dynamic thresholds: pure arithmetic over baseline samples, no ORM (unit-tested alone).

A threshold is ``mean + sigmas × σ`` of a metric over a baseline, never closer to the mean
than the metric's floor margin: a baseline with no variance (no failures for a week) would
otherwise make a single failure an anomaly. Three baselines, chosen per partner
(MonitorSettings.baseline_method):

- trailing: every usable minute of the trailing baseline window;
- hour_of_day: only the baseline minutes in the same UTC hour as the judged minute (traffic
  mix changes through the day; each hour gets its own threshold);
- ewma: an exponentially weighted mean and variance (recent minutes weigh most), which
  follows slow drifts that a flat week-long mean would lag behind.

Moments (count, sum, sum of squares) are what PostgreSQL aggregates: they add up, so the
hourly groups combine into the trailing baseline in Python, and a past incident's minutes
are taken out of a baseline by subtracting their own moments.

The learned risk score's drift is judged against fixed bars instead (``DriftSteps``): a
population stability index means the same whatever the partner or the hour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .choices import BaselineMethod, HealthSeverity, Metric

# How far above the mean a threshold always is, at least: one percentage point for rates,
# 25 ms for latency. Below that, a deviation is noise whatever the baseline's variance says.
FLOOR_MARGIN: Mapping[str, float] = {
    Metric.FAILED_RATE: 0.01,
    Metric.DENIED_RATE: 0.01,
    Metric.REVERSED_RATE: 0.01,
    Metric.LATENCY_P95: 25.0,
}


@dataclass(frozen=True)
class Moments:
    """Count, sum and sum of squares of a metric over baseline minutes."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.total + other.total, self.squares + other.squares)

    def __sub__(self, other: Moments) -> Moments:
        """The moments without a part of the minutes (a past incident inside a baseline)."""
        return Moments(self.n - other.n, self.total - other.total, self.squares - other.squares)

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def stddev(self) -> float:
        """Sample standard deviation; 0 for fewer than two samples (never negative from
        rounding)."""
        if self.n < 2:
            return 0.0
        variance = (self.squares - self.total * self.total / self.n) / (self.n - 1)
        return math.sqrt(max(variance, 0.0))


@dataclass(frozen=True)
class Threshold:
    """The bar a metric is judged against; ``value`` is None when it cannot be set."""

    value: float | None
    mean: float | None
    stddev: float | None
    samples: int
    method: str
    reason: str | None = None

    def exceeded_by(self, observed: float | None) -> bool:
        return self.value is not None and observed is not None and observed > self.value


def from_moments(
    moments: Moments, *, metric: str, sigmas: float, min_samples: int, method: str
) -> Threshold:
    if moments.n < min_samples:
        return Threshold(
            None,
            None,
            None,
            moments.n,
            method,
            reason=f"too little history: {moments.n} usable baseline minutes, {min_samples} needed",
        )
    mean, stddev = moments.mean, moments.stddev
    margin = max(sigmas * stddev, FLOOR_MARGIN[metric])
    return Threshold(mean + margin, mean, stddev, moments.n, method)


def combined(moments_by_hour: Mapping[int, Moments]) -> Moments:
    result = Moments()
    for moments in moments_by_hour.values():
        result = result + moments
    return result


def ewma(
    values: Iterable[float], *, metric: str, alpha: float, sigmas: float, min_samples: int
) -> Threshold:
    """Exponentially weighted mean and variance of ``values`` (oldest first)."""
    mean = variance = 0.0
    count = 0
    for value in values:
        if count == 0:
            mean = value
        else:
            diff = value - mean
            increment = alpha * diff
            mean += increment
            variance = (1 - alpha) * (variance + diff * increment)
        count += 1
    method = BaselineMethod.EWMA
    if count < min_samples:
        return from_moments(
            Moments(count), metric=metric, sigmas=sigmas, min_samples=min_samples, method=method
        )
    stddev = math.sqrt(max(variance, 0.0))
    margin = max(sigmas * stddev, FLOOR_MARGIN[metric])
    return Threshold(mean + margin, mean, stddev, count, method)


def ewma_span(alpha: float) -> int:
    """Minutes after which older samples weigh less than 0.1% in an EWMA: reading further
    back changes nothing measurable."""
    if alpha >= 1:
        return 1
    return math.ceil(math.log(0.001) / math.log(1 - alpha))


@dataclass(frozen=True)
class DriftSteps:
    """Fixed bars on the learned risk score's population stability index (docs/models.md §
    Drift): above ``moving`` a WARNING, above ``shifted`` CRITICAL (retrain, or look at what
    changed upstream). From SENTINEL_MONITOR_DRIFT_MOVING_PSI and ..._SHIFTED_PSI."""

    moving: float = 0.1
    shifted: float = 0.25

    def severity(self, psi: float | None) -> HealthSeverity:
        """No figure (nothing measured) is no drift: like a quiet minute, it ends an alert."""
        if psi is not None and psi > self.shifted:
            return HealthSeverity.CRITICAL
        if psi is not None and psi > self.moving:
            return HealthSeverity.WARNING
        return HealthSeverity.HEALTHY

    def bar(self, severity: str) -> float:
        """The PSI an alert of this severity is above."""
        return self.shifted if severity == HealthSeverity.CRITICAL else self.moving
