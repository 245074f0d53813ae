"""Hot accounts end to end: 200,000 transactions over 400 accounts offered within one minute.

A partner of its own sends batches of 1,000 over a few keep-alive connections on a fixed
schedule spread over 60 s (bench/pipeline.py's sender: a slow answer does not slow the offered
rate, it makes batches late). Every one has to be decided: the phase then waits (bounded) until
each accepted transaction of that partner has a decision (rules_decision) or a dead letter
(pipeline_deadletter), and reports the time that took, decisions/s over the run and the lag from
received_at to decided_at, read from SQL.

Hot accounts make long rolling-aggregate sets in Redis, and one slow script blocks every other
Redis client (the broker, the other shards' drains, ingest's queue pushes). So Redis' own
SLOWLOG is switched on for the phase (commands slower than 10 ms; the previous configuration is
restored after) and the longest call reported, with how many took over 50 ms. The slow log is
server-wide: on a shared Redis other people's commands count too.

Meanwhile a second fresh partner sends 20 transactions a second (one batch of 20 a second): the
queue takes partners in turn within a shard, so its lag shows whether one partner's hot accounts
stall another.

Knobs: BENCH_HOT_ACCOUNTS=0 skips the phase; BENCH_HOT_ACCOUNTS_TRANSACTIONS (default 200,000)
scales it (the minute, the 400 accounts and the other partner's 20 tx/s stay). On its own,
``python -m bench.hot_accounts`` starts the services as `make bench` does and runs only this phase.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import cpu, payloads, pipeline

TRANSACTIONS = 200_000
ACCOUNTS = 400
SECONDS = 60
BATCH_SIZE = 1000
CONNECTIONS = 4
# Batches not sent this long after the first was due are not sent (a finding, not a wait):
# the signatures, made before the clock starts, are good for 300 s.
SEND_LIMIT_SECONDS = 240
DECIDE_LIMIT_SECONDS = 600  # after the last batch was answered
PROBE_RATE, PROBE_BATCH = 20, 20  # the other partner: one batch of 20 a second
POLL_SECONDS = 1.0  # each poll counts the partner's decisions: kept light
SLOWLOG_THRESHOLD_US = 10_000
# Room for every slow command of the phase: SLOWLOG keeps the newest entries only, so a log
# shorter than what was slow could lose the longest.
SLOWLOG_ENTRIES = 1024
TARGET_REDIS_MS = 50.0
TARGET_PROBE_P99_MS = 2000.0  # the queue's aim: decisions well within two seconds (queue.py)


def enabled() -> bool:
    return os.environ.get("BENCH_HOT_ACCOUNTS", "1") != "0"


def transactions() -> int:
    return int(os.environ.get("BENCH_HOT_ACCOUNTS_TRANSACTIONS", TRANSACTIONS))


@dataclass
class SlowCalls:
    """What Redis' SLOWLOG held after the phase (durations as Redis measured them: execution
    only, without the round trip or time queued behind other clients)."""

    threshold_us: int
    entries: int = 0  # commands slower than the threshold that were logged
    logged_total: int = 0  # SLOWLOG LEN: more than `entries` means the oldest were not read
    longest_ms: float = 0.0
    longest_command: str | None = None  # its name, e.g. EVALSHA
    longest_detail: str | None = None  # its first arguments, shortened
    over_target: int = 0  # commands over TARGET_REDIS_MS
    unavailable: str | None = None  # why the slow log could not be read (CONFIG disabled...)

    def record(self, log: list[dict], logged_total: int) -> None:
        self.entries, self.logged_total = len(log), logged_total
        self.over_target = sum(1 for e in log if e["duration"] > TARGET_REDIS_MS * 1000)
        if log:
            worst = max(log, key=lambda e: e["duration"])
            words = _text(worst["command"]).split()
            self.longest_ms = worst["duration"] / 1000
            self.longest_command = words[0].upper() if words else "?"
            self.longest_detail = " ".join(words[:3])[:120]


@dataclass
class ProbeResult:
    """The other partner's small steady stream during the phase."""

    rate: float
    submitted: int = 0
    accepted: int = 0
    decided: int = 0
    dead_letters: int = 0
    lag_ms: dict[str, float | None] = field(default_factory=dict)


