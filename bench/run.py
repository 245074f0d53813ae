"""`make bench`: how fast partner ingest is on this machine, against the targets.

Starts (or attaches to) the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are
set, migrates, creates a fresh partner and key, then starts a Celery worker and the ASGI server
and measures:

1. single signed POSTs replayed by wrk (bench/single.lua), every one a new transaction;
2. batches of 1,000 new transactions over keep-alive connections.

Figures go to stdout and bench/results/latest.json. The exit status is 1 when any request
failed (the figures are then invalid), 0 otherwise: missing a target is news, not a failure.

Knobs for comparing configurations (defaults are the fastest measured on the 2-core box):
BENCH_SECONDS (measured wrk run, default 20), BENCH_UVICORN_OPTIONS (replaces the worker, loop
and HTTP options), BENCH_CELERY_WORKER=0 (measure without the profiling worker).
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from bench import batch, cpu, report, services, single
from sentinel import embedded

UVICORN_OPTIONS = ["--workers", "2", "--loop", "uvloop", "--http", "httptools"]
SINGLE_LOAD = {"threads": 2, "connections": 16, "warmup_seconds": 3, "seconds": 20}
# Four connections: uvicorn workers accept connections at random, so with two both could land
# on one worker and leave a core idle; with four that is unlikely (1 in 8).
BATCH_LOAD = {"connections": 4, "batches_per_connection": 5, "batch_size": 1000}


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    load_before = os.getloadavg()[0]
    services_label, postgres_pid = _start_data_services()
    env = services.server_env()
    services.migrate(env)
    credentials = _create_credentials()
    uvicorn_options = shlex.split(os.environ.get("BENCH_UVICORN_OPTIONS", "")) or UVICORN_OPTIONS
    with_worker = os.environ.get("BENCH_CELERY_WORKER", "1") != "0"
    seconds = int(os.environ.get("BENCH_SECONDS", SINGLE_LOAD["seconds"]))
    single_load = {**SINGLE_LOAD, "seconds": seconds}

    backlog_before = _celery_backlog()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="sentinel-bench-") as workdir:
        worker = stack.enter_context(services.celery_worker(env)) if with_worker else None
        base_url, server = stack.enter_context(services.web_server(env, uvicorn_options))
        cpu_groups = {
            "web server": server.pid,
            "celery worker": worker.pid if worker else None,
            "postgresql": postgres_pid,
        }
        print(
            f"Server up at {base_url}; measuring single POSTs for "
            f"{single_load['warmup_seconds']} + {seconds} s...",
            flush=True,
        )
        single_result = single.measure(
            f"{base_url}/api/v1/transactions/",
            Path(workdir),
            credentials,
            cpu_groups=cpu_groups,
            **single_load,
        )
        print("Measuring batches...", flush=True)
        address = urlsplit(base_url)
        batch_result = batch.measure(
            address.hostname, address.port, credentials, cpu_groups=cpu_groups, **BATCH_LOAD
        )
        backlog = {"before": backlog_before, "after": _celery_backlog()}

    configuration = _configuration(uvicorn_options, with_worker, services_label, single_load)
    document = report.build(
        single=single_result,
        batch=batch_result,
        configuration=configuration,
        backlog=backlog,
        load_before=load_before,
    )
    report.emit(document, single_result, batch_result)
    return 0 if document["valid"] else 1


def _start_data_services() -> tuple[str, int | None]:
    """Own the embedded servers for the whole run (children inherit their URLs).

    Returns what was used, for the report, and the embedded PostgreSQL's postmaster pid (None
    for an external server) so its CPU time can be charged to the load.
    """
    embedded_db = "DATABASE_URL" not in os.environ
    embedded_redis = "REDIS_URL" not in os.environ
    embedded.database_url()
    embedded.redis_url()
    where = f"embedded under {embedded.state_dir()}"
    label = (
        f"PostgreSQL {where if embedded_db else 'from DATABASE_URL'}, "
        f"Redis {where if embedded_redis else 'from REDIS_URL'}"
    )
    postgres = cpu.postgres_pid(embedded.state_dir() / "postgres") if embedded_db else None
    return label, postgres


def _create_credentials() -> tuple[str, str]:
    """A partner of its own per run, so its external_ids never collide with earlier runs."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import django

    django.setup()
    from django.db import connections

    from transactions import services as tx_services

    partner = tx_services.partner_create(
        name=f"Bench {time.strftime('%Y%m%d-%H%M%S')} {os.getpid()}"
    )
    api_key, secret = tx_services.api_key_create(partner=partner, label="make bench")
    connections.close_all()  # this process only creates credentials; the load is elsewhere
    return api_key.key_id, secret


def _celery_backlog() -> int | None:
    """Profiling tasks queued in the broker. Before the run: work left by earlier runs that the
    worker will also chew on during this one; after: how far ingest outran the worker."""
    import redis

    try:
        return int(redis.Redis.from_url(os.environ["REDIS_URL"]).llen("celery"))
    except redis.RedisError:
        return None


def _configuration(
    uvicorn_options: list[str], with_worker: bool, services_label: str, single_load: dict
) -> dict[str, str]:
    return {
        "server": "uvicorn sentinel.asgi:application "
        + " ".join(uvicorn_options)
        + " (DEBUG off, rate limit out of reach)",
        "worker": "Celery worker, concurrency 1, profiling during the load"
        if with_worker
        else "none: profiling tasks only queue up in Redis",
        "services": services_label,
        "single_load": f"wrk -t{single_load['threads']} -c{single_load['connections']}, "
        f"{single_load['seconds']} s after a {single_load['warmup_seconds']} s warm-up",
        "batch_load": f"{BATCH_LOAD['batch_size']} items per batch, "
        f"{BATCH_LOAD['connections']} connections x {BATCH_LOAD['batches_per_connection']} "
        "batches after one warm-up batch each",
    }


if __name__ == "__main__":
    sys.exit(main())
