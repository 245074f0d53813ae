"""Single signed POSTs replayed by wrk: requests/s, latency percentiles and status codes."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import cpu, payloads

LUA_SCRIPT = Path(__file__).with_name("single.lua")
RESULT_MARKER = "BENCH-RESULT "
# Enough fresh requests for every second of a phase at this rate: no external_id is ever resent.
MAX_EXPECTED_RPS = 3500


@dataclass
class WrkResult:
    """One wrk run, reduced to what the report needs."""

    requests: int
    seconds: float
    latency_ms: dict[str, float]
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    exhausted: int
    problems: list[str] = field(default_factory=list)
    cpu_usage: cpu.CpuUsage = field(default_factory=cpu.CpuUsage)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def write_requests(
    directory: Path, name: str, credentials: tuple[str, str], *, count: int, threads: int
) -> Path:
    """Sign `count` new transactions into one file per wrk thread; returns the files' prefix.

    Thread N gets <prefix>-N.tsv: disjoint slices, so no external_id is sent twice (a resend
    would answer 200 and flatter the figures).
    """
    key_id, secret = credentials
    prefix = directory / name
    per_thread = -(-count // threads)
    items = payloads.transactions(name, per_thread * threads, seed=name)
    for thread in range(threads):
        with open(f"{prefix}-{thread}.tsv", "w", encoding="utf-8") as out:
            for _ in range(per_thread):
                body = payloads.encode(next(items))
                headers = payloads.signed_headers(key_id, secret, body)
                out.write(
                    f"{headers['X-Sentinel-Timestamp']}\t{headers['X-Sentinel-Signature']}\t"
                    f"{body.decode()}\n"
                )
    return prefix


def run_wrk(
    url: str, prefix: Path, key_id: str, *, threads: int, connections: int, seconds: int
) -> WrkResult:
    """Run wrk with bench/single.lua against `url` and parse the line its done() prints."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        str(prefix),
        key_id,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith(RESULT_MARKER)), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    return _parse(json.loads(line[len(RESULT_MARKER) :]))


def _parse(raw: dict) -> WrkResult:
    statuses: Counter[int] = Counter()
    for status, count in raw["statuses"]:
        statuses[status] += count
    result = WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        latency_ms={name: value / 1000 for name, value in raw["latency_us"].items()},
        statuses=dict(sorted(statuses.items())),
        socket_errors=raw["socket_errors"],
        exhausted=raw["exhausted"],
    )
    result.problems = _problems(result)
    return result


def _problems(result: WrkResult) -> list[str]:
    """Everything that makes the figures untrustworthy: any answer but 201, any socket error."""
    problems = [
        f"{count} answers with status {status}"
        for status, count in result.statuses.items()
        if status != 201
    ]
    problems += [
        f"{count} socket {kind} errors" for kind, count in result.socket_errors.items() if count
    ]
    if result.exhausted:
        problems.append(f"ran out of pre-signed requests ({result.exhausted} resent)")
    return problems


def measure(
    url: str,
    workdir: Path,
    credentials: tuple[str, str],
    *,
    threads: int,
    connections: int,
    warmup_seconds: int,
    seconds: int,
    cpu_groups: dict[str, int | None],
) -> WrkResult:
    """A discarded warm-up (connection pools, code paths, caches), then the measured run."""
    options = {"threads": threads, "connections": connections}
    warmup = _sign_phase(workdir, credentials, "warmup", warmup_seconds, threads)
    run_wrk(url, warmup, credentials[0], seconds=warmup_seconds, **options)
    measured = _sign_phase(workdir, credentials, "single", seconds, threads)
    with cpu.usage(cpu_groups) as usage:
        result = run_wrk(url, measured, credentials[0], seconds=seconds, **options)
    result.cpu_usage = usage
    return result


def _sign_phase(
    workdir: Path, credentials: tuple[str, str], name: str, seconds: int, threads: int
) -> Path:
    """Sign a phase's requests just before it starts, well inside the 300 s window."""
    return write_requests(
        workdir, name, credentials, count=MAX_EXPECTED_RPS * seconds, threads=threads
    )