@dataclass
class HotAccountsResult:
    """What was offered, accepted and decided, how long it took, and Redis' slowest calls."""

    transactions: int
    accounts: int
    seconds: float  # the offered window
    batch_size: int
    connections: int
    submitted: int = 0
    accepted: int = 0
    submit_seconds: float = 0.0  # first batch due to last batch answered
    late_batches: int = 0  # sent more than 100 ms after they were due
    unsent_batches: int = 0
    decided: int = 0
    dead_letters: int = 0
    decide_seconds: float | None = None  # first batch due to the last decision; None: not all
    waited_seconds: float = 0.0  # first batch due to the end of the wait
    lag_ms: dict[str, float | None] = field(default_factory=dict)
    samples: list[tuple[float, int]] = field(default_factory=list)
    probe: ProbeResult = field(default_factory=lambda: ProbeResult(PROBE_RATE))
    redis: SlowCalls = field(default_factory=lambda: SlowCalls(SLOWLOG_THRESHOLD_US))
    dropped_from_queue: int = 0  # ids still queued at the end, forgotten
    problems: list[str] = field(default_factory=list)
    cpu_usage: cpu.CpuUsage = field(default_factory=cpu.CpuUsage)

    @property
    def all_decided(self) -> bool:
        return self.accepted > 0 and self.decided + self.dead_letters >= self.accepted

    @property
    def decisions_per_second(self) -> float:
        """Decisions over the run: until the last one when all were, else until the wait ended."""
        seconds = self.decide_seconds if self.all_decided else self.waited_seconds
        return self.decided / seconds if seconds else 0.0

    @property
    def decided_share(self) -> float:
        """Accepted transactions with a decision or a dead letter, in percent."""
        done = self.decided + self.dead_letters
        return 100.0 * done / self.accepted if self.accepted else 0.0


