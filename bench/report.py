"""The figures against the targets, for people (stdout) and for tools (results/latest.json)."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import amlsim_replay, hot_accounts
from bench.alerts import AlertLatencyResult
from bench.batch import BatchResult
from bench.hot_accounts import HotAccountsResult
from bench.pipeline import PipelineResult
from bench.scoring import ScoringResult
from bench.single import WrkResult
from bench.wait import WaitResult

RESULTS = Path(__file__).with_name("results") / "latest.json"
# A 1-minute load average above this before the run means someone else was using the CPUs.
BUSY_LOAD = 0.5


@dataclass(frozen=True)
class Results:
    """Every phase's result; the pipeline is None when the bench ran without the worker."""

    single: WrkResult
    batch: BatchResult
    scoring: ScoringResult
    wait: WaitResult
    pipeline: PipelineResult | None
    alerts: AlertLatencyResult | None = None
    hot_accounts: HotAccountsResult | None = None  # None: skipped (BENCH_HOT_ACCOUNTS=0)
    # A dict from its child process; None: skipped (BENCH_AMLSIM=0); {"skipped": why}: no data.
    amlsim_replay: dict | None = None
    log_problems: list[str] = field(default_factory=list)  # read from the servers' logs

    @property
    def problems(self) -> list[str]:
        phases = (
            self.single,
            self.batch,
            self.scoring,
            self.wait,
            self.pipeline,
            self.alerts,
            self.hot_accounts,
        )
        found = [problem for phase in phases if phase is not None for problem in phase.problems]
        return found + (self.amlsim_replay or {}).get("problems", []) + self.log_problems


@dataclass(frozen=True)
class Target:
    """One goal for this 2-core box, e.g. single-POST requests/s >= 300."""

    label: str
    value: float
    goal: float
    higher_is_better: bool
    unit: str

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value < self.goal

    def line(self) -> str:
        sign = ">=" if self.higher_is_better else "<"
        verdict = "PASS" if self.met else "MISS"
        return (
            f"  {self.label:<26}{self.value:>10,.1f} {self.unit:<6} "
            f"target {sign} {self.goal:,.0f} {self.unit:<6} {verdict}"
        )


def machine(load_before: float) -> dict[str, str | int | float]:
    """What the figures were measured on: they mean little without it.

    The load average before the run tells whether other processes were sharing the CPUs.
    """
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def targets(results: Results) -> list[Target]:
    single, batch, wait = results.single, results.batch, results.wait
    goals = [
        Target("single POST rate", single.rps, 300, True, "req/s"),
        Target("single POST p99", single.latency_ms["p99"], 150, False, "ms"),
        Target("batch throughput", batch.items_per_second, 5000, True, "tx/s"),
        Target("default pack, one core", results.scoring.rate, 10_000, True, "tx/s"),
    ]
    if results.pipeline is not None:
        goals.append(
            Target("scoring end to end", results.pipeline.decisions_per_second, 2000, True, "tx/s")
        )
    if results.alerts is not None:
        p95 = results.alerts.percentile(0.95) if not results.alerts.missing else None
        goals.append(
            Target(
                "alert on websocket p95",
                float("inf") if p95 is None else p95,
                1000,
                False,
                "ms",
            )
        )
    if (hot := results.hot_accounts) is not None:
        goals += _hot_account_targets(hot)
    if (replay := results.amlsim_replay) is not None and "skipped" not in replay:
        # A replay that lost or left transactions has no end-to-end time: a miss, not a pass.
        seconds = float("inf") if replay["problems"] else replay["wall_seconds"]
        goals.append(
            Target("AMLSim replay end to end", seconds, amlsim_replay.TARGET_SECONDS, False, "s")
        )
    p99 = wait.percentile(0.99)  # None when nothing was answered: a miss, not a pass
    goals.append(
        Target("?wait=true p99, 100 req/s", float("inf") if p99 is None else p99, 50, False, "ms")
    )
    return goals


