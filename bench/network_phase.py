"""The network-analytics phase of ``make bench``: its two targets (issue 16), each measured in a
child process with ``SENTINEL_NETWORK_ANALYTICS=1`` (the switch is read when settings load).

1. The scoring path (bench/network.py): the same 6,080 transfers through the real pipeline for
   two fresh partners, with the network step and provider and without; the worker CPU added.
   Target: at most +20 %. Then one search level read from PostgreSQL and from Redis (the
   store's choice, docs/network.md).
2. The scheduled window scan (bench/network_window.py) over a synthetic 10-day window of
   ``BENCH_NETWORK_WINDOW_EDGES`` transfers (10,000,000 by default; the month before it is
   written too), generated in SQL, then deleted. Target: under 5 minutes.

``BENCH_NETWORK=0`` skips the phase (the 10 M-edge window takes about 4 minutes to write and
2 to scan on the 2-core box). Figures also go to bench/results/network.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.services import child_result

TARGET_CPU_ADDED = 0.20
TARGET_SCAN_SECONDS = 300
WINDOW_EDGES = 10_000_000
CHILD_TIMEOUT_SECONDS = 3600
RESULTS = Path(__file__).resolve().parent / "results" / "network.json"


def enabled() -> bool:
    return os.environ.get("BENCH_NETWORK", "1") != "0"


def window_edges() -> int:
    return int(os.environ.get("BENCH_NETWORK_WINDOW_EDGES", WINDOW_EDGES))


def measure(env: dict[str, str]) -> dict:
    child_env = {**env, "SENTINEL_NETWORK_ANALYTICS": "1", "DJANGO_DEBUG": "0"}
    scoring = child_result("bench.network", [], child_env, timeout=CHILD_TIMEOUT_SECONDS)
    window = child_result(
        "bench.network_window",
        ["--edges", str(window_edges())],
        child_env,
        timeout=CHILD_TIMEOUT_SECONDS,
    )
    return {**scoring, "window": window}


def lines(result: dict) -> list[str]:
    cpu, store, window = result["cpu"], result["store"], result["window"]
    cpu_verdict = "PASS" if cpu["cpu_added"] <= TARGET_CPU_ADDED else "MISS"
    scan_verdict = "PASS" if window["scan_seconds"] < TARGET_SCAN_SECONDS else "MISS"
    return [
        f"Network analytics, scoring path ({cpu['transfers']:,} transfers in batches of "
        f"{cpu['batch']}, fresh partners): worker CPU {cpu['cpu_us_without']} us/tx without, "
        f"{cpu['cpu_us_with']} with: {cpu['cpu_added']:+.1%}; target <= "
        f"+{TARGET_CPU_ADDED:.0%}: {cpu_verdict}",
        f"  wall {cpu['wall_us_without']} -> {cpu['wall_us_with']} us/tx; one search level for "
        f"{store['nodes']:,} nodes of {store['graph_edges']:,} edges: PostgreSQL "
        f"{store['postgresql_ms']} ms, Redis {store['redis_ms']} ms",
        f"Network window scan over {window['edges']:,} edges (written in "
        f"{window['written_seconds']} s): {window['scan_seconds']} s wall, "
        f"{window['scan_cpu_seconds']} s of the process's CPU; target < "
        f"{TARGET_SCAN_SECONDS} s: {scan_verdict}; rings {window['rings']}",
    ]


def emit(result: dict) -> None:
    print()
    print("\n".join(lines(result)))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
