"""Batches of 1,000 transactions over a few keep-alive connections: items/s and batch latency.

A plain http.client loop is enough here: a handful of requests carry megabytes each, so the
client spends its time waiting, not competing with the server for the CPU.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass, field

from bench import cpu, payloads

PATH = "/api/v1/transactions/batch/"
STATUSES = ("created", "duplicate", "conflict", "invalid")


@dataclass
class BatchResult:
    """The measured batches, reduced to what the report needs."""

    items: int
    seconds: float
    latencies_ms: list[float]
    counts: dict[str, int]
    problems: list[str] = field(default_factory=list)
    cpu_usage: cpu.CpuUsage = field(default_factory=cpu.CpuUsage)

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms)


@dataclass
class _Connection:
    """One client connection's signed bodies and what it saw."""

    requests: list[tuple[bytes, dict[str, str]]]
    latencies_ms: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    problems: list[str] = field(default_factory=list)


def measure(
    host: str,
    port: int,
    credentials: tuple[str, str],
    *,
    connections: int,
    batches_per_connection: int,
    batch_size: int,
    cpu_groups: dict[str, int | None],
) -> BatchResult:
    """One discarded warm-up batch per connection, then the measured batches, all concurrent."""
    clients = [
        _Connection(
            _signed_batches(f"batch{n}", batches_per_connection + 1, batch_size, credentials)
        )
        for n in range(connections)
    ]
    start = threading.Barrier(connections + 1)
    threads = [
        threading.Thread(target=_send_all, args=(host, port, client, start), daemon=True)
        for client in clients
    ]
    for thread in threads:
        thread.start()
    with cpu.usage(cpu_groups) as usage:
        with contextlib.suppress(threading.BrokenBarrierError):  # a failed warm-up; reported
            start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
    result = _combine(clients, seconds, batch_size * batches_per_connection * connections)
    result.cpu_usage = usage
    return result


def _signed_batches(
    name: str, count: int, size: int, credentials: tuple[str, str]
) -> list[tuple[bytes, dict[str, str]]]:
    """Bodies of `size` new transactions each, signed now (the run lasts seconds)."""
    items = payloads.transactions(name, count * size, seed=name)
    batches = []
    for _ in range(count):
        body = payloads.encode({"transactions": [next(items) for _ in range(size)]})
        batches.append((body, payloads.signed_headers(*credentials, body)))
    return batches


def _send_all(host: str, port: int, client: _Connection, start: threading.Barrier) -> None:
    """Warm up, wait for the other connections, then send the measured batches back to back."""
    connection = http.client.HTTPConnection(host, port, timeout=120)
    try:
        warmup, *measured = client.requests
        _post(connection, *warmup)
        start.wait()
        for body, headers in measured:
            began = time.perf_counter()
            status, answer = _post(connection, body, headers)
            client.latencies_ms.append((time.perf_counter() - began) * 1000)
            _tally(client, status, answer)
    except Exception as exc:  # reported, not raised: a thread's traceback would be lost
        client.problems.append(f"connection failed: {type(exc).__name__}: {exc}")
        start.abort()
    finally:
        connection.close()


def _post(
    connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection.request("POST", PATH, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def _tally(client: _Connection, status: int, answer: bytes) -> None:
    """Count item outcomes; anything but 200 with every item created is a problem."""
    if status != 200:
        client.problems.append(f"batch answered {status}: {answer[:200]!r}")
        return
    outcome = json.loads(answer)
    for name in STATUSES:
        client.counts[name] += outcome[name]
    if outcome["created"] != len(outcome["results"]):
        client.problems.append(
            "batch items not created: "
            + ", ".join(f"{outcome[name]} {name}" for name in STATUSES[1:] if outcome[name])
        )


def _combine(clients: list[_Connection], seconds: float, sent: int) -> BatchResult:
    counts = {name: sum(client.counts[name] for client in clients) for name in STATUSES}
    problems = [problem for client in clients for problem in client.problems]
    if counts["created"] != sent and not problems:
        problems.append(f"{sent - counts['created']} of {sent} items not created")
    return BatchResult(
        items=counts["created"],
        seconds=seconds,
        latencies_ms=[ms for client in clients for ms in client.latencies_ms],
        counts=counts,
        problems=problems,
    )
