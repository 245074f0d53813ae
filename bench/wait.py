"""`POST /api/v1/transactions/?wait=true` at a fixed rate: latency percentiles, open loop.

wrk holds connections busy rather than a rate, and wrk2 is not packaged here, so this is a
small fixed-rate client: request i is due at start + i / rate, whichever of a few keep-alive
connections is free sends it, and its latency counts from when it was due, not from when it
went out. A slow answer therefore charges the requests queued behind it too (no coordinated
omission). Requests are signed before the clock starts; at 100 requests/s the client itself
costs a few percent of one core.

When the server cannot keep up, requests fall ever further behind their schedule; the phase
stops sending GRACE_SECONDS after the last one was due, and each request never sent counts
with the latency it had reached by then (a lower bound), so the percentiles stay honest.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field

from bench import cpu, payloads

PATH = "/api/v1/transactions/?wait=true"
GRACE_SECONDS = 10


@dataclass
class WaitResult:
    """The measured requests (warm-up excluded), reduced to what the report needs."""

    rate: float
    requests: int
    seconds: float
    latencies_ms: list[float]
    service_ms: list[float]  # from the moment it went out: how much is queueing in the client
    late: int  # sent more than 10 ms after they were due (all connections busy)
    unsent: int  # still waiting for a free connection when the phase stopped
    statuses: dict[int, int]
    outcomes: dict[str, int]
    problems: list[str] = field(default_factory=list)
    cpu_usage: cpu.CpuUsage = field(default_factory=cpu.CpuUsage)

    def percentile(self, share: float, values: list[float] | None = None) -> float | None:
        values = sorted(self.latencies_ms if values is None else values)
        if not values:
            return None
        return values[min(len(values) - 1, int(share * len(values)))]

    @property
    def achieved_rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class _Schedule:
    """Requests in order, each due at start + index / rate; threads take the next one."""

    requests: list[tuple[bytes, dict[str, str]]]
    rate: float
    start: float = 0.0
    stop: float = 0.0
    taken: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # index -> (due, sent, answered, status, outcome)
    done: dict[int, tuple[float, float, float, int, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def take(self) -> int | None:
        with self.lock:
            if self.taken == len(self.requests) or time.perf_counter() > self.stop:
                return None
            self.taken += 1
            return self.taken - 1


def measure(
    host: str,
    port: int,
    credentials: tuple[str, str],
    *,
    rate: float,
    seconds: float,
    warmup_seconds: float,
    connections: int,
    cpu_groups: dict[str, int | None],
) -> WaitResult:
    """Warm up, then measure `seconds` at `rate`; the warm-up's requests are left out."""
    warmup = int(rate * warmup_seconds)
    total = warmup + int(rate * seconds)
    schedule = _Schedule(_signed(total, credentials), rate)
    threads = [
        threading.Thread(target=_send, args=(host, port, schedule), daemon=True)
        for _ in range(connections)
    ]
    schedule.start = time.perf_counter() + 0.2  # every thread connected and waiting
    schedule.stop = schedule.start + total / rate + GRACE_SECONDS
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, schedule.start + warmup_seconds - time.perf_counter()))
    with cpu.usage(cpu_groups) as usage:
        for thread in threads:
            thread.join()
    result = _combine(schedule, warmup, rate)
    result.cpu_usage = usage
    return result


def _signed(count: int, credentials: tuple[str, str]) -> list[tuple[bytes, dict[str, str]]]:
    signed = []
    for item in payloads.transactions("wait", count, seed="wait"):
        body = payloads.encode(item)
        signed.append((body, payloads.signed_headers(*credentials, body)))
    return signed


def _send(host: str, port: int, schedule: _Schedule) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        while (index := schedule.take()) is not None:
            due = schedule.start + index / schedule.rate
            time.sleep(max(0.0, due - time.perf_counter()))
            body, headers = schedule.requests[index]
            sent = time.perf_counter()
            connection.request("POST", PATH, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            answered = time.perf_counter()
            schedule.done[index] = (due, sent, answered, response.status, _outcome(answer))
    except Exception as exc:  # reported, not raised: a thread's traceback would be lost
        schedule.problems.append(f"connection failed: {type(exc).__name__}: {exc}")
    finally:
        connection.close()


def _outcome(answer: bytes) -> str:
    """The decision's outcome, or why there is none."""
    try:
        body = json.loads(answer)
    except ValueError:
        return "unreadable answer"
    decision = body.get("decision") if isinstance(body, dict) else None
    if body.get("scoring") != "done" or not isinstance(decision, dict):
        return "no decision"
    return str(decision.get("outcome"))


def _combine(schedule: _Schedule, warmup: int, rate: float) -> WaitResult:
    measured = [schedule.done[i] for i in sorted(schedule.done) if i >= warmup]
    # Never sent: due at `due`, still waiting at the stop (a lower bound of their latency).
    unsent = [
        schedule.start + i / rate
        for i in range(max(warmup, schedule.taken), len(schedule.requests))
    ]
    statuses: dict[int, int] = {}
    outcomes: dict[str, int] = {}
    for _, _, _, status, outcome in measured:
        statuses[status] = statuses.get(status, 0) + 1
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    first_due = schedule.start + warmup / rate
    result = WaitResult(
        rate=rate,
        requests=len(measured),
        seconds=max((answered for _, _, answered, _, _ in measured), default=first_due) - first_due,
        latencies_ms=[(answered - due) * 1000 for due, _, answered, _, _ in measured]
        + [(schedule.stop - due) * 1000 for due in unsent],
        service_ms=[(answered - sent) * 1000 for _, sent, answered, _, _ in measured],
        late=sum(1 for due, sent, _, _, _ in measured if sent - due > 0.010),
        unsent=len(unsent),
        statuses=dict(sorted(statuses.items())),
        outcomes=dict(sorted(outcomes.items())),
        problems=list(schedule.problems),
    )
    expected = len(schedule.requests) - warmup - len(unsent)
    if len(measured) != expected and not result.problems:
        result.problems.append(f"{expected - len(measured)} of {expected} requests not answered")
    result.problems += [
        f"{count} answers with status {status}"
        for status, count in result.statuses.items()
        if status != 201
    ]
    for bad in ("no decision", "unreadable answer"):
        if outcomes.get(bad):
            result.problems.append(f"{outcomes[bad]} answers without a decision ({bad})")
    return result