def _hot_account_targets(hot: HotAccountsResult) -> list[Target]:
    """Every transaction decided; the longest Redis call (reported: SLOWLOG only logs what
    took over its threshold, so none logged is 0 ms); the other partner's p99 lag."""
    goals = [Target("hot accounts decided", hot.decided_share, 100, True, "%")]
    if hot.redis.unavailable is None:
        goals.append(
            Target(
                "longest Redis call",
                hot.redis.longest_ms,
                hot_accounts.TARGET_REDIS_MS,
                False,
                "ms",
            )
        )
    p99 = hot.probe.lag_ms.get("p99")
    goals.append(
        Target(
            "other partner lag p99",
            float("inf") if p99 is None else p99,
            hot_accounts.TARGET_PROBE_P99_MS,
            False,
            "ms",
        )
    )
    return goals


def build(
    results: Results,
    *,
    configuration: dict,
    backlog: dict[str, int | None],
    load_before: float,
) -> dict:
    """Everything measured, as one JSON-ready document."""
    single, batch = results.single, results.batch
    goals = targets(results)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(load_before),
        "configuration": configuration,
        "single": {
            "requests_per_second": round(single.rps, 1),
            "requests": single.requests,
            "seconds": round(single.seconds, 2),
            "latency_ms": {name: round(ms, 2) for name, ms in single.latency_ms.items()},
            "statuses": single.statuses,
            "cpu_ms_per_request": single.cpu_usage.per_unit_ms(single.requests),
            "machine_cpu_busy": round(single.cpu_usage.machine_busy, 3),
            "problems": single.problems,
        },
        "batch": {
            "transactions_per_second": round(batch.items_per_second, 1),
            "transactions": batch.items,
            "batches": len(batch.latencies_ms),
            "seconds": round(batch.seconds, 2),
            "batch_latency_ms": {
                "p50": round(batch.p50_ms, 1) if batch.latencies_ms else None,
                "max": round(max(batch.latencies_ms), 1) if batch.latencies_ms else None,
            },
            "item_counts": batch.counts,
            "cpu_ms_per_transaction": batch.cpu_usage.per_unit_ms(batch.items),
            "machine_cpu_busy": round(batch.cpu_usage.machine_busy, 3),
            "problems": batch.problems,
        },
        "scoring": _scoring(results.scoring),
        "wait": _wait(results.wait),
        "pipeline": None if results.pipeline is None else _pipeline(results.pipeline),
        "alerts": None if results.alerts is None else _alerts(results.alerts),
        "hot_accounts": None
        if results.hot_accounts is None
        else hot_accounts.document(results.hot_accounts),
        "amlsim_replay": results.amlsim_replay,
        "celery_backlog_tasks": backlog,
        "targets": {
            goal.label: {
                "value": round(goal.value, 1) if goal.value != float("inf") else None,
                "goal": goal.goal,
                "met": goal.met,
            }
            for goal in goals
        },
        "valid": not results.problems,
    }


def _scoring(scoring: ScoringResult) -> dict:
    us = scoring.us_per_transaction
    return {
        "transactions_per_second": round(scoring.rate, 1),
        "us_per_transaction": round(us(scoring.evaluate_seconds), 2),
        "with_inputs": {
            "transactions_per_second": round(scoring.full_rate, 1),
            "us_per_transaction": round(us(scoring.full_seconds), 2),
            "fields_us": round(us(scoring.fields_seconds), 2),
            "aggregates_round_trip_us": round(us(scoring.aggregates_seconds), 2),
        },
        "transactions": scoring.transactions,
        "rules": scoring.rules,
        "aggregate_specs": scoring.specs,
        "pinned_core": scoring.core,
        "passes_seconds": {
            "evaluate": [round(s, 4) for s in scoring.evaluate_seconds],
            "fields": [round(s, 4) for s in scoring.fields_seconds],
            "aggregates": [round(s, 4) for s in scoring.aggregates_seconds],
            "with_inputs": [round(s, 4) for s in scoring.full_seconds],
        },
        "hits": scoring.hits,
        "failures": scoring.failures,
        "costliest_rules_us_per_transaction": scoring.slowest_rules_us,
        "problems": scoring.problems,
    }


