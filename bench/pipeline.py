"""Sustained scoring end to end: batches accepted at a fixed rate, decisions stored by Celery.

A partner of its own sends batches over a few keep-alive connections on a fixed schedule
(a slow answer does not slow the offered rate), while this process polls how many decisions
that partner has in rules_decision. Decisions per second are read over the steady window
(after a warm-up, until the last batch is accepted); then the worker gets a bounded time to
drain what is left, and the lag from received_at to decided_at is read from SQL.

The rate offered is above the target, so the figure is the pipeline's capacity when it cannot
keep up and the offered rate when it can. When it cannot, the backlog (accepted, not yet
decided) would grow without end, and the drain with it; so sending holds while the backlog is
above a cap, and the phase lasts a fixed time whatever was sent. A backlog at the cap at the
end means the pipeline fell behind; its lag figures then mostly measure the cap.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench import cpu, payloads

PATH = "/api/v1/transactions/batch/"
POLL_SECONDS = 0.25


@dataclass
class PipelineResult:
    """What was offered, accepted and decided, and how long decisions took."""

    offered_rate: float
    submitted: int
    accepted: int
    submit_seconds: float  # first batch due to last batch answered
    late_batches: int  # sent more than 100 ms after they were due
    steady_seconds: float
    steady_decisions: int
    backlog_at_end: int  # accepted but not yet decided when the last batch was answered
    backlog_cap: int
    held_seconds: float  # how long sending was held because the backlog was at the cap
    drain_seconds: float | None  # from then until every accepted one was decided; None: not
    decided: int
    lag_ms: dict[str, float | None]
    samples: list[tuple[float, int]]
    problems: list[str] = field(default_factory=list)
    # CPU while batches were being sent, and the decisions stored meanwhile.
    cpu_usage: cpu.CpuUsage = field(default_factory=cpu.CpuUsage)
    cpu_window_decisions: int = 0

    def cpu_ms_per_transaction(self) -> dict[str, float]:
        """Web per accepted transaction, worker per decision, the rest per accepted one."""
        per = {}
        for name, seconds in self.cpu_usage.seconds.items():
            units = self.cpu_window_decisions if name == "celery worker" else self.accepted
            per[name] = round(seconds * 1000 / units, 3) if units else 0.0
        return per

    @property
    def decisions_per_second(self) -> float:
        return self.steady_decisions / self.steady_seconds if self.steady_seconds else 0.0

    @property
    def accepted_per_second(self) -> float:
        return self.accepted / self.submit_seconds if self.submit_seconds else 0.0


@dataclass
class Sender:
    """The schedule the connections share, and what they saw: batch `i` is due at
    `start + i * interval`; sending holds while more than `backlog_cap` accepted transactions
    wait for a decision (as last polled into `decided`), and stops at `deadline`."""

    batches: list[tuple[bytes, dict[str, str]]]
    interval: float
    backlog_cap: int
    start: float = 0.0
    deadline: float = 0.0
    taken: int = 0
    sent: int = 0
    accepted: int = 0
    decided: int = 0  # as last polled by the main thread
    late: int = 0
    held: float = 0.0
    finished: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    problems: list[str] = field(default_factory=list)

    def take(self) -> int | None:
        with self.lock:
            if self.taken == len(self.batches):
                return None
            self.taken += 1
            return self.taken - 1

    def hold(self) -> bool:
        """Wait while the backlog is at the cap; False when the phase is over."""
        began = time.perf_counter()
        while self.accepted - self.decided > self.backlog_cap:
            if time.perf_counter() > self.deadline:
                break
            time.sleep(0.02)
        with self.lock:
            self.held += time.perf_counter() - began
        return time.perf_counter() <= self.deadline


def measure(
    host: str,
    port: int,
    credentials: tuple[str, str],
    partner_id: int,
    *,
    rate: float,
    seconds: float,
    batch_size: int,
    connections: int,
    warmup_seconds: float,
    backlog_cap: int,
    drain_limit_seconds: float,
    cpu_groups: dict[str, int | None],
) -> PipelineResult:
    count = int(rate * seconds) // batch_size
    items = payloads.transactions("e2e", count * batch_size, seed="e2e")
    sender = Sender(
        signed_batches(items, count, batch_size, credentials), batch_size / rate, backlog_cap
    )
    threads = start_sending(host, port, sender, connections=connections, seconds=seconds)
    samples: list[tuple[float, int]] = []
    with cpu.usage(cpu_groups) as usage:
        while any(thread.is_alive() for thread in threads):
            sender.decided = decided_count(partner_id)
            samples.append((time.perf_counter() - sender.start, sender.decided))
            time.sleep(POLL_SECONDS)
        for thread in threads:
            thread.join()
        end = sender.finished - sender.start
        samples.append((time.perf_counter() - sender.start, decided_count(partner_id)))
    window_decisions = samples[-1][1] - samples[0][1]
    backlog = sender.accepted - samples[-1][1]
    drain_seconds = _drain(partner_id, sender, samples, drain_limit_seconds)
    steady = _steady(samples, warmup_seconds, end)
    result = PipelineResult(
        offered_rate=rate,
        submitted=sender.sent * batch_size,
        accepted=sender.accepted,
        submit_seconds=end,
        late_batches=sender.late,
        steady_seconds=steady[0],
        steady_decisions=steady[1],
        backlog_at_end=backlog,
        backlog_cap=backlog_cap,
        held_seconds=sender.held / connections,
        drain_seconds=drain_seconds,
        decided=samples[-1][1],
        lag_ms=lag_ms(partner_id),
        samples=samples,
        problems=list(sender.problems),
    )
    result.cpu_usage, result.cpu_window_decisions = usage, window_decisions
    if result.accepted != result.submitted and not result.problems:
        result.problems.append(f"{result.submitted - result.accepted} transactions not accepted")
    return result


def signed_batches(
    items: Iterator[dict], count: int, size: int, credentials: tuple[str, str]
) -> list[tuple[bytes, dict[str, str]]]:
    """`count` batch bodies of `size` payloads drawn from `items`, each with its signature
    headers (signed now: the server's 300 s window is far longer than a phase)."""
    batches = []
    for _ in range(count):
        body = payloads.encode({"transactions": [next(items) for _ in range(size)]})
        batches.append((body, payloads.signed_headers(*credentials, body)))
    return batches


def start_sending(
    host: str, port: int, sender: Sender, *, connections: int, seconds: float
) -> list[threading.Thread]:
    """Send `sender`'s batches on schedule over `connections` keep-alive connections, one
    thread each, starting in 0.2 s; batches not sent within `seconds` are not sent. The threads
    end when every batch is answered (or the deadline passed)."""
    threads = [
        threading.Thread(target=_send_all, args=(host, port, sender), daemon=True)
        for _ in range(connections)
    ]
    sender.start = time.perf_counter() + 0.2
    sender.deadline = sender.start + seconds
    for thread in threads:
        thread.start()
    return threads


def _send_all(host: str, port: int, sender: Sender) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        while (index := sender.take()) is not None:
            due = sender.start + index * sender.interval
            time.sleep(max(0.0, due - time.perf_counter()))
            if not sender.hold():
                break
            late = time.perf_counter() - due > 0.1
            body, headers = sender.batches[index]
            try:
                status, answer = _post(connection, body, headers)
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # The server closed the connection after it idled past uvicorn's keep-alive
                # timeout (5 s: batches due further apart than that). Again on a new one: a
                # transaction it did store comes back "duplicate", not counted twice.
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
                status, answer = _post(connection, body, headers)
            with sender.lock:
                sender.sent += 1
                sender.late += late
                sender.finished = max(sender.finished, time.perf_counter())
                if status == 200:
                    sender.accepted += json.loads(answer)["created"]
                else:
                    sender.problems.append(f"batch answered {status}: {answer[:200]!r}")
    except Exception as exc:  # reported, not raised: a thread's traceback would be lost
        sender.problems.append(f"connection failed: {type(exc).__name__}: {exc}")
    finally:
        connection.close()


def _post(
    connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection.request("POST", PATH, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def decided_count(partner_id: int) -> int:
    """Decisions stored so far for the partner's transactions."""
    from rules.models import Decision

    return Decision.objects.filter(partner_id=partner_id).count()


def _drain(
    partner_id: int, sender: Sender, samples: list[tuple[float, int]], limit: float
) -> float | None:
    """Poll until every accepted transaction is decided (or `limit` passes); seconds it took
    after the last batch was answered."""
    deadline = time.perf_counter() + limit
    while samples[-1][1] < sender.accepted and time.perf_counter() < deadline:
        time.sleep(POLL_SECONDS)
        samples.append((time.perf_counter() - sender.start, decided_count(partner_id)))
    if samples[-1][1] < sender.accepted:
        return None
    return max(0.0, samples[-1][0] - (sender.finished - sender.start))


def _steady(samples: list[tuple[float, int]], warmup: float, end: float) -> tuple[float, int]:
    """(seconds, decisions) between the first poll after the warm-up and the last one before
    the submission ended: the pipeline's rate with a full queue and ingest running."""
    window = [(t, n) for t, n in samples if warmup <= t <= end]
    if len(window) < 2:
        return 0.0, 0
    (t0, n0), (t1, n1) = window[0], window[-1]
    return t1 - t0, n1 - n0


def lag_ms(partner_id: int) -> dict[str, float | None]:
    """Accepted (received_at) to decision stored (decided_at), over the partner's decisions."""
    from django.db import connection

    from rules.models import Decision
    from transactions.models import Transaction

    tables = f"{Decision._meta.db_table} d JOIN {Transaction._meta.db_table} t"
    sql = (
        "SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY lag), max(lag) "  # noqa: S608  model metadata only
        "FROM (SELECT extract(epoch FROM d.decided_at - t.received_at) * 1000 AS lag "
        f"FROM {tables} ON t.id = d.transaction_id WHERE d.partner_id = %s) AS lags"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [partner_id])
        percentiles, worst = cursor.fetchone()
    values = [*(percentiles or [None] * 3), worst]
    return {
        name: None if value is None else round(float(value), 1)
        for name, value in zip(("p50", "p90", "p99", "max"), values, strict=True)
    }


def wait_until_idle(limit_seconds: float, *, since: float) -> float:
    """Wait (bounded) until the worker has profiled what this run sent since `since` (epoch
    seconds), so a phase starts with the worker idle instead of chewing on an earlier phase's
    backlog; seconds waited. Stops early when the queue is empty and nothing moves any more:
    ids lost by a failed task wait for the periodic sweep, which the bench does not run."""
    from sentinel.pipeline.queue import queue_length
    from transactions.models import Transaction

    pending = Transaction.objects.unprofiled().filter(
        received_at__gte=datetime.fromtimestamp(since, UTC)
    )
    began = time.perf_counter()
    unchanged_since, last = began, None
    while time.perf_counter() - began < limit_seconds:
        left = pending.count()
        if left == 0:
            break
        if left != last:
            unchanged_since, last = time.perf_counter(), left
        queued = queue_length()
        if not queued and time.perf_counter() - unchanged_since > 3:
            break
        time.sleep(0.5)
    return time.perf_counter() - began


def forget_queued(partner_ids: list[int]) -> int:
    """Drop these partners' lists from the profiling queue, once the worker is stopped, so
    the next run does not start by chewing on this run's backlog (it would share the CPUs
    with the first phase). Their transactions stay unprocessed: bench data, which the periodic
    sweep processes wherever beat runs. Returns how many ids were dropped."""
    from django.conf import settings

    from sentinel.pipeline.queue import partner_queue_key, shard_partners_key
    from sentinel.redis import get_redis

    redis = get_redis()
    dropped = 0
    for shard in range(settings.SENTINEL_PROFILE_SHARDS):
        for partner_id in partner_ids:
            key = partner_queue_key(shard, partner_id)
            dropped += redis.llen(key)
            redis.delete(key)
            redis.srem(shard_partners_key(shard), partner_id)
    return dropped
