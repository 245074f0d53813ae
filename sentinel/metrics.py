"""Prometheus metrics that code records as it works, and the helpers that record them.

The system runs as several processes (two uvicorn workers, a Celery worker with a prefork pool,
Celery beat). With ``PROMETHEUS_MULTIPROC_DIR`` set (``make run`` sets it, sentinel/runner.py)
prometheus_client keeps every value in a per-process file in that directory and the scraping
process adds them up (sentinel/metrics_scrape.py); unset (tests, one process), the values live in
the process's default registry. Either way the objects below are used the same way.

This module imports nothing from the apps, so any layer may record a metric without an import
cycle. The gauges read from Redis and PostgreSQL at scrape time live in
sentinel/metrics_scrape.py. docs/operations.md lists every metric.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from sentinel import tracing

# The *_created series double the output and say only when a process started; multiprocess
# mode never exports them, so a single process leaves them out as well.
disable_created_metrics()

# The scoring pipeline's stages, in order. A stage outside this list is refused: label values
# are series, and a typo should fail a test rather than start a new series in production.
STAGES = (
    "claim",
    "profile",
    "network",
    "features",
    "rules",
    "decision",
    "alerts",
    "cases",
    "notify",
)
# Decision outcomes (rules.choices.DecisionOutcome), pre-created so rate() starts from zero.
OUTCOMES = ("allow", "review", "block")

# A stage handles a batch of up to 1,000 transactions in 1 ms to a few seconds.
STAGE_SECONDS_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

PIPELINE_STAGE_SECONDS = Histogram(
    "sentinel_pipeline_stage_seconds",
    "Time one pipeline stage spent on one batch.",
    ["stage"],
    buckets=STAGE_SECONDS_BUCKETS,
)
PIPELINE_BATCH_SIZE = Histogram(
    "sentinel_pipeline_batch_size",
    "Transactions in one batch handed to a pipeline stage.",
    ["stage"],
    buckets=BATCH_SIZE_BUCKETS,
)
DECISIONS = Counter(
    "sentinel_decisions",
    "Decisions made, by outcome (decisions per second: rate() of this).",
    ["outcome"],
)
PROVIDER_FAILURES = Counter(
    "sentinel_provider_failures",
    "Calls to a feature provider that raised or timed out.",
    ["provider"],
)
RULE_FAILURES = Counter(
    "sentinel_rule_failures",
    "Rule evaluations that raised instead of answering.",
    ["rule"],
)
SCRAPE_PROBE_ERRORS = Counter(
    "sentinel_scrape_probe_errors",
    "Scrape-time probes (sentinel/metrics_scrape.py) that failed to read their source.",
    ["probe"],
)
# livesum: the clients connected to live processes; a dead process's share is dropped
# (metrics_scrape.forget_dead_processes), so a crashed worker's clients do not linger.
DEAD_LETTERS = Counter(
    "sentinel_dead_letters",
    "Transactions the pipeline set aside after they failed on their own (admin: dead letters).",
)
WEBSOCKET_CLIENTS = Gauge(
    "sentinel_websocket_clients",
    "Staff websocket connections open on /ws/alerts/.",
    multiprocess_mode="livesum",
)

for _stage in STAGES:
    PIPELINE_STAGE_SECONDS.labels(stage=_stage)
    PIPELINE_BATCH_SIZE.labels(stage=_stage)
for _outcome in OUTCOMES:
    DECISIONS.labels(outcome=_outcome)


def observe_stage(stage: str, seconds: float, batch_size: int) -> None:
    """Record one stage's run over one batch: its duration and how many items it handled."""
    if stage not in STAGES:
        raise ValueError(f"Unknown pipeline stage {stage!r}; the stages are {', '.join(STAGES)}.")
    PIPELINE_STAGE_SECONDS.labels(stage=stage).observe(seconds)
    PIPELINE_BATCH_SIZE.labels(stage=stage).observe(batch_size)


@contextmanager
def stage_timer(stage: str, batch_size: int) -> Iterator[None]:
    """Time the block as one run of ``stage`` over ``batch_size`` items.

    A block that raises is recorded too: a stage that fails slowly is what the histogram is for.
    With tracing on (sentinel.tracing) the block is also a span, a child of the batch's.
    """
    if stage not in STAGES:
        raise ValueError(f"Unknown pipeline stage {stage!r}; the stages are {', '.join(STAGES)}.")
    with tracing.stage_span(stage, batch_size):
        started = time.perf_counter()
        try:
            yield
        finally:
            observe_stage(stage, time.perf_counter() - started, batch_size)


def count_decisions(outcomes: Iterable[str]) -> None:
    """Count a batch of decisions by outcome: one increment per outcome, not per decision."""
    for outcome, count in Tally(str(outcome) for outcome in outcomes).items():
        DECISIONS.labels(outcome=outcome).inc(count)


def count_provider_failure(provider: str, count: int = 1) -> None:
    PROVIDER_FAILURES.labels(provider=provider).inc(count)


def count_rule_failure(rule: str, count: int = 1) -> None:
    RULE_FAILURES.labels(rule=rule).inc(count)


def count_dead_letter() -> None:
    DEAD_LETTERS.inc()


def websocket_opened() -> None:
    WEBSOCKET_CLIENTS.inc()


def websocket_closed() -> None:
    WEBSOCKET_CLIENTS.dec()