def _wait(wait: WaitResult) -> dict:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return {
        "rate": wait.rate,
        "achieved_rate": round(wait.achieved_rate, 1),
        "requests": wait.requests,
        "seconds": round(wait.seconds, 2),
        "latency_ms": {
            name: rounded(wait.percentile(share))
            for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
        },
        "service_ms": {
            name: rounded(wait.percentile(share, wait.service_ms))
            for name, share in (("p50", 0.5), ("p99", 0.99))
        },
        "sent_late": wait.late,
        "not_sent": wait.unsent,
        "statuses": wait.statuses,
        "outcomes": wait.outcomes,
        "cpu_ms_per_request": wait.cpu_usage.per_unit_ms(wait.requests),
        "machine_cpu_busy": round(wait.cpu_usage.machine_busy, 3),
        "problems": wait.problems,
    }


def _alerts(result: AlertLatencyResult) -> dict:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "background_rate": result.background_rate,
        "background_sent": result.background_sent,
        "background_statuses": result.background_statuses,
        "probes": result.probes,
        "alerts_received": len(result.latencies_ms),
        "missing": result.missing,
        "latency_ms": {
            name: rounded(result.percentile(share))
            for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
        "cpu_ms_per_background_transaction": result.cpu_usage.per_unit_ms(result.background_sent),
        "machine_cpu_busy": round(result.cpu_usage.machine_busy, 3),
        "problems": result.problems,
    }


def _pipeline(pipeline: PipelineResult) -> dict:
    return {
        "decisions_per_second": round(pipeline.decisions_per_second, 1),
        "offered_per_second": pipeline.offered_rate,
        "accepted_per_second": round(pipeline.accepted_per_second, 1),
        "submitted": pipeline.submitted,
        "accepted": pipeline.accepted,
        "submit_seconds": round(pipeline.submit_seconds, 2),
        "late_batches": pipeline.late_batches,
        "steady_window": {
            "seconds": round(pipeline.steady_seconds, 2),
            "decisions": pipeline.steady_decisions,
        },
        "backlog_at_end_of_submission": pipeline.backlog_at_end,
        "backlog_cap": pipeline.backlog_cap,
        "held_seconds": round(pipeline.held_seconds, 1),
        "drain_seconds": None
        if pipeline.drain_seconds is None
        else round(pipeline.drain_seconds, 1),
        "decided": pipeline.decided,
        "accepted_to_decided_ms": pipeline.lag_ms,
        "decided_over_time": [(round(t, 1), n) for t, n in pipeline.samples],
        "cpu_ms_per_transaction": pipeline.cpu_ms_per_transaction(),
        "machine_cpu_busy": round(pipeline.cpu_usage.machine_busy, 3),
        "problems": pipeline.problems,
    }


def write(document: dict) -> Path:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    return RESULTS


