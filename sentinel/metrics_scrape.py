"""What ``GET /metrics`` answers: every process's recorded metrics plus gauges read at scrape time.

Recorded metrics (sentinel/metrics.py) come from the per-process files in
``PROMETHEUS_MULTIPROC_DIR`` when it is set (``make run``), from this process's registry
otherwise. The backlog gauges are read here, once per scrape and only in the process answering
it, from Redis and PostgreSQL; each read is a *probe*. A failing probe never fails the scrape:
its series are left out, ``sentinel_scrape_probe_ok{probe}`` reads 0 and
``sentinel_scrape_probe_errors_total{probe}`` counts it, and the others are reported as usual.

Probes are bounded by design: Redis answers O(1) commands per shard, and every SQL count reads
at most COUNT_CAP rows through a partial index, under a statement timeout.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from alerts.choices import DeliveryState
from alerts.models import WebhookDelivery
from sentinel.metrics import SCRAPE_PROBE_ERRORS
from sentinel.pipeline.models import DeadLetter
from sentinel.pipeline.queue import queue_backlog
from transactions.models import Transaction

logger = logging.getLogger(__name__)

# A count past this reads as the cap ("at least this many"): beyond it the number only says
# "far behind", and counting further would make the scrape as slow as the backlog is long.
COUNT_CAP = 100_000
# No probe query may hold a connection longer than this; a slow one fails its probe only.
PROBE_STATEMENT_TIMEOUT_MS = 2000
# How long a probe waits for a database connection; Django would wait out the pool's own
# timeout (10 s), as long as Prometheus' default scrape timeout.
PROBE_CONNECT_TIMEOUT_SECONDS = 2.0


def profiling_queues() -> Iterable[Metric]:
    """Ids waiting in each profiling shard (Redis; every partner's list in it), and how long
    the oldest has waited: ids are uuid7 (sentinel/ids.py), so each carries its own time."""
    backlog = GaugeMetricFamily(
        "sentinel_profiling_backlog",
        "Transaction ids waiting in a profiling queue shard (Redis).",
        labels=["shard"],
    )
    oldest = GaugeMetricFamily(
        "sentinel_profiling_backlog_oldest_seconds",
        "Age of the oldest id waiting in a profiling queue shard; 0 when the shard is empty.",
        labels=["shard"],
    )
    for shard in queue_backlog():
        backlog.add_metric([str(shard.shard)], shard.waiting)
        oldest.add_metric([str(shard.shard)], shard.oldest_age_seconds)
    return [backlog, oldest]


def dead_letters() -> Iterable[Metric]:
    """Transactions the pipeline set aside, waiting for someone to retry them (the partial
    index ``deadletter_waiting`` keeps this cheap)."""
    with _bounded_queries():
        count = _bounded_count(DeadLetter.objects.waiting())
    return [
        _gauge(
            "sentinel_dead_letters_waiting",
            "Transactions set aside by the pipeline and not yet retried successfully.",
            count,
        )
    ]


def unprofiled_transactions() -> Iterable[Metric]:
    """Transactions accepted but not yet profiled (queued, being profiled, or lost from Redis
    and waiting for the sweep), read through the partial index ``tx_unprofiled``."""
    unprofiled = Transaction.objects.unprofiled()
    with _bounded_queries():
        count = _bounded_count(unprofiled)
        first = unprofiled.order_by("received_at").values_list("received_at", flat=True).first()
    return [
        _gauge(
            "sentinel_transactions_unprofiled",
            f"Transactions stored but not yet profiled (at most {COUNT_CAP}: the cap means "
            "at least that many).",
            count,
        ),
        _gauge(
            "sentinel_transactions_unprofiled_oldest_seconds",
            "Time since the oldest unprofiled transaction was received; 0 when there is none.",
            _age(first),
        ),
    ]


def webhook_outbox() -> Iterable[Metric]:
    """Webhook deliveries still to be made, and how late the most overdue one is, read
    through the partial index ``webhook_delivery_due`` (pending rows only)."""
    pending = WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
    with _bounded_queries():
        count = _bounded_count(pending)
        due = (
            pending.filter(next_attempt_at__isnull=False)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
    return [
        _gauge(
            "sentinel_webhook_outbox",
            f"Webhook deliveries pending (not yet delivered nor dead-lettered; at most "
            f"{COUNT_CAP}).",
            count,
        ),
        _gauge(
            "sentinel_webhook_outbox_overdue_seconds",
            "How long past its due time the most overdue pending delivery is; 0 when none is.",
            _age(due),
        ),
    ]


@dataclass(frozen=True)
class Probe:
    """A reading taken at scrape time: ``read`` returns metric families from ``source``."""

    source: str
    read: Callable[[], Iterable[Metric]]


# Every probe, by the name its ok flag carries. A new backlog (the pipeline's dead letters, for
# one) is a function returning metric families, added here: nothing else changes.
PROBES: dict[str, Probe] = {
    "profiling_queues": Probe("redis", profiling_queues),
    "unprofiled_transactions": Probe("database", unprofiled_transactions),
    "webhook_outbox": Probe("database", webhook_outbox),
    "dead_letters": Probe("database", dead_letters),
}


class SystemStateCollector:
    """Runs every probe at collection time; a probe that raises is reported, never raised.

    Once a probe of a source has failed, the other probes of that source are not tried in this
    scrape: with PostgreSQL down each one would wait out the connection pool's timeout (10 s),
    and the scrape must answer within Prometheus' own timeout.
    """

    def __init__(self, probes: dict[str, Probe] | None = None):
        self.probes = PROBES if probes is None else probes

    def collect(self) -> Iterable[Metric]:
        ok = GaugeMetricFamily(
            "sentinel_scrape_probe_ok",
            "1 when the probe read its source during this scrape, 0 when it failed.",
            labels=["probe"],
        )
        duration = GaugeMetricFamily(
            "sentinel_scrape_probe_seconds",
            "Time the probe took during this scrape.",
            labels=["probe"],
        )
        failed_sources: set[str] = set()
        for name, probe in self.probes.items():
            started = time.perf_counter()
            families = self._read(name, probe) if probe.source not in failed_sources else None
            if families is None:
                failed_sources.add(probe.source)
                SCRAPE_PROBE_ERRORS.labels(probe=name).inc()
            ok.add_metric([name], 0.0 if families is None else 1.0)
            duration.add_metric([name], time.perf_counter() - started)
            yield from families or []
        yield ok
        yield duration

    @staticmethod
    def _read(name: str, probe: Probe) -> list[Metric] | None:
        """The probe's families, all or nothing; None when it failed."""
        try:
            return list(probe.read())
        except Exception:  # any failure of a source is what the ok flag is for
            logger.warning("Metrics probe %s failed.", name, exc_info=True)
            return None


class _ThisProcess:
    """The default registry's metrics, for a single process (no multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition(*, multiproc_dir: str | None = None) -> bytes:
    """The Prometheus text of one scrape."""
    path = multiproc_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SystemStateCollector())
    if path:
        forget_dead_processes(path)
        MultiProcessCollector(registry, path=path)
    else:
        registry.register(_ThisProcess())
    return generate_latest(registry)


_LIVE_GAUGE_FILE = re.compile(r"gauge_(?:livesum|liveall|livemax|livemin|livemostrecent)_(\d+)\.db")


def forget_dead_processes(path: str) -> list[int]:
    """Drop the live gauges of processes that have exited (a crashed web worker's websocket
    clients, say), so they stop counting; counters and histograms keep their totals."""
    dead = []
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        match = _LIVE_GAUGE_FILE.fullmatch(os.path.basename(name))
        if match and not _alive(pid := int(match.group(1))) and pid not in dead:
            mark_process_dead(pid, path)
            dead.append(pid)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


@contextmanager
def _bounded_queries() -> Iterator[None]:
    """One transaction with a statement timeout, so a probe's queries cannot hang the scrape."""
    _connect_within(PROBE_CONNECT_TIMEOUT_SECONDS)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(PROBE_STATEMENT_TIMEOUT_MS)}")
        yield


def _connect_within(seconds: float) -> None:
    """Raise (psycopg_pool.PoolTimeout) if the pool has no connection to give within
    ``seconds``; the connection is handed back at once, for Django to take it up."""
    pool = connection.pool
    if connection.connection is None and pool is not None:
        pool.open()  # as Django's own connect does first; a no-op once open
        pool.putconn(pool.getconn(timeout=seconds))


def _bounded_count(queryset: QuerySet) -> int:
    """COUNT(*) over at most COUNT_CAP rows. The model's default ordering is dropped: kept, it
    makes PostgreSQL sort the whole backlog before the LIMIT (0.5 s for 50,000 rows, where
    the index alone answers in 20 ms)."""
    return queryset.order_by().values("pk")[:COUNT_CAP].count()


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return max(0.0, (timezone.now() - moment).total_seconds())
