"""Rolling aggregates under hot keys: the longest single Redis call when a few hundred accounts
each make about 500 transactions within a minute (a settlement account, a card-testing attack).

Records and computes the default rule pack's aggregate specs as the scoring worker does
(``aggregates_record_and_compute`` per batch of 1,000, each event asking only for the specs of
the rules in its scope) for 200,000 transactions over 400 accounts whose event times fall within
one minute, arriving shuffled. Times each Redis call of the store's script (what Redis blocks
for, plus one round trip; a batch over the read budget makes several) and reports the longest,
p50 and p99, and events/s over the whole run (encoding and decoding included).

The script runs on a client of its own without the 1 s socket timeout scoring uses, so a slow
script is measured rather than abandoned. ``BENCH_HOTKEYS_BASELINE=<git revision>`` also runs
that revision's ``store.lua`` on the same workload (same request, fresh keys) and checks that
both answer identically; ``BENCH_HOTKEYS_TRANSACTIONS`` scales the workload down (the baseline
before the fix took seconds per call), ``BENCH_HOTKEYS_BATCH`` sets the batch size.

A second workload, *long history*, is one account with 40,000 transactions over 35 days
(about 1,140 a day, a settlement account) whose next 3,000 arrive in batches of 1,000: its key
alone holds more members than the read budget, so the store reads it in pages and sweeps it
on the worker (rules.aggregates.paged). It runs twice, with the budget (paged) and with an
unlimited one (one script call reads the whole key, as before), and reports the longest Redis
command of each from Redis' slow log (its own execution time, whatever the command), and
checks that both answer identically.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

TRANSACTIONS = 200_000
ACCOUNTS = 400
SPREAD_SECONDS = 60
BATCH = int(os.environ.get("BENCH_HOTKEYS_BATCH", 1000))
TARGET_MS = 50.0
RESULTS = Path(__file__).resolve().parent / "results" / "hotkeys.json"
_TYPES = (
    ("card_payment", 40),
    ("transfer", 25),
    ("p2p", 12),
    ("ach", 8),
    ("wire", 4),
    ("cash_withdrawal", 5),
    ("cash_deposit", 4),
    ("refund", 2),
)
_INBOUND = {"cash_deposit", "refund"}


@dataclass
class HotKeysRun:
    """One store script's figures over the workload."""

    label: str
    calls_ms: list[float] = field(default_factory=list)
    # Redis' own CPU time per call, when it runs on this machine: unlike wall time, it does
    # not grow while Redis waits for a core others' work holds.
    cpu_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    transactions: int = 0

    @property
    def longest_ms(self) -> float:
        return max(self.calls_ms, default=0.0)

    def percentile_ms(self, fraction: float, *, cpu: bool = False) -> float:
        ordered = sorted(self.cpu_ms if cpu else self.calls_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    @property
    def per_second(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        cpu = (
            f"; Redis CPU per call: longest {max(self.cpu_ms):.1f} ms, p50 "
            f"{self.percentile_ms(0.5, cpu=True):.1f} ms, p99 "
            f"{self.percentile_ms(0.99, cpu=True):.1f} ms"
            if self.cpu_ms
            else ""
        )
        return (
            f"{self.label}: {len(self.calls_ms)} Redis calls for "
            f"{-(-self.transactions // BATCH)} batches of {BATCH:,}; longest "
            f"{self.longest_ms:.1f} ms, p50 {self.percentile_ms(0.5):.1f} ms, p99 "
            f"{self.percentile_ms(0.99):.1f} ms; {self.per_second:,.0f} events/s "
            f"(target: longest <= {TARGET_MS:.0f} ms){cpu}"
        )


@dataclass
class HotKeysResult:
    runs: list[HotKeysRun]
    specs: int
    # Wall ms Redis took for a bare Lua loop of 10 million additions (about 50 ms on an idle
    # core): how much the figures are inflated by others' load on the box.
    lua_loop_ms: float = 0.0
    problems: list[str] = field(default_factory=list)
    # Long history: label -> {"longest_command_ms", "commands", "seconds"}.
    long_history: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "workload": f"{TRANSACTIONS:,} events over {ACCOUNTS} accounts within "
            f"{SPREAD_SECONDS} s, batches of {BATCH:,}, {self.specs} default-pack specs",
            "lua_loop_ms": round(self.lua_loop_ms, 1),
            "runs": [
                {
                    "label": run.label,
                    "transactions": run.transactions,
                    "redis_calls": len(run.calls_ms),
                    "longest_call_ms": round(run.longest_ms, 1),
                    "p50_call_ms": round(run.percentile_ms(0.5), 1),
                    "p99_call_ms": round(run.percentile_ms(0.99), 1),
                    "events_per_second": round(run.per_second),
                    "longest_call_redis_cpu_ms": round(max(run.cpu_ms, default=0.0), 1),
                    "p50_call_redis_cpu_ms": round(run.percentile_ms(0.5, cpu=True), 1),
                    "p99_call_redis_cpu_ms": round(run.percentile_ms(0.99, cpu=True), 1),
                    "target_longest_ms": TARGET_MS,
                }
                for run in self.runs
            ],
            "long_history": {
                "workload": f"one account, {LONG_HISTORY:,} events over 35 days, then "
                f"{LONG_BATCHES} batches of {BATCH:,} on it",
                "runs": self.long_history,
                "target_longest_ms": TARGET_MS,
            },
            "problems": self.problems,
        }


def measure(
    *,
    partner_id: int,
    count: int | None = None,
    baseline: str | None = None,
) -> HotKeysResult:
    """Run the workload through the current store script (and the baseline's, if asked)."""
    import redis
    from django.conf import settings

    from rules.aggregates import aggregates_record_and_compute, store

    count = count or int(os.environ.get("BENCH_HOTKEYS_TRANSACTIONS", TRANSACTIONS))
    baseline = baseline or os.environ.get("BENCH_HOTKEYS_BASELINE") or None
    specs, scopes = _pack_specs()
    events = _events(partner_id, count)
    batches = [events[start : start + BATCH] for start in range(0, len(events), BATCH)]
    wanted = [[scopes[event.type] for event in batch] for batch in batches]
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=600)
    scripts = [("current store", Path(store.__file__).with_name("store.lua").read_text())]
    if baseline:
        scripts.append((f"store.lua at {baseline}", _script_at(baseline)))
    result = HotKeysResult(runs=[], specs=len(specs), lua_loop_ms=_lua_loop_ms(client))
    answers = []
    original = store._script
    try:
        for label, source in scripts:
            run = HotKeysRun(label=label, transactions=len(events))
            timed = _Timed(client.register_script(source), client, run, _redis_pid(client))
            store._script = lambda timed=timed: timed
            store.aggregates_drop(partner_id=partner_id)
            began = time.perf_counter()
            answers.append(
                [
                    aggregates_record_and_compute(batch, specs, wanted=subsets)
                    for batch, subsets in zip(batches, wanted, strict=True)
                ]
            )
            run.seconds = time.perf_counter() - began
            result.runs.append(run)
    finally:
        store._script = original
        store.aggregates_drop(partner_id=partner_id)
    if len(answers) == 2:
        differing = sum(1 for a, b in zip(*answers, strict=True) if a != b)
        if differing:
            result.problems.append(f"{differing} batches answered differently from the baseline")
    _measure_long_history(result, partner_id, client, specs, scopes)
    return result