def render(document: dict, results: Results) -> str:
    """The human summary; problems are shouted because they invalidate the figures."""
    m, c = document["machine"], document["configuration"]
    s, b = document["single"], document["batch"]
    lines = [
        "",
        "Sentinel ingest and scoring benchmark",
        f"  machine: {m['cpus']} CPUs ({m['cpu_model']}), Python {m['python']}, {m['system']}; "
        f"load average {m['load_average_before']} before the run, "
        f"{m['load_average_after']} after",
        f"  server:  {c['server']}",
        f"  worker:  {c['worker']}",
        f"  data:    {c['services']}",
        "",
        *_scoring_lines(document["scoring"], c),
        "",
        f"Single POST /api/v1/transactions/ ({c['single_load']})",
        f"  {s['requests']:,} requests in {s['seconds']} s; latency p50 "
        f"{s['latency_ms']['p50']:.1f} ms, p90 {s['latency_ms']['p90']:.1f} ms, "
        f"p99 {s['latency_ms']['p99']:.1f} ms, max {s['latency_ms']['max']:.1f} ms",
        "  statuses: " + ", ".join(f"{code}: {n:,}" for code, n in s["statuses"].items()),
        _cpu_line("request", s["cpu_ms_per_request"], s["machine_cpu_busy"]),
        "",
        f"Batch POST /api/v1/transactions/batch/ ({c['batch_load']})",
        f"  {b['transactions']:,} transactions in {b['batches']} batches, {b['seconds']} s; "
        f"per-batch p50 {_ms(b['batch_latency_ms']['p50'])}, "
        f"max {_ms(b['batch_latency_ms']['max'])}",
        _cpu_line("transaction", b["cpu_ms_per_transaction"], b["machine_cpu_busy"]),
        "",
        *_wait_lines(document["wait"], c),
        "",
        *_alert_lines(document["alerts"], c),
        "",
        *_pipeline_lines(document["pipeline"], c),
        "",
        *hot_accounts.lines(document["hot_accounts"], c),
        "",
        *amlsim_replay.lines(document["amlsim_replay"]),
        "",
        "Targets",
        *(goal.line() for goal in targets(results)),
        "",
        "Celery queue: {before} tasks waiting when the servers started (run before the first "
        "phase), "
        "{after} after the ingest phases".format(**document["celery_backlog_tasks"]),
        "Profiling queue: {profiling_queue_before} transaction ids waiting before the run; "
        "{dropped_after} of this run's dropped from it at the end (not reached by the "
        "worker)".format(**document["celery_backlog_tasks"]),
        f"Written to {RESULTS.relative_to(RESULTS.parent.parent.parent)}",
    ]
    busiest = max(m["load_average_before"], m["load_average_after"] - m["cpus"])
    if busiest > BUSY_LOAD:
        lines += [
            "",
            f"NOTE: the machine was busy (load {m['load_average_before']} before the run, "
            f"{m['load_average_after']} after, on {m['cpus']} CPUs): other processes shared the "
            "CPUs, so these figures understate Sentinel.",
        ]
    if results.problems:
        lines += [
            "",
            "!" * 78,
            "!!! ERRORS DURING THE RUN: THE FIGURES ABOVE ARE NOT VALID",
            *(f"!!!   {problem}" for problem in results.problems),
            "!!! server and worker output: bench/results/server.log, bench/results/worker.log",
            "!" * 78,
        ]
    return "\n".join(lines)


def _scoring_lines(d: dict, c: dict) -> list[str]:
    full = d["with_inputs"]
    return [
        f"Default rule pack in one process, pinned to core {d['pinned_core']} "
        f"({c['scoring_load']})",
        f"  evaluate_one only:    {d['transactions_per_second']:>9,.0f} tx/s "
        f"({d['us_per_transaction']:.1f} us per transaction, {d['rules']} rules)",
        f"  with fields+Redis:    {full['transactions_per_second']:>9,.0f} tx/s "
        f"({full['us_per_transaction']:.1f} us: fields {full['fields_us']:.1f} us, aggregates "
        f"round trip {full['aggregates_round_trip_us']:.1f} us for {d['aggregate_specs']} "
        "specs, wall time incl. Redis)",
        "  costliest rules (us per transaction): "
        + ", ".join(
            f"{code} {us:.1f}" for code, us in d["costliest_rules_us_per_transaction"].items()
        )
        + f"; {d['hits']:,} hits, {d['failures']} failures",
    ]


