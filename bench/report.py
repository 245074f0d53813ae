"""The figures against the targets, for people (stdout) and for tools (results/latest.json)."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.batch import BatchResult
from bench.single import WrkResult

RESULTS = Path(__file__).with_name("results") / "latest.json"
# A 1-minute load average above this before the run means someone else was using the CPUs.
BUSY_LOAD = 0.5


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
            f"  {self.label:<22}{self.value:>10,.1f} {self.unit:<6} "
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
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def targets(single: WrkResult, batch: BatchResult) -> list[Target]:
    return [
        Target("single POST rate", single.rps, 300, True, "req/s"),
        Target("single POST p99", single.latency_ms["p99"], 150, False, "ms"),
        Target("batch throughput", batch.items_per_second, 5000, True, "tx/s"),
    ]


def build(
    *,
    single: WrkResult,
    batch: BatchResult,
    configuration: dict,
    backlog: dict[str, int | None],
    load_before: float,
) -> dict:
    """Everything measured, as one JSON-ready document."""
    goals = targets(single, batch)
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
        "celery_backlog_tasks": backlog,
        "targets": {
            goal.label: {"value": round(goal.value, 1), "goal": goal.goal, "met": goal.met}
            for goal in goals
        },
        "valid": not (single.problems or batch.problems),
    }


def write(document: dict) -> Path:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    return RESULTS


def render(document: dict, single: WrkResult, batch: BatchResult) -> str:
    """The human summary; problems are shouted because they invalidate the figures."""
    m, c = document["machine"], document["configuration"]
    s, b = document["single"], document["batch"]
    lines = [
        "",
        "Sentinel ingest benchmark",
        f"  machine: {m['cpus']} CPUs ({m['cpu_model']}), Python {m['python']}, {m['system']}; "
        f"load average {m['load_average_before']} before the run",
        f"  server:  {c['server']}",
        f"  worker:  {c['worker']}",
        f"  data:    {c['services']}",
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
        "Targets",
        *(goal.line() for goal in targets(single, batch)),
        "",
        "Celery queue: {before} profiling tasks waiting before the run, {after} after".format(
            **document["celery_backlog_tasks"]
        ),
        f"Written to {RESULTS.relative_to(RESULTS.parent.parent.parent)}",
    ]
    if m["load_average_before"] > BUSY_LOAD:
        lines += [
            "",
            f"NOTE: the machine was busy before the run (load {m['load_average_before']}"
            "): other processes shared the CPUs, so these figures understate Sentinel.",
        ]
    problems = single.problems + batch.problems
    if problems:
        lines += [
            "",
            "!" * 78,
            "!!! ERRORS DURING THE RUN: THE FIGURES ABOVE ARE NOT VALID",
            *(f"!!!   {problem}" for problem in problems),
            "!!! server and worker output: bench/results/server.log, bench/results/worker.log",
            "!" * 78,
        ]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _cpu_line(unit: str, per_unit_ms: dict[str, float], busy: float) -> str:
    """Where the CPU went: with every process on the same two cores, this is the ceiling."""
    parts = "".join(f"{name} {ms:.2f} ms, " for name, ms in per_unit_ms.items())
    return f"  CPU per {unit}: {parts}all CPUs {busy:.0%} busy"


def emit(document: dict, single: WrkResult, batch: BatchResult) -> None:
    write(document)
    print(render(document, single, batch), file=sys.stdout, flush=True)