LONG_HISTORY = 40_000
LONG_BATCHES = 3


def _measure_long_history(result: HotKeysResult, partner_id: int, client, specs, scopes) -> None:
    """One account's key over the read budget: paged, then in one call, from the slow log."""
    from django.test import override_settings

    from rules.aggregates import aggregates_record, aggregates_record_and_compute, store

    history, arriving = _long_history_events(partner_id)
    batches = [arriving[start : start + BATCH] for start in range(0, len(arriving), BATCH)]
    wanted = [[scopes[event.type] for event in batch] for batch in batches]
    prefix = store.set_key(partner_id, "", "")[:-1]
    script = client.register_script(Path(store.__file__).with_name("store.lua").read_text())
    original = store._script
    answers = []
    try:
        store._script = lambda: _OnClient(script, client)
        for label, budget in (
            ("paged above the read budget", store.read_budget()),
            ("one call per key (unlimited budget)", 10**12),
        ):
            store.aggregates_drop(partner_id=partner_id)
            aggregates_record(history)
            with override_settings(SENTINEL_AGGREGATE_READ_BUDGET=budget), _SlowLog(client) as log:
                began = time.perf_counter()
                answers.append(
                    [
                        aggregates_record_and_compute(batch, specs, wanted=subsets)
                        for batch, subsets in zip(batches, wanted, strict=True)
                    ]
                )
                seconds = time.perf_counter() - began
            durations = log.durations_ms(prefix)
            result.long_history[label] = {
                "longest_command_ms": round(max(durations, default=0.0), 1),
                "commands": len(durations),
                "seconds": round(seconds, 2),
            }
    finally:
        store._script = original
        store.aggregates_drop(partner_id=partner_id)
    if answers[0] != answers[1]:
        result.problems.append("long history: paged and one-call answers differ")