def measure(
    host: str,
    port: int,
    credentials: tuple[str, str],
    partner_id: int,
    probe_credentials: tuple[str, str],
    probe_partner_id: int,
    *,
    transactions: int,
    cpu_groups: dict[str, int | None],
) -> HotAccountsResult:
    count = max(1, transactions // BATCH_SIZE)
    result = HotAccountsResult(count * BATCH_SIZE, ACCOUNTS, SECONDS, BATCH_SIZE, CONNECTIONS)
    items = payloads.transactions("hot", count * BATCH_SIZE, seed="hot", accounts=ACCOUNTS)
    hot = pipeline.Sender(
        pipeline.signed_batches(items, count, BATCH_SIZE, credentials),
        SECONDS / count,
        backlog_cap=sys.maxsize,  # offered whatever the backlog: that is the point
    )
    probe_items = payloads.transactions("hot-probe", SECONDS * PROBE_RATE, seed="hot-probe")
    probe = pipeline.Sender(
        pipeline.signed_batches(probe_items, SECONDS, PROBE_BATCH, probe_credentials),
        PROBE_BATCH / PROBE_RATE,
        backlog_cap=sys.maxsize,
    )
    with slow_log(SLOWLOG_THRESHOLD_US) as result.redis, cpu.usage(cpu_groups) as usage:
        threads = pipeline.start_sending(
            host, port, hot, connections=CONNECTIONS, seconds=SEND_LIMIT_SECONDS
        )
        threads += pipeline.start_sending(
            host, port, probe, connections=1, seconds=SEND_LIMIT_SECONDS
        )
        started_epoch = time.time() + (hot.start - time.perf_counter())
        while any(thread.is_alive() for thread in threads):
            result.samples.append((time.perf_counter() - hot.start, _done(partner_id)))
            time.sleep(POLL_SECONDS)
        for thread in threads:
            thread.join()
        deadline = time.perf_counter() + DECIDE_LIMIT_SECONDS
        while time.perf_counter() < deadline:
            done = _done(partner_id)
            result.samples.append((time.perf_counter() - hot.start, done))
            if done >= hot.accepted and _done(probe_partner_id) >= probe.accepted:
                break
            time.sleep(POLL_SECONDS)
        result.waited_seconds = time.perf_counter() - hot.start
    result.cpu_usage = usage
    result.submitted, result.accepted = hot.sent * BATCH_SIZE, hot.accepted
    result.submit_seconds = hot.finished - hot.start
    result.late_batches, result.unsent_batches = hot.late, count - hot.sent
    result.decided = pipeline.decided_count(partner_id)
    result.dead_letters = _dead_letters(partner_id)
    if result.all_decided:
        result.decide_seconds = _last_done_at(partner_id) - started_epoch
    result.lag_ms = pipeline.lag_ms(partner_id)
    result.probe = ProbeResult(
        PROBE_RATE,
        submitted=probe.sent * PROBE_BATCH,
        accepted=probe.accepted,
        decided=pipeline.decided_count(probe_partner_id),
        dead_letters=_dead_letters(probe_partner_id),
        lag_ms=pipeline.lag_ms(probe_partner_id),
    )
    # What the worker did not reach in time would otherwise weigh on the phases that follow.
    result.dropped_from_queue = pipeline.forget_queued([partner_id, probe_partner_id])
    result.problems = [*hot.problems, *(f"other partner: {p}" for p in probe.problems)]
    for label, sender, size in (("hot", hot, BATCH_SIZE), ("other partner", probe, PROBE_BATCH)):
        if not sender.problems and sender.accepted != sender.sent * size:
            result.problems.append(
                f"{label}: {sender.sent * size - sender.accepted} transactions not accepted"
            )
    return result


def _done(partner_id: int) -> int:
    """Decided or set aside: the partner's transactions the pipeline is finished with."""
    return pipeline.decided_count(partner_id) + _dead_letters(partner_id)


def _dead_letters(partner_id: int) -> int:
    from sentinel.pipeline.models import DeadLetter

    return DeadLetter.objects.waiting().filter(partner_id=partner_id).count()


def _last_done_at(partner_id: int) -> float:
    """When the pipeline was last finished with one of the partner's transactions (epoch
    seconds): its last decision, or its last dead letter if that came later."""
    from django.db.models import Max

    from rules.models import Decision
    from sentinel.pipeline.models import DeadLetter

    times = [
        Decision.objects.filter(partner_id=partner_id).aggregate(last=Max("decided_at"))["last"],
        DeadLetter.objects.waiting()
        .filter(partner_id=partner_id)
        .aggregate(last=Max("last_failed_at"))["last"],
    ]
    return max(moment.timestamp() for moment in times if moment is not None)


@contextmanager
def slow_log(threshold_us: int) -> Iterator[SlowCalls]:
    """Redis' SLOWLOG for the block: commands slower than `threshold_us` logged (the log
    emptied first, long enough for the phase), read when the block ends, then the previous
    configuration restored. Without CONFIG (a managed Redis may rename it) the figures say
    why they are missing instead of failing the run."""
    import redis

    calls = SlowCalls(threshold_us)
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    previous: dict[str, str] = {}
    try:
        for name in ("slowlog-log-slower-than", "slowlog-max-len"):
            previous[name] = client.config_get(name)[name]
        client.config_set("slowlog-log-slower-than", threshold_us)
        client.config_set("slowlog-max-len", max(SLOWLOG_ENTRIES, int(previous[name])))
        client.slowlog_reset()
    except (redis.RedisError, KeyError) as exc:
        calls.unavailable = f"{type(exc).__name__}: {exc}"
    try:
        yield calls
    finally:
        try:
            if calls.unavailable is None:
                calls.record(client.slowlog_get(SLOWLOG_ENTRIES), client.slowlog_len())
        except redis.RedisError as exc:
            calls.unavailable = f"{type(exc).__name__}: {exc}"
        finally:
            for name, value in previous.items():  # what could be read is put back
                client.config_set(name, value)
            client.close()


def _text(command: bytes | str) -> str:
    return command.decode(errors="replace") if isinstance(command, bytes) else command


# --- The report --------------------------------------------------------------------------------


def describe() -> str:
    """The load, for the report's configuration."""
    return (
        f"{transactions():,} transactions over {ACCOUNTS} accounts in batches of {BATCH_SIZE:,} "
        f"offered over {SECONDS} s on {CONNECTIONS} connections; another partner at "
        f"{PROBE_RATE} tx/s (a batch of {PROBE_BATCH} a second); decisions awaited at most "
        f"{DECIDE_LIMIT_SECONDS} s; Redis SLOWLOG over {SLOWLOG_THRESHOLD_US // 1000} ms"
    )


def document(result: HotAccountsResult) -> dict:
    redis, probe = result.redis, result.probe
    return {
        "transactions": result.transactions,
        "accounts": result.accounts,
        "offered_seconds": result.seconds,
        "submitted": result.submitted,
        "accepted": result.accepted,
        "submit_seconds": round(result.submit_seconds, 2),
        "late_batches": result.late_batches,
        "unsent_batches": result.unsent_batches,
        "decided": result.decided,
        "dead_letters": result.dead_letters,
        "all_decided": result.all_decided,
        "decide_seconds": _rounded(result.decide_seconds),
        "waited_seconds": round(result.waited_seconds, 1),
        "decisions_per_second": round(result.decisions_per_second, 1),
        "accepted_to_decided_ms": result.lag_ms,
        "decided_over_time": [(round(t, 1), n) for t, n in result.samples],
        "other_partner": {
            "rate": probe.rate,
            "submitted": probe.submitted,
            "accepted": probe.accepted,
            "decided": probe.decided,
            "dead_letters": probe.dead_letters,
            "accepted_to_decided_ms": probe.lag_ms,
        },
        "redis_slowlog": {
            "threshold_ms": redis.threshold_us / 1000,
            "entries": redis.entries,
            "logged_total": redis.logged_total,
            "longest_ms": round(redis.longest_ms, 1),
            "longest_command": redis.longest_command,
            "longest_detail": redis.longest_detail,
            "over_50_ms": redis.over_target,
            "unavailable": redis.unavailable,
        },
        "dropped_from_queue": result.dropped_from_queue,
        "cpu_ms_per_transaction": result.cpu_usage.per_unit_ms(result.accepted),
        "machine_cpu_busy": round(result.cpu_usage.machine_busy, 3),
        "problems": result.problems,
    }


def lines(d: dict | None, c: dict) -> list[str]:
    if d is None:
        return ["Hot accounts: not measured (BENCH_HOT_ACCOUNTS=0 or BENCH_CELERY_WORKER=0)"]
    lag, other, slow = d["accepted_to_decided_ms"], d["other_partner"], d["redis_slowlog"]
    if d["all_decided"]:
        decided = f"all decided {d['decide_seconds']:.0f} s after the first batch was due"
    else:
        left = d["accepted"] - d["decided"] - d["dead_letters"]
        decided = f"NOT all decided: {left:,} left after {d['waited_seconds']:.0f} s"
    if slow["unavailable"]:
        redis_line = f"  Redis SLOWLOG not read: {slow['unavailable']}"
    elif slow["entries"]:
        redis_line = (
            f"  longest Redis call {slow['longest_ms']:.1f} ms ({slow['longest_detail']}); "
            f"{slow['over_50_ms']} over 50 ms, {slow['entries']} over "
            f"{slow['threshold_ms']:.0f} ms (SLOWLOG, Redis execution time, server-wide)"
        )
    else:
        redis_line = f"  no Redis call took over {slow['threshold_ms']:.0f} ms (SLOWLOG)"
    return [
        f"Hot accounts, accepted -> decision stored ({c['hot_accounts_load']})",
        f"  accepted {d['accepted']:,} of {d['submitted']:,} in {d['submit_seconds']:.1f} s "
        f"({d['late_batches']} batches sent > 100 ms late, {d['unsent_batches']} not sent); "
        f"decided {d['decided']:,}, dead letters {d['dead_letters']:,}; {decided}",
        f"  {d['decisions_per_second']:,.0f} decisions/s over the run; accepted -> decided: "
        f"p50 {_ms(lag['p50'])}, p90 {_ms(lag['p90'])}, p99 {_ms(lag['p99'])}, "
        f"max {_ms(lag['max'])}",
        f"  other partner ({other['rate']} tx/s): {other['decided']:,} of {other['accepted']:,} "
        f"decided; accepted -> decided p50 {_ms(other['accepted_to_decided_ms']['p50'])}, "
        f"p99 {_ms(other['accepted_to_decided_ms']['p99'])}",
        redis_line,
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


# --- On its own ----------------------------------------------------------------------------


def main() -> int:
    """Only this phase, against the services `make bench` starts (embedded PostgreSQL and
    Redis unless DATABASE_URL / REDIS_URL are set, then a Celery worker and uvicorn)."""
    import json

    from bench import run, services

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # servers stopped
    _, data_pids = run._start_data_services()
    env = services.server_env()
    services.migrate(env)
    size = transactions()
    with ExitStack() as stack:
        worker = stack.enter_context(services.celery_worker(env))
        base_url, server = stack.enter_context(services.web_server(env, run.UVICORN_OPTIONS))
        address = urlsplit(base_url)
        partner_id, credentials = run._create_credentials("make bench hot accounts")
        probe_id, probe_credentials = run._create_credentials("make bench other partner")
        run._say(f"Hot accounts: {size:,} transactions over {ACCOUNTS} accounts in {SECONDS} s...")
        result = measure(
            address.hostname,
            address.port,
            credentials,
            partner_id,
            probe_credentials,
            probe_id,
            transactions=size,
            cpu_groups={"web server": server.pid, "celery worker": worker.pid, **data_pids},
        )
    d = document(result)
    print("\n".join(lines(d, {"hot_accounts_load": describe()})), flush=True)
    path = services.LOG_DIR / "hot_accounts.json"
    path.write_text(json.dumps(d, indent=2) + "\n")
    print(f"Written to bench/results/{path.name}", flush=True)
    for problem in result.problems:
        print(f"!!! {problem}", flush=True)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
