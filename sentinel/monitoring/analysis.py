"""Judge minutes: thresholds and persistence for many series at once, in a few statements.

``analyse`` is the core of both the monitoring cycle (every partner, each minute) and the API
(one partner, or all, optionally per dimension value). For each series and metric:

1. the judged window is the last ``severe`` minutes up to the judged minute; the baseline is
   the ``baseline_days`` before it, so the minutes being judged never raise their own bar;
2. the threshold comes from the baseline (trailing, same hour of day, or EWMA);
3. persistence counts the anomalous minutes ending at the judged minute;
4. when the run reaches back into the baseline (an incident longer than the judged window),
   the baseline is taken again before the run started, so a long incident does not raise its
   own bar either, and persistence is counted against that threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import selectors, thresholds
from .choices import HEALTH_SEVERITY_RANK, BaselineMethod, HealthSeverity, Metric
from .persistence import Point, run_length
from .selectors import Config, Row, SeriesKey
from .thresholds import Threshold

MINUTE = timedelta(minutes=1)
# Minutes of recent history read to count persistence (longer runs are reported as this).
LOOKBACK_MINUTES = 360
METRICS = tuple(Metric.values)


@dataclass
class MetricState:
    metric: str
    value: float | None
    volume: int
    threshold: Threshold
    consecutive_minutes: int = 0
    since: datetime | None = None
    severity: str = HealthSeverity.HEALTHY
    reason: str | None = None
    bar_at: Callable[[datetime], float | None] = field(default=lambda minute: None, repr=False)

    @property
    def above_threshold(self) -> bool:
        return self.consecutive_minutes > 0


@dataclass
class Analysis:
    """One series judged at one minute."""

    key: SeriesKey
    minute: datetime
    config: Config
    row: Row | None
    recent: list[Row | None]  # one per minute, oldest first, ending at ``minute``
    states: dict[str, MetricState]

    @property
    def severity(self) -> str:
        return max(
            (state.severity for state in self.states.values()),
            key=HEALTH_SEVERITY_RANK.__getitem__,
            default=HealthSeverity.HEALTHY,
        )


def floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def metric_point(row: Row | None, metric: str, minute: datetime) -> Point:
    """The metric's value in a minute and the volume behind it; None without traffic (never a
    division by zero)."""
    if row is None:
        return Point(minute, None, 0)
    if metric == Metric.LATENCY_P95:
        value = row.latency_p95_ms if row.latency_count else None
        return Point(minute, value, row.latency_count)
    count = {
        Metric.FAILED_RATE: row.failed,
        Metric.DENIED_RATE: row.denied,
        Metric.REVERSED_RATE: row.reversed,
    }[metric]
    return Point(minute, count / row.total if row.total else None, row.total)


def analyse(
    *, keys: Sequence[SeriesKey], configs: Sequence[Config], at: datetime
) -> list[Analysis]:
    """Judge every series at minute ``at`` (its start, UTC)."""
    at = floor_minute(at)
    if not keys:
        return []
    lookbacks = [max(LOOKBACK_MINUTES, 2 * config.steps.severe) for config in configs]
    recent_rows = selectors.minute_series(
        windows=[
            (key, at - (lookback - 1) * MINUTE, at + MINUTE)
            for key, lookback in zip(keys, lookbacks, strict=True)
        ]
    )
    recents = [
        [rows.get(at - (lookback - 1 - i) * MINUTE) for i in range(lookback)]
        for rows, lookback in zip(recent_rows, lookbacks, strict=True)
    ]
    stops = [at - (config.steps.severe - 1) * MINUTE for config in configs]
    first = _thresholds(keys, configs, stops, [METRICS] * len(keys))
    analyses = []
    retry: list[tuple[int, str, datetime]] = []
    for index, (key, config, recent) in enumerate(zip(keys, configs, recents, strict=True)):
        states = {}
        for metric in METRICS:
            state = _judge(metric, recent, at, config, first[index][metric])
            states[metric] = state
            if state.since is not None and state.since < stops[index]:
                retry.append((index, metric, state.since))
        analyses.append(Analysis(key, at, config, recent[-1], recent, states))
    if retry:
        again = _thresholds(
            [keys[i] for i, _, _ in retry],
            [configs[i] for i, _, _ in retry],
            [since for _, _, since in retry],
            [(metric,) for _, metric, _ in retry],
        )
        for (index, metric, _), found in zip(retry, again, strict=True):
            analysis = analyses[index]
            analysis.states[metric] = _judge(
                metric, recents[index], at, analysis.config, found[metric]
            )
    return analyses


def _judge(
    metric: str,
    recent: list[Row | None],
    at: datetime,
    config: Config,
    bar: Callable[[datetime], Threshold],
) -> MetricState:
    start = at - (len(recent) - 1) * MINUTE
    points = [metric_point(row, metric, start + i * MINUTE) for i, row in enumerate(recent)]
    current = points[-1]
    threshold = bar(at)
    state = MetricState(metric, current.value, current.volume, threshold)
    state.bar_at = lambda minute: bar(minute).value
    if current.volume == 0:
        no_latency = metric == Metric.LATENCY_P95 and recent[-1] is not None
        state.reason = (
            "no latency reported in this minute" if no_latency else "no traffic in this minute"
        )
    elif current.volume < config.min_volume:
        state.reason = (
            f"{current.volume} transactions in this minute, fewer than the minimum volume of "
            f"{config.min_volume}: not judged"
        )
    elif threshold.value is None:
        state.reason = threshold.reason
    count, since = run_length(points, state.bar_at, config.min_volume)
    state.consecutive_minutes, state.since = count, since
    state.severity = config.steps.severity(count)
    return state


def _thresholds(
    keys: Sequence[SeriesKey],
    configs: Sequence[Config],
    stops: Sequence[datetime],
    metric_sets: Sequence[Sequence[str]],
) -> list[dict[str, Callable[[datetime], Threshold]]]:
    """Per series, per metric: minute -> threshold, from the baseline ending at ``stop``."""
    windows = [
        (key, stop - timedelta(days=config.baseline_days), stop, config.min_volume)
        for key, config, stop in zip(keys, configs, stops, strict=True)
    ]
    moments = selectors.baseline_moments(windows=windows)
    ewma_indexes = [
        i for i, config in enumerate(configs) if config.baseline_method == BaselineMethod.EWMA
    ]
    ewma_rows = dict(
        zip(
            ewma_indexes,
            selectors.minute_series(
                windows=[
                    (
                        keys[i],
                        max(
                            windows[i][1],
                            stops[i] - thresholds.ewma_span(configs[i].ewma_alpha) * MINUTE,
                        ),
                        stops[i],
                    )
                    for i in ewma_indexes
                ]
            ),
            strict=True,
        )
    )
    found = []
    for index, (config, metrics) in enumerate(zip(configs, metric_sets, strict=True)):
        per_metric = {}
        for metric in metrics:
            per_metric[metric] = _threshold_function(
                metric, config, moments[index].get(metric, {}), ewma_rows.get(index)
            )
        found.append(per_metric)
    return found


def _threshold_function(
    metric: str, config: Config, by_hour: dict, ewma_rows: dict[datetime, Row] | None
) -> Callable[[datetime], Threshold]:
    common = {"metric": metric, "sigmas": config.sigmas, "min_samples": config.min_baseline_minutes}
    method = config.baseline_method
    if method == BaselineMethod.EWMA:
        values = [
            point.value
            for minute, row in sorted((ewma_rows or {}).items())
            if (point := metric_point(row, metric, minute)).value is not None
            and point.volume >= config.min_volume
        ]
        fixed = thresholds.ewma(values, alpha=config.ewma_alpha, **common)
        return lambda minute: fixed
    if method == BaselineMethod.HOUR_OF_DAY:
        per_hour = {
            hour: thresholds.from_moments(
                by_hour.get(hour, thresholds.Moments()), method=method, **common
            )
            for hour in range(24)
        }
        return lambda minute: per_hour[minute.hour]
    fixed = thresholds.from_moments(thresholds.combined(by_hour), method=method, **common)
    return lambda minute: fixed
