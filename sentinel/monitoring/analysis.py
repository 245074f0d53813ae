"""Judge minutes: thresholds and persistence for many series at once, in a few statements.

``analyse`` is the core of both the monitoring cycle (every partner, each minute) and the API
(one partner, or all, optionally per dimension value). For each series and metric:

1. the judged window is the last ``severe`` minutes up to the judged minute; the baseline is
   the ``baseline_days`` before it, so the minutes being judged never raise their own bar;
2. the threshold comes from the baseline (trailing, same hour of day, or EWMA);
3. persistence counts the anomalous minutes ending at the judged minute;
4. an incident the monitor has already raised an operational alert for freezes the baseline
   at its first minute, and earlier incidents' minutes are left out of it (BaselineScope), so
   an incident of any length never raises its own bar, nor the next one's;
5. without such an alert (a dimension value, a disabled partner, the first minutes of a run),
   when the run reaches back into the baseline, the baseline is taken again before the run
   started, and persistence is counted against that threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import selectors, thresholds
from .choices import HEALTH_SEVERITY_RANK, BaselineMethod, HealthSeverity, Metric
from .persistence import Point, run_length
from .selectors import Config, Row, SeriesKey
from .thresholds import Moments, Threshold

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


@dataclass(frozen=True)
class BaselineScope:
    """What the partner's operational alerts change in one metric's baseline (docs/monitor.md
    § Long incidents):

    - ``frozen_at``: the start of the incident going on at the judged minute; the baseline
      ends there, so an incident of any length never raises its own bar;
    - ``excluded``: the [from, to) minutes of earlier incidents, left out of the baseline so
      a past slow burn does not blind the monitor to the next one for a week;
    - ``floor``: the first minute of the latest incident accepted as the new normal; the
      baseline begins no earlier.
    """

    frozen_at: datetime | None = None
    excluded: tuple[tuple[datetime, datetime], ...] = ()
    floor: datetime | None = None


NO_SCOPE = BaselineScope()


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
    scopes = _incident_scopes(keys, configs, at)
    requests = []
    for index, config in enumerate(configs):
        judged_from = at - (config.steps.severe - 1) * MINUTE
        for metric in METRICS:
            scope = scopes[index].get(metric, NO_SCOPE)
            stop = min(judged_from, scope.frozen_at or judged_from)
            requests.append((index, metric, stop, scope))
    first = _thresholds(keys, configs, requests)
    analyses = []
    retry = []
    for index, (key, config, recent) in enumerate(zip(keys, configs, recents, strict=True)):
        states = {}
        for metric in METRICS:
            stop, scope = first[(index, metric)][1:]
            state = _judge(metric, recent, at, config, first[(index, metric)][0])
            states[metric] = state
            if scope.frozen_at is None and state.since is not None and state.since < stop:
                retry.append((index, metric, state.since, scope))
        analyses.append(Analysis(key, at, config, recent[-1], recent, states))
    if retry:
        again = _thresholds(keys, configs, retry)
        for index, metric, _, _ in retry:
            analysis = analyses[index]
            analysis.states[metric] = _judge(
                metric, recents[index], at, analysis.config, again[(index, metric)][0]
            )
    return analyses


def _incident_scopes(
    keys: Sequence[SeriesKey], configs: Sequence[Config], at: datetime
) -> list[dict[str, BaselineScope]]:
    """Per series, per metric: the BaselineScope its partner's operational alerts set. Alerts
    are about a partner's whole traffic, so only such series (one partner, no dimension) have
    one; the others keep the stateless re-take of the baseline before a long run."""
    scopes: list[dict[str, BaselineScope]] = [{} for _ in keys]
    wanted = {
        key.partners[0]: index
        for index, key in enumerate(keys)
        if len(key.partners) == 1 and not key.dimension
    }
    if not wanted:
        return scopes
    reach = max(
        config.steps.severe * MINUTE + timedelta(days=config.baseline_days) for config in configs
    )
    incidents = selectors.incidents_since(partner_ids=list(wanted), since=at - reach, at=at)
    for incident in sorted(incidents, key=lambda incident: incident.started):
        index = wanted[incident.partner_id]
        scope = scopes[index].get(incident.metric, NO_SCOPE)
        if incident.accepted:
            scope = BaselineScope(scope.frozen_at, (), incident.started)
        elif incident.is_open or incident.last >= at:
            scope = BaselineScope(incident.started, scope.excluded, scope.floor)
        else:
            scope = BaselineScope(
                scope.frozen_at,
                _joined(scope.excluded, (incident.started, incident.last + MINUTE)),
                scope.floor,
            )
        scopes[index][incident.metric] = scope
    return scopes


def _joined(
    spans: tuple[tuple[datetime, datetime], ...], span: tuple[datetime, datetime]
) -> tuple[tuple[datetime, datetime], ...]:
    """``spans`` (sorted, apart) and a later-starting ``span``, overlaps merged: each minute is
    taken out of a baseline once."""
    if spans and span[0] <= spans[-1][1]:
        return (*spans[:-1], (spans[-1][0], max(spans[-1][1], span[1])))
    return (*spans, span)


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


Request = tuple[int, str, datetime, BaselineScope]  # series index, metric, stop, scope


def _thresholds(
    keys: Sequence[SeriesKey], configs: Sequence[Config], requests: Sequence[Request]
) -> dict[tuple[int, str], tuple[Callable[[datetime], Threshold], datetime, BaselineScope]]:
    """Per (series index, metric) asked for: minute -> threshold from the baseline ending at
    the request's stop, with the stop and scope used. Metrics of a series that share a
    baseline window share one read of it."""
    windows: dict[tuple, int] = {}
    for index, _, stop, scope in requests:
        windows.setdefault((index, stop, scope.floor, scope.excluded), len(windows))
    spans = []
    for index, stop, floor, _ in windows:
        start = stop - timedelta(days=configs[index].baseline_days)
        spans.append((index, max(start, floor) if floor else start, stop))
    # A past incident is left out by subtracting the moments of its minutes (they add up):
    # a small extra window, rather than a per-minute test over every baseline.
    holes = [
        (k, max(low, start), min(high, stop))
        for k, ((index, start, stop), (_, _, _, excluded)) in enumerate(
            zip(spans, windows, strict=True)
        )
        for low, high in excluded
        if max(low, start) < min(high, stop)
    ]
    read = selectors.baseline_moments(
        windows=[
            (keys[index], start, stop, configs[index].min_volume) for index, start, stop in spans
        ]
        + [
            (keys[spans[k][0]], start, stop, configs[spans[k][0]].min_volume)
            for k, start, stop in holes
        ]
    )
    moments = read[: len(spans)]
    for (k, _, _), hole in zip(holes, read[len(spans) :], strict=True):
        moments[k] = _without(moments[k], hole)
    ewma_spans = [
        (k, span)
        for k, span in enumerate(spans)
        if configs[span[0]].baseline_method == BaselineMethod.EWMA
    ]
    ewma_rows = dict(
        zip(
            [k for k, _ in ewma_spans],
            selectors.minute_series(
                windows=[
                    (
                        keys[index],
                        max(start, stop - thresholds.ewma_span(configs[index].ewma_alpha) * MINUTE),
                        stop,
                    )
                    for _, (index, start, stop) in ewma_spans
                ]
            ),
            strict=True,
        )
    )
    found = {}
    for index, metric, stop, scope in requests:
        k = windows[(index, stop, scope.floor, scope.excluded)]
        rows = ewma_rows.get(k)
        if rows is not None and scope.excluded:
            rows = {
                minute: row
                for minute, row in rows.items()
                if not any(low <= minute < high for low, high in scope.excluded)
            }
        function = _threshold_function(metric, configs[index], moments[k].get(metric, {}), rows)
        found[(index, metric)] = (function, stop, scope)
    return found


def _without(
    whole: dict[str, dict[int, Moments]], part: dict[str, dict[int, Moments]]
) -> dict[str, dict[int, Moments]]:
    """Per metric, per hour: the baseline's moments without those of a part of its minutes."""
    return {
        metric: {
            hour: moments - part.get(metric, {}).get(hour, Moments())
            for hour, moments in by_hour.items()
        }
        for metric, by_hour in whole.items()
    }


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