class _OnClient:
    """The store's script on the bench's client (no 1 s socket timeout)."""

    def __init__(self, script, client):
        self.script, self.client = script, client

    def __call__(self, *, keys, args):
        return self.script(keys=keys, args=args, client=self.client)


class _SlowLog:
    """Redis' slow log recording every command while the block runs (settings restored)."""

    def __init__(self, client):
        self.client = client
        self.entries: list[dict] = []

    def __enter__(self):
        config = self.client.config_get("slowlog-*")
        self.saved = {name: config[name] for name in ("slowlog-log-slower-than", "slowlog-max-len")}
        self.client.config_set("slowlog-max-len", 1_000_000)
        self.client.config_set("slowlog-log-slower-than", 0)
        self.client.slowlog_reset()
        return self

    def __exit__(self, *exc):
        self.client.config_set("slowlog-log-slower-than", -1)
        self.entries = self.client.slowlog_get(1_000_000)
        for name, value in self.saved.items():
            self.client.config_set(name, value)
        self.client.slowlog_reset()
        return False

    def durations_ms(self, prefix: str) -> list[float]:
        """Execution times of the commands that named one of the partner's keys."""
        wanted = prefix.encode()
        return [
            entry["duration"] / 1000
            for entry in self.entries
            if any(wanted in part for part in entry["command"].split())
        ]


def _long_history_events(partner_id: int) -> tuple[list, list]:
    """One account's 35 days of history, and the next LONG_BATCHES x BATCH events on it."""
    from rules.aggregates import AggregateEvent

    rng = random.Random("long-history")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    span_ms = 35 * 86_400_000
    names = [name for name, _ in _TYPES]
    weights = [weight for _, weight in _TYPES]

    def event(n: int, at: datetime) -> AggregateEvent:
        type_ = rng.choices(names, weights)[0]
        counterparty = f"SET{rng.randrange(30_000):06d}"
        return AggregateEvent(
            id=f"long-{n}",
            partner_id=partner_id,
            occurred_at=at,
            amount=Decimal(rng.randrange(1, 5_000_00)).scaleb(-2),
            currency="USD",
            type=type_,
            direction="inbound" if type_ in _INBOUND else "outbound",
            status="approved",
            channel="api",
            keys={"account": "SETTLE01", "customer": "SETTLEC01", "counterparty": counterparty},
            counterparty=counterparty,
            counterparty_country="US",
        )

    history = sorted(
        (
            event(n, now - timedelta(minutes=10, milliseconds=rng.randrange(span_ms)))
            for n in range(LONG_HISTORY)
        ),
        key=lambda item: item.occurred_at,
    )
    arriving = [
        event(LONG_HISTORY + n, now - timedelta(milliseconds=rng.randrange(600_000)))
        for n in range(LONG_BATCHES * BATCH)
    ]
    return history, arriving


class _Timed:
    """The store's script, run on the bench's client and timed call by call."""

    def __init__(self, script, client, run: HotKeysRun, pid: int | None):
        self.script, self.client, self.run, self.pid = script, client, run, pid

    def __call__(self, *, keys, args):
        cpu = _cpu_ns(self.pid)
        began = time.perf_counter()
        try:
            return self.script(keys=keys, args=args, client=self.client)
        finally:
            self.run.calls_ms.append((time.perf_counter() - began) * 1000)
            if cpu is not None:
                self.run.cpu_ms.append((_cpu_ns(self.pid) - cpu) / 1e6)


