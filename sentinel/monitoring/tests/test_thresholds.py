"""Thresholds and persistence as pure arithmetic: no database."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from sentinel.monitoring import thresholds
from sentinel.monitoring.choices import HealthSeverity, Metric
from sentinel.monitoring.persistence import Point, Steps, anomalous, run_length
from sentinel.monitoring.thresholds import Moments

START = datetime(2026, 1, 1, tzinfo=UTC)


def moments_of(values: list[float]) -> Moments:
    return Moments(len(values), sum(values), sum(v * v for v in values))


def test_moments_give_the_sample_mean_and_standard_deviation():
    values = [0.01, 0.02, 0.03, 0.02, 0.01]
    m = moments_of(values)
    mean = sum(values) / 5
    expected = math.sqrt(sum((v - mean) ** 2 for v in values) / 4)
    assert m.mean == pytest.approx(mean)
    assert m.stddev == pytest.approx(expected)


def test_moments_of_hours_add_up_to_the_whole_baseline():
    a, b = moments_of([1, 2, 3]), moments_of([4, 5])
    assert thresholds.combined({0: a, 1: b}) == moments_of([1, 2, 3, 4, 5])


def test_threshold_is_mean_plus_three_sigma():
    m = moments_of([0.1, 0.2, 0.3] * 100)
    found = thresholds.from_moments(
        m, metric=Metric.DENIED_RATE, sigmas=3, min_samples=10, method="trailing"
    )
    assert found.value == pytest.approx(m.mean + 3 * m.stddev)


def test_a_baseline_without_variance_still_leaves_the_floor_margin():
    # A week without a single failure must not make one failure an incident.
    found = thresholds.from_moments(
        moments_of([0.0] * 500), metric=Metric.FAILED_RATE, sigmas=3, min_samples=10, method="t"
    )
    assert found.value == pytest.approx(0.01)
    assert not found.exceeded_by(0.005)


def test_too_little_history_gives_no_threshold_and_says_why():
    found = thresholds.from_moments(
        moments_of([0.1] * 5), metric=Metric.FAILED_RATE, sigmas=3, min_samples=120, method="t"
    )
    assert found.value is None
    assert "too little history: 5" in found.reason
    assert not found.exceeded_by(1.0)


def test_ewma_follows_recent_values_more_than_old_ones():
    old_then_new = [0.01] * 300 + [0.05] * 300
    found = thresholds.ewma(
        old_then_new, metric=Metric.FAILED_RATE, alpha=0.05, sigmas=3, min_samples=10
    )
    assert found.mean == pytest.approx(0.05, abs=1e-3)
    assert found.method == "ewma"


def test_ewma_span_covers_what_still_weighs():
    assert thresholds.ewma_span(0.02) == 342
    assert thresholds.ewma_span(1.0) == 1


@pytest.mark.parametrize(
    ("minutes", "severity"),
    [
        (0, HealthSeverity.HEALTHY),
        (14, HealthSeverity.HEALTHY),
        (15, HealthSeverity.INFO),
        (30, HealthSeverity.WARNING),
        (45, HealthSeverity.CRITICAL),
        (59, HealthSeverity.CRITICAL),
        (60, HealthSeverity.SEVERE),
        (600, HealthSeverity.SEVERE),
    ],
)
def test_severity_follows_persistence(minutes, severity):
    assert Steps().severity(minutes) == severity


def test_steps_are_configurable():
    assert Steps(5, 10, 20, 30).severity(10) == HealthSeverity.WARNING


def _points(values: list[tuple[float | None, int]]) -> list[Point]:
    return [
        Point(START + timedelta(minutes=i), value, volume)
        for i, (value, volume) in enumerate(values)
    ]


def test_run_length_counts_consecutive_anomalous_minutes_at_the_end():
    points = _points([(0.5, 100), (0.0, 100), (0.5, 100), (0.6, 100), (0.7, 100)])
    count, since = run_length(points, lambda minute: 0.1, min_volume=20)
    assert (count, since) == (3, START + timedelta(minutes=2))


def test_a_quiet_minute_is_not_an_anomaly_and_ends_the_run():
    points = _points([(0.5, 100), (1.0, 1), (0.5, 100)])
    assert run_length(points, lambda minute: 0.1, min_volume=20) == (1, points[-1].minute)
    assert not anomalous(Point(START, 1.0, 1), 0.1, 20)


def test_a_minute_without_traffic_has_no_value_and_is_no_anomaly():
    assert not anomalous(Point(START, None, 0), 0.1, 0)
    assert run_length(_points([(None, 0)]), lambda minute: 0.0, min_volume=0) == (0, None)


def test_without_a_threshold_nothing_is_anomalous():
    assert run_length(_points([(0.9, 100)] * 5), lambda minute: None, min_volume=1) == (0, None)


def test_taking_an_incident_out_of_a_baseline_leaves_the_moments_of_the_rest():
    ordinary = [0.002, 0.0, 0.004, 0.002, 0.0, 0.002] * 20
    incident = [0.1, 0.12, 0.09] * 10

    rest = moments_of(ordinary + incident) - moments_of(incident)

    assert rest.n == len(ordinary)
    assert rest.mean == pytest.approx(moments_of(ordinary).mean)
    assert rest.stddev == pytest.approx(moments_of(ordinary).stddev, rel=1e-6)
