"""End-to-end alert latency: a signed transaction that trips a rule -> the alert on a websocket.

An investigator's browser is played by a websocket client logged in with a real session. While
background traffic flows at a fixed rate (ordinary signed POSTs, scored by the worker like any
other), a probe transaction is sent at a fixed interval, each for an account of its own, built
to trip ``large_cash_transaction`` (a cash deposit over the reporting line) so each opens a new
alert. Latency is from the moment the probe's POST went out to the moment the matching
``alert.created`` frame arrived: the partner's request, queueing, scoring, the alert, the commit
and the push, as the investigator experiences it.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bench import cpu, payloads

PATH = "/api/v1/transactions/"
PROBE_PREFIX = "PROBE"
FRAME_GRACE_SECONDS = 10


@dataclass
class AlertLatencyResult:
    background_rate: float
    background_sent: int
    background_statuses: dict[int, int]
    probes: int
    latencies_ms: list[float]
    missing: int  # probes whose alert never arrived within the grace period
    seconds: float
    problems: list[str] = field(default_factory=list)
    cpu_usage: cpu.CpuUsage = field(default_factory=cpu.CpuUsage)

    def percentile(self, share: float) -> float | None:
        values = sorted(self.latencies_ms)
        if not values:
            return None
        return values[min(len(values) - 1, int(share * len(values)))]


def measure(
    host: str,
    port: int,
    credentials: tuple[str, str],
    *,
    session_cookie: str,
    background_rate: float,
    probe_interval: float,
    seconds: float,
    warmup_seconds: float,
    connections: int,
    cpu_groups: dict[str, int | None],
) -> AlertLatencyResult:
    """Background traffic for warm-up + ``seconds``; probes during ``seconds`` only."""
    run = datetime.now(UTC).strftime("%H%M%S")
    arrivals: dict[str, float] = {}
    problems: list[str] = []
    listener = _Listener(host, port, session_cookie, arrivals, problems)
    listener.start()
    if not listener.ready.wait(10):
        problems.append("the websocket did not connect within 10 s")
    total = int(background_rate * (warmup_seconds + seconds))
    background = _Background(
        [_signed(p, credentials) for p in payloads.transactions(f"alerts-{run}", total, seed=run)],
        background_rate,
    )
    threads = [
        threading.Thread(target=background.send, args=(host, port), daemon=True)
        for _ in range(connections)
    ]
    background.start = time.perf_counter() + 0.2
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, background.start + warmup_seconds - time.perf_counter()))
    sent: dict[str, float] = {}
    with cpu.usage(cpu_groups) as usage:
        _probe(host, port, credentials, run, sent, problems, probe_interval, seconds)
        for thread in threads:
            thread.join()
    deadline = time.perf_counter() + FRAME_GRACE_SECONDS
    while time.perf_counter() < deadline and not set(sent) <= set(arrivals):
        time.sleep(0.05)
    listener.stop()
    latencies = [(arrivals[a] - sent[a]) * 1000 for a in sent if a in arrivals]
    return AlertLatencyResult(
        background_rate=background_rate,
        background_sent=len(background.statuses_list),
        background_statuses=_count(background.statuses_list),
        probes=len(sent),
        latencies_ms=latencies,
        missing=len(set(sent) - set(arrivals)),
        seconds=seconds,
        problems=problems + background.problems,
        cpu_usage=usage,
    )


def _signed(payload: dict, credentials: tuple[str, str]) -> tuple[bytes, dict[str, str]]:
    body = payloads.encode(payload)
    return body, payloads.signed_headers(*credentials, body)


def _probe_payload(run: str, number: int) -> dict:
    account = f"{PROBE_PREFIX}{run}{number:04d}"
    return {
        "external_id": f"probe-{run}-{number:04d}",
        "occurred_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "amount": "12500.00",
        "currency": "USD",
        "type": "cash_deposit",
        "direction": "inbound",
        "channel": "branch",
        "beneficiary": {"account_id": account, "customer_id": f"C{account}", "country": "US"},
    }


def _probe(host, port, credentials, run, sent, problems, interval: float, seconds: float) -> None:
    """One probe every ``interval`` seconds on a connection of its own; time from the send."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    start = time.perf_counter()
    number = 0
    try:
        while (due := start + number * interval) < start + seconds:
            time.sleep(max(0.0, due - time.perf_counter()))
            payload = _probe_payload(run, number)
            body, headers = _signed(payload, credentials)
            sent[payload["beneficiary"]["account_id"]] = time.perf_counter()
            connection.request("POST", PATH, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                problems.append(f"probe {number} answered {response.status}")
            number += 1
    finally:
        connection.close()


@dataclass
class _Background:
    requests: list[tuple[bytes, dict[str, str]]]
    rate: float
    start: float = 0.0
    taken: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses_list: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def take(self) -> int | None:
        with self.lock:
            if self.taken == len(self.requests):
                return None
            self.taken += 1
            return self.taken - 1

    def send(self, host: str, port: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        try:
            while (index := self.take()) is not None:
                time.sleep(max(0.0, self.start + index / self.rate - time.perf_counter()))
                body, headers = self.requests[index]
                connection.request("POST", PATH, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                self.statuses_list.append(response.status)
        except Exception as exc:  # reported, not raised: a thread's traceback would be lost
            self.problems.append(f"background connection failed: {type(exc).__name__}: {exc}")
        finally:
            connection.close()


class _Listener(threading.Thread):
    """The investigator's browser: a logged-in websocket noting when each probe's alert lands."""

    def __init__(self, host, port, cookie, arrivals: dict[str, float], problems: list[str]):
        super().__init__(daemon=True)
        self.url = f"ws://{host}:{port}/ws/alerts/"
        self.headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://{host}:{port}"}
        self.arrivals, self.problems = arrivals, problems
        self.ready, self.stopping = threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with connect(self.url, additional_headers=self.headers, open_timeout=10) as socket:
                self.ready.set()
                while not self.stopping.is_set():
                    try:
                        frame = socket.recv(timeout=0.2)
                    except TimeoutError:
                        continue
                    self._note(json.loads(frame), time.perf_counter())
        except ConnectionClosed as closed:
            if not self.stopping.is_set():
                self.problems.append(f"the websocket closed: {closed}")
        except Exception as exc:  # reported, not raised
            self.problems.append(f"websocket failed: {type(exc).__name__}: {exc}")

    def _note(self, message: dict, at: float) -> None:
        if message.get("type") != "alert.created":
            return
        account = (message.get("alert") or {}).get("subject", {}).get("account_id", "")
        if account.startswith(PROBE_PREFIX):
            self.arrivals.setdefault(account, at)

    def stop(self) -> None:
        self.stopping.set()
        self.join(5)


def _count(values: list[int]) -> dict[int, int]:
    counted: dict[int, int] = {}
    for value in values:
        counted[value] = counted.get(value, 0) + 1
    return counted


def staff_session() -> str:
    """A session key for a bench investigator, made through Django's own login."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from sentinel.roles import INVESTIGATOR

    user, _ = User.objects.get_or_create(username="bench-investigator", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name=INVESTIGATOR))
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value