def _redis_pid(client) -> int | None:
    """Redis' pid when it runs here (its main thread runs the scripts)."""
    try:
        pid = int(client.info("server")["process_id"])
    except (KeyError, ValueError):
        return None
    return pid if _cpu_ns(pid) is not None else None


def _cpu_ns(pid: int | None) -> int | None:
    """Nanoseconds the process' main thread has run on a core (its first schedstat field)."""
    if pid is None:
        return None
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def emit(result: HotKeysResult) -> None:
    """Print the figures and write them to bench/results/hotkeys.json."""
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    print(
        f"Hot keys ({ACCOUNTS} accounts x ~{TRANSACTIONS // ACCOUNTS} events within a minute, "
        f"{result.specs} default-pack specs):"
    )
    print(f"  Redis ran a bare 10-million-step Lua loop in {result.lua_loop_ms:.0f} ms (~50 idle)")
    for run in result.runs:
        print(f"  {run.summary()}")
    for label, run in result.long_history.items():
        print(
            f"  Long history ({LONG_HISTORY:,} events on one account over 35 days), {label}: "
            f"longest Redis command {run['longest_command_ms']:.1f} ms over "
            f"{run['commands']} commands, {run['seconds']:.2f} s for {LONG_BATCHES} batches "
            f"(target: longest <= {TARGET_MS:.0f} ms)"
        )
    for problem in result.problems:
        print(f"  PROBLEM: {problem}")


def _pack_specs():
    """The default pack's aggregate specs, and per transaction type those its rules in scope
    need (as ``engine.RuleSet.specs_for`` chooses them)."""
    from rules.default_pack import PACK
    from rules.expressions import compile_expression

    specs: dict = {}
    compiled = [(rule, compile_expression(rule.expression).aggregates) for rule in PACK]
    for _, aggregates in compiled:
        specs.update(dict.fromkeys(aggregates))
    scopes = {
        name: frozenset().union(
            *(
                aggregates
                for rule, aggregates in compiled
                if not rule.transaction_types or name in rule.transaction_types
            )
        )
        for name, _ in _TYPES
    }
    return tuple(specs), scopes


def _events(partner_id: int, count: int) -> list:
    """`count` events over ACCOUNTS accounts within SPREAD_SECONDS, in shuffled arrival order."""
    from rules.aggregates import AggregateEvent

    rng = random.Random("hotkeys")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    names = [name for name, _ in _TYPES]
    weights = [weight for _, weight in _TYPES]
    events = []
    for n in range(count):
        account = rng.randrange(ACCOUNTS)
        type_ = rng.choices(names, weights)[0]
        counterparty = f"EXT{rng.randrange(20_000):06d}" if rng.random() < 0.7 else "MERCH01"
        device = f"dev-{account}-{rng.randrange(3)}"
        ip = f"10.0.{account % 50}.{rng.randrange(4)}"
        events.append(
            AggregateEvent(
                id=f"hot-{n}",
                partner_id=partner_id,
                occurred_at=start + timedelta(milliseconds=rng.randrange(SPREAD_SECONDS * 1000)),
                amount=Decimal(rng.randrange(1, 5_000_00)).scaleb(-2),
                currency="USD" if rng.random() < 0.9 else "EUR",
                type=type_,
                direction="inbound" if type_ in _INBOUND else "outbound",
                status="approved" if rng.random() < 0.9 else rng.choice(("denied", "failed")),
                channel=rng.choice(("mobile", "web", "pos", "api")),
                keys={
                    "account": f"HOT{account:04d}",
                    "customer": f"HOTC{account:04d}",
                    "counterparty": counterparty,
                    "device": device,
                    "ip": ip,
                },
                counterparty=counterparty,
                counterparty_country=rng.choice(("US", "GB", "SG")),
                device=device,
                ip=ip,
            )
        )
    return events


def _lua_loop_ms(client) -> float:
    began = time.perf_counter()
    client.eval("local x = 0 for i = 1, 10000000 do x = x + i end return 0", 0)
    return (time.perf_counter() - began) * 1000


def _script_at(revision: str) -> str:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        [shutil.which("git") or "git", "show", f"{revision}:rules/aggregates/store.lua"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import django

    django.setup()
    emit(measure(partner_id=int(os.environ.get("BENCH_HOTKEYS_PARTNER", "999999"))))