def _wait_lines(d: dict, c: dict) -> list[str]:
    lat, service = d["latency_ms"], d["service_ms"]
    kept_up = "" if d["achieved_rate"] >= 0.95 * d["rate"] else " (the server could not keep up)"
    return [
        f"POST /api/v1/transactions/?wait=true ({c['wait_load']})",
        f"  {d['requests']:,} requests at {d['achieved_rate']:.1f}/s{kept_up}; latency from the "
        "scheduled "
        f"send: p50 {_ms1(lat['p50'])}, p90 {_ms1(lat['p90'])}, p99 {_ms1(lat['p99'])}, "
        f"max {_ms1(lat['max'])} (server time p50 {_ms1(service['p50'])}, "
        f"p99 {_ms1(service['p99'])}; {d['sent_late']:,} sent > 10 ms late, "
        f"{d['not_sent']:,} never sent)",
        "  statuses: "
        + ", ".join(f"{code}: {n:,}" for code, n in d["statuses"].items())
        + "; outcomes: "
        + ", ".join(f"{name}: {n:,}" for name, n in d["outcomes"].items()),
        _cpu_line("request", d["cpu_ms_per_request"], d["machine_cpu_busy"]),
    ]


def _alert_lines(d: dict | None, c: dict) -> list[str]:
    if d is None:
        return ["Alert latency: not measured (BENCH_CELERY_WORKER=0)"]
    lat = d["latency_ms"]
    return [
        f"Alert latency, signed POST -> alert.created on a websocket ({c['alert_load']})",
        f"  {d['alerts_received']} of {d['probes']} probes alerted ({d['missing']} missing); "
        f"p50 {_ms(lat['p50'])}, p95 {_ms(lat['p95'])}, p99 {_ms(lat['p99'])}, "
        f"max {_ms(lat['max'])}",
        f"  background: {d['background_sent']:,} transactions at {d['background_rate']:.0f}/s; "
        "statuses " + ", ".join(f"{code}: {n:,}" for code, n in d["background_statuses"].items()),
        _cpu_line(
            "background transaction",
            d["cpu_ms_per_background_transaction"],
            d["machine_cpu_busy"],
        ),
    ]


def _pipeline_lines(d: dict | None, c: dict) -> list[str]:
    if d is None:
        return ["Sustained scoring: not measured (BENCH_CELERY_WORKER=0)"]
    lag = d["accepted_to_decided_ms"]
    drained = (
        f"drained {d['drain_seconds']:.0f} s later"
        if d["drain_seconds"] is not None
        else f"not drained within the limit ({d['accepted'] - d['decided']:,} left)"
    )
    cpu = ", ".join(f"{name} {ms:.2f} ms" for name, ms in d["cpu_ms_per_transaction"].items())
    return [
        f"Sustained scoring, accepted -> decision stored ({c['pipeline_load']})",
        f"  {d['decisions_per_second']:,.0f} decisions/s over the steady window "
        f"({d['steady_window']['decisions']:,} in {d['steady_window']['seconds']:.1f} s); "
        f"accepted {d['accepted']:,} at {d['accepted_per_second']:,.0f}/s "
        f"({d['late_batches']} batches sent > 100 ms late)",
        f"  backlog when the last batch was accepted: {d['backlog_at_end_of_submission']:,} "
        f"(cap {d['backlog_cap']:,}; sending held {d['held_seconds']:.1f} s); {drained}",
        f"  accepted -> decided: p50 {_ms(lag['p50'])}, p90 {_ms(lag['p90'])}, "
        f"p99 {_ms(lag['p99'])}, max {_ms(lag['max'])} (over {d['decided']:,} decided)",
        f"  CPU during submission: {cpu} (worker per decision, others per accepted "
        f"transaction); all CPUs {d['machine_cpu_busy']:.0%} busy",
    ]


def _ms1(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} ms"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _cpu_line(unit: str, per_unit_ms: dict[str, float], busy: float) -> str:
    """Where the CPU went: with every process on the same two cores, this is the ceiling."""
    parts = "".join(f"{name} {ms:.2f} ms, " for name, ms in per_unit_ms.items())
    return f"  CPU per {unit}: {parts}all CPUs {busy:.0%} busy"


def emit(document: dict, results: Results) -> None:
    write(document)
    print(render(document, results), file=sys.stdout, flush=True)
