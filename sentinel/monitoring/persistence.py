"""Persistence-based severity: pure functions, no ORM (unit-tested alone).

A metric's persistence is the number of consecutive minutes, ending at the judged minute, in
which it was above its threshold with enough traffic to judge. A minute below the threshold,
or with less traffic than the minimum volume (a quiet minute with one failure is no incident;
a minute with no traffic has no rate at all), ends the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .choices import HealthSeverity


@dataclass(frozen=True)
class Steps:
    """Minutes above threshold for each severity (MonitorSettings)."""

    info: int = 15
    warning: int = 30
    critical: int = 45
    severe: int = 60

    def severity(self, minutes: int) -> HealthSeverity:
        if minutes >= self.severe:
            return HealthSeverity.SEVERE
        if minutes >= self.critical:
            return HealthSeverity.CRITICAL
        if minutes >= self.warning:
            return HealthSeverity.WARNING
        if minutes >= self.info:
            return HealthSeverity.INFO
        return HealthSeverity.HEALTHY


@dataclass(frozen=True)
class Point:
    """One minute of one metric: its value (None without traffic) and the volume behind it."""

    minute: datetime
    value: float | None
    volume: int


def anomalous(point: Point, bar: float | None, min_volume: int) -> bool:
    return (
        bar is not None
        and point.value is not None
        and point.volume >= max(min_volume, 1)
        and point.value > bar
    )


def run_length(
    points: Sequence[Point], bar_at: Callable[[datetime], float | None], min_volume: int
) -> tuple[int, datetime | None]:
    """Consecutive anomalous minutes at the end of ``points`` (oldest first, one per minute,
    gaps filled with zero-volume points), and the first minute of that run."""
    count, since = 0, None
    for point in reversed(points):
        if not anomalous(point, bar_at(point.minute), min_volume):
            break
        count, since = count + 1, point.minute
    return count, since
