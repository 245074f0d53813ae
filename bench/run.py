"""`make bench`: how fast partner ingest and scoring are on this machine, against the targets.

Starts (or attaches to) the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are
set, migrates, creates a fresh partner and key, and measures the default rule pack in this
process (bench/scoring.py, pinned to one core, before any server runs). Then it starts a Celery
worker and the ASGI server and measures:

1. `?wait=true` single POSTs at a fixed 100 requests/s, open loop (bench/wait.py);
2. alert latency: a transaction that trips a rule, sent signed, to its alert on a logged-in
   websocket, under 200 transactions/s of background traffic (bench/alerts.py);
3. sustained scoring, accepted to decision stored, with batches offered at a fixed rate for a
   partner of its own (bench/pipeline.py);
4. hot accounts: 200,000 transactions over 400 accounts offered within a minute by a partner
   of its own, every one awaited to its decision, with the longest Redis call (SLOWLOG) and
   another partner's lag at 20 tx/s meanwhile (bench/hot_accounts.py);
5. single signed POSTs replayed by wrk (bench/single.lua), every one a new transaction;
6. batches of 1,000 new transactions over keep-alive connections.

Right after scoring it times the aggregates' Redis calls when 400 accounts each make 500
transactions within a minute (bench/hotkeys.py). Before the servers start it also renders the
case queue page with 10,000 open cases and
100,000 alerts in this process (bench/cases.py): server time and SQL queries per page, the
alert queue page with 1,000,000 alerts and each filter alone (bench/alert_queue.py), every
management report on the same alerts with their cases and decisions (bench/reports.py), and
times one operational-monitor cycle over 20 partners x 90 days of minutes (bench/monitor.py),
and pages through 100,000 transactions that share one second, 500 a page (bench/paging.py),
times money-flow hops over 1,000,000 transactions, a hot account among them
(bench/money_flow.py), screens two parties per transaction against a 50,000-entry list
(bench/screening.py), measures network analytics (bench/network_phase.py: the scoring path's
CPU with and without the graph step, the window scan over 10,000,000 edges), and the learned
risk score (bench/riskmodel.py, child processes
with SENTINEL_RISK_MODEL off and on): the worker's CPU per transaction with a live model
against none, over batches of 500 through the real pipeline, with where the model's CPU goes;
then `model_train` on 1,000,000 labelled snapshots made in SQL (wall time, peak RSS, split).
Their set-up writes millions of rows, so the database is then vacuumed and checkpointed: left
to autovacuum, that work fell into the server phases and tripled the `?wait=true` p99. On the
settled database it replays AMLSim's 241,116 transactions end to end for a partner of its own
(bench/amlsim_replay.py, a child process with SENTINEL_NETWORK_ANALYTICS=1; no worker runs yet,
so none races it for the partner's queue), then vacuums and checkpoints again; the drain
tasks and on-call emails it leaves in the broker are run before phase 1 with earlier runs'.

Scoring goes first, while the worker is idle; phases 2 to 5 start once it has caught up
with what the previous phase left (bounded wait).

Figures go to stdout and bench/results/latest.json. The exit status is 1 when any request
failed (the figures are then invalid), 0 otherwise: missing a target is news, not a failure.

Knobs for comparing configurations (defaults are the fastest measured on the 2-core box):
BENCH_SECONDS (measured wrk run, default 20), BENCH_UVICORN_OPTIONS (replaces the worker, loop
and HTTP options), BENCH_CELERY_WORKER=0 (measure without the profiling worker; phase 2 then
measures nothing), BENCH_WORKER_CONCURRENCY (default 1), BENCH_E2E_RATE (transactions/s
offered in phase 3, default 2,500), BENCH_HOT_ACCOUNTS=0 (skip phase 4),
BENCH_HOT_ACCOUNTS_TRANSACTIONS (its size, default 200,000), BENCH_MONEY_FLOW=0 (skip the
money-flow hops and their 1,000,000-row set-up), BENCH_NETWORK=0 (skip network analytics:
its scoring-path comparison and the window scan, ~7 minutes), BENCH_NETWORK_WINDOW_EDGES (the
scanned window's size, default 10,000,000), BENCH_RISK_MODEL=0 (skip the learned risk
score's phase: its 20,000-transaction history and 1,000,000-snapshot training, ~5 minutes),
BENCH_WAIT_RISK_MODEL=0 (after phase 1, do not measure ?wait=true again on a second server
started with SENTINEL_RISK_MODEL=1 and the risk-model phase's live model; the worker keeps the
model off; figures under "wait_risk_model" in latest.json), BENCH_AMLSIM=0 (skip the AMLSim
replay, ~3 minutes and a second vacuum; skipped too when ../shared/data/amlsim is missing).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from bench import (
    alert_queue,
    alerts,
    amlsim_replay,
    batch,
    cpu,
    hot_accounts,
    hotkeys,
    pipeline,
    report,
    scoring,
    services,
    single,
    wait,
)
from bench import cases as case_queue
from bench import money_flow as money_flow_hops
from bench import monitor as monitor_cycle
from bench import network_phase as network_analytics
from bench import paging as keyset_paging
from bench import reports as management_reports
from bench import riskmodel as risk_model
from bench import screening as name_screening
from sentinel import embedded

UVICORN_OPTIONS = ["--workers", "2", "--loop", "uvloop", "--http", "httptools"]
SINGLE_LOAD = {"threads": 2, "connections": 16, "warmup_seconds": 3, "seconds": 20}
# Four connections: uvicorn workers accept connections at random, so with two both could land
# on one worker and leave a core idle; with four that is unlikely (1 in 8).
BATCH_LOAD = {"connections": 4, "batches_per_connection": 5, "batch_size": 1000}
# Enough connections that one slow answer does not hold up the next request (when all are
# busy, latency still counts from the schedule).
WAIT_LOAD = {"rate": 100, "seconds": 20, "warmup_seconds": 3, "connections": 8}
# 2,500 tx/s offered (above the 2,000 target) for 20 s, in batches of 250 every 0.1 s; the
# first 5 s are left out of the steady window. Sending holds while more than 5,000 (2 s of the
# target) wait for a decision, so a slow pipeline cannot pile up a backlog that takes minutes
# to drain; the worker then gets at most 30 s to decide what is left.
PIPELINE_LOAD = {
    "rate": 2500,
    "seconds": 20,
    "batch_size": 250,
    "connections": 4,
    "warmup_seconds": 5,
    "backlog_cap": 5000,
    "drain_limit_seconds": 30,
}
# 200 tx/s of ordinary traffic (the background load) while a probe that trips a rule
# goes out every 0.25 s for 20 s (80 probes), each timed to its alert on a live websocket.
ALERT_LOAD = {
    "background_rate": 200,
    "probe_interval": 0.25,
    "seconds": 20,
    "warmup_seconds": 5,
    "connections": 4,
}
# How long a phase waits at most for the worker to finish the previous phases' backlog.
IDLE_WAIT_SECONDS = 60
_CLOCK = time.monotonic()


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if shutil.which("wrk") is None:  # checked first: the single-POST phase comes late
        _say("wrk is not installed (apt-get install wrk); the single-POST phase needs it.")
        return 2
    load_before = os.getloadavg()[0]
    run_started = time.time()
    services_label, server_pids = _start_data_services()
    env = services.server_env()
    services.migrate(env)
    partner_id, credentials = _create_credentials("make bench")
    _say("Measuring the default rule pack in this process, pinned to one core...")
    scoring_result = scoring.measure(partner_id=partner_id)
    _say("Measuring rolling aggregates under hot keys (400 accounts x 500 events a minute)...")
    hotkeys_result = hotkeys.measure(partner_id=partner_id)
    _say("Measuring the case queue page (10,000 open cases, 100,000 alerts), in process...")
    case_queue_result = case_queue.measure()
    _say("Measuring the alert queue page (1,000,000 alerts, each filter alone), in process...")
    alert_queue_result = alert_queue.measure()
    _say("Measuring the reports (1,000,000 alerts, their cases and decisions), in process...")
    reports_result = management_reports.measure()
    _say("Measuring one operational-monitor cycle (20 partners x 90 days), in process...")
    monitor_result = monitor_cycle.measure()
    _say("Measuring keyset paging: 100,000 transactions in one second, 500 a page, in process...")
    paging_result = keyset_paging.measure()
    money_flow_result = None
    if os.environ.get("BENCH_MONEY_FLOW", "1") != "0":
        _say("Measuring money-flow hops over 1,000,000 transactions, in process...")
        money_flow_result = money_flow_hops.measure()
    _say("Measuring name screening: two parties against a 50,000-entry list, in process...")
    screening_result = name_screening.measure()
    network_result = None
    if network_analytics.enabled():
        _say(
            "Measuring network analytics: the scoring path with and without it, then the window "
            f"scan over {network_analytics.window_edges():,} edges (child processes)..."
        )
        network_result = network_analytics.measure(env)
    risk_model_result = None
    if risk_model.enabled():
        _say(
            "Measuring the learned risk score: scoring with a live model against none, then "
            "training on 1,000,000 snapshots (child processes)..."
        )
        risk_model_result = risk_model.measure(env)
    _say("Vacuuming and checkpointing, so the set-up's writes settle before the servers start...")
    settle_seconds = services.settle_database()
    amlsim_result = _amlsim_replay(env, server_pids)
    if amlsim_result is not None and "skipped" not in amlsim_result:
        _say("Vacuuming and checkpointing again, after the replay's writes...")
        settle_seconds += services.settle_database()
    uvicorn_options = shlex.split(os.environ.get("BENCH_UVICORN_OPTIONS", "")) or UVICORN_OPTIONS
    with_worker = os.environ.get("BENCH_CELERY_WORKER", "1") != "0"
    seconds = int(os.environ.get("BENCH_SECONDS", SINGLE_LOAD["seconds"]))
    single_load = {**SINGLE_LOAD, "seconds": seconds}
    pipeline_load = {**PIPELINE_LOAD, "rate": int(os.environ.get("BENCH_E2E_RATE", 2500))}

    backlog_before = services.celery_backlog()
    queued_before = _profiling_queue()
    partner_ids = [partner_id]
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="sentinel-bench-") as workdir:
        worker = stack.enter_context(services.celery_worker(env)) if with_worker else None
        base_url, server = stack.enter_context(services.web_server(env, uvicorn_options))
        address = urlsplit(base_url)
        cpu_groups = {
            "web server": server.pid,
            "celery worker": worker.pid if worker else None,
            **server_pids,
        }
        # Scoring first, while the worker has no backlog from the ingest phases; tasks an
        # earlier run left in the broker (on-call emails of its last alerts, say) go first.
        leftovers_seconds = _wait_for_broker(with_worker)
        _say(
            f"Server up at {base_url}; measuring ?wait=true at {WAIT_LOAD['rate']} requests/s "
            f"for {WAIT_LOAD['warmup_seconds']} + {WAIT_LOAD['seconds']} s..."
        )
        wait_result = wait.measure(
            address.hostname, address.port, credentials, cpu_groups=cpu_groups, **WAIT_LOAD
        )
        waited = _wait_for_worker(with_worker, run_started)
        wait_model_result = None
        if risk_model_result is not None and os.environ.get("BENCH_WAIT_RISK_MODEL", "1") != "0":
            _say(
                "Measuring ?wait=true again on a second server with SENTINEL_RISK_MODEL=1 and "
                "the live model of the risk-model phase..."
            )
            model_partner, model_credentials = _create_credentials("make bench wait model")
            partner_ids.append(model_partner)
            wait_model_result = _wait_with_model(
                env, uvicorn_options, model_credentials, cpu_groups
            )
            waited += _wait_for_worker(with_worker, run_started)
        alerts_result = None
        if with_worker:
            _say(
                f"Measuring alert latency: a probe every {ALERT_LOAD['probe_interval']} s over "
                f"{ALERT_LOAD['background_rate']} tx/s of background traffic..."
            )
            alerts_result = alerts.measure(
                address.hostname,
                address.port,
                credentials,
                session_cookie=alerts.staff_session(),
                cpu_groups=cpu_groups,
                **ALERT_LOAD,
            )
            waited += _wait_for_worker(with_worker, run_started)
        pipeline_result = None
        if with_worker:
            _say(
                f"Measuring sustained scoring: {pipeline_load['rate']:,} tx/s offered for "
                f"{pipeline_load['seconds']} s..."
            )
            e2e_partner, e2e_credentials = _create_credentials("make bench e2e")
            partner_ids.append(e2e_partner)
            pipeline_result = pipeline.measure(
                address.hostname,
                address.port,
                e2e_credentials,
                e2e_partner,
                cpu_groups=cpu_groups,
                **pipeline_load,
            )
            waited += _wait_for_worker(with_worker, run_started)
        hot_result = None
        if with_worker and hot_accounts.enabled():
            _say(f"Measuring hot accounts: {hot_accounts.describe()}...")
            hot_partner, hot_credentials = _create_credentials("make bench hot accounts")
            probe_partner, probe_credentials = _create_credentials("make bench other partner")
            partner_ids += [hot_partner, probe_partner]
            hot_result = hot_accounts.measure(
                address.hostname,
                address.port,
                hot_credentials,
                hot_partner,
                probe_credentials,
                probe_partner,
                transactions=hot_accounts.transactions(),
                cpu_groups=cpu_groups,
            )
            waited += _wait_for_worker(with_worker, run_started)
        _say(f"Measuring single POSTs for {single_load['warmup_seconds']} + {seconds} s...")
        single_result = single.measure(
            f"{base_url}/api/v1/transactions/",
            Path(workdir),
            credentials,
            cpu_groups=cpu_groups,
            **single_load,
        )
        _say("Measuring batches...")
        batch_result = batch.measure(
            address.hostname, address.port, credentials, cpu_groups=cpu_groups, **BATCH_LOAD
        )
        backlog = {
            "before": backlog_before,
            "after": services.celery_backlog(),
            "profiling_queue_before": queued_before,
        }
        _say("Stopping the server and the worker...")
    backlog["dropped_after"] = pipeline.forget_queued(partner_ids)

    configuration = _configuration(
        uvicorn_options, with_worker, services_label, single_load, pipeline_load
    )
    configuration["database_settled"] = (
        f"{settle_seconds:.0f} s of VACUUM (ANALYZE), CHECKPOINT (before the AMLSim replay and, "
        "when it ran, after it)"
    )
    configuration["worker_catch_up"] = (
        f"{leftovers_seconds:.0f} s for tasks left in the broker (earlier runs', the AMLSim "
        f"replay's), then {waited:.0f} s waited for the worker before the alert, "
        "sustained-scoring, hot-accounts and single phases"
    )
    results = report.Results(
        single=single_result,
        batch=batch_result,
        scoring=scoring_result,
        wait=wait_result,
        pipeline=pipeline_result,
        alerts=alerts_result,
        hot_accounts=hot_result,
        amlsim_replay=amlsim_result,
        log_problems=_log_problems(),
    )
    document = report.build(
        results, configuration=configuration, backlog=backlog, load_before=load_before
    )
    document["risk_model"] = risk_model_result  # None: skipped (BENCH_RISK_MODEL=0)
    document["wait_risk_model"] = (
        None if wait_model_result is None else report._wait(wait_model_result)
    )
    report.emit(document, results)
    case_queue.emit(case_queue_result)  # also bench/results/cases.json
    alert_queue.emit(alert_queue_result)  # also bench/results/alert_queue.json
    management_reports.emit(reports_result)  # also bench/results/reports.json
    hotkeys.emit(hotkeys_result)  # also bench/results/hotkeys.json
    monitor_cycle.emit(monitor_result)  # also bench/results/monitor.json
    keyset_paging.emit(paging_result)  # also bench/results/paging.json
    if money_flow_result is not None:
        money_flow_hops.emit(money_flow_result)  # also bench/results/money_flow.json
    name_screening.emit(screening_result)  # also bench/results/screening.json
    if network_result is not None:
        network_analytics.emit(network_result)  # also bench/results/network.json
    if risk_model_result is not None:
        risk_model.emit(risk_model_result)  # also bench/results/riskmodel.json
    if wait_model_result is not None:
        wait_model = document["wait_risk_model"]
        print("\nThe same ?wait=true phase, second server with SENTINEL_RISK_MODEL=1, model live")
        print("\n".join(report._wait_lines(wait_model, {"wait_load": configuration["wait_load"]})))
        p99 = wait_model["latency_ms"]["p99"]
        verdict = "PASS" if p99 is not None and p99 < 50 else "MISS"
        print(f"  with the learned risk score live: p99 {p99} ms, target < 50 ms: {verdict}")
        for problem in wait_model["problems"]:  # not counted in "valid": an extra phase
            print(f"  !!! {problem}")
    return 0 if document["valid"] else 1


def _wait_with_model(
    env: dict[str, str], uvicorn_options: list[str], credentials, cpu_groups: dict
) -> wait.WaitResult:
    """The ?wait=true phase again, on a second server with the risk model on (its provider
    runs in the request: the live model predicts each transaction alone, and the snapshot is
    stored with the decision). The worker keeps its configuration (model off)."""
    model_env = {**env, "SENTINEL_RISK_MODEL": "1"}
    with services.web_server(model_env, uvicorn_options, "server_risk_model.log") as started:
        base_url, server = started
        address = urlsplit(base_url)
        return wait.measure(
            address.hostname,
            address.port,
            credentials,
            cpu_groups={**cpu_groups, "web server, model on": server.pid},
            **WAIT_LOAD,
        )


def _amlsim_replay(env: dict[str, str], server_pids: dict[str, int | None]) -> dict | None:
    """The AMLSim replay on the settled database, before any worker runs; None when switched
    off, a reason when its data is missing."""
    if not amlsim_replay.enabled():
        return None
    if reason := amlsim_replay.missing_data():
        _say(f"Skipping the AMLSim replay: {reason}.")
        return {"skipped": reason}
    _say("Replaying AMLSim end to end (241,116 transactions, network analytics on, child)...")
    return amlsim_replay.measure(env, cpu_groups=server_pids)


def _log_problems() -> list[str]:
    """What the servers' logs say went wrong, where a status code alone would not tell."""
    problems = []
    for name in ("server.log", "worker.log"):
        try:
            text = (services.LOG_DIR / name).read_text(errors="replace")
        except OSError:
            continue
        if deadlocks := text.count("OperationalError: deadlock detected"):
            problems.append(f"{deadlocks} PostgreSQL deadlocks reported in bench/results/{name}")
    return problems


def _say(message: str) -> None:
    print(f"[{time.monotonic() - _CLOCK:4.0f} s] {message}", flush=True)


def _wait_for_worker(with_worker: bool, since: float) -> float:
    """Let the worker finish this run's backlog first, so the next phase is not measured
    against it (bounded: a worker far behind is itself a finding, reported by phase 2)."""
    if not with_worker:
        return 0.0
    _say("Waiting for the worker to catch up...")
    return pipeline.wait_until_idle(IDLE_WAIT_SECONDS, since=since)


def _start_data_services() -> tuple[str, dict[str, int | None]]:
    """Own the embedded servers for the whole run (children inherit their URLs).

    Returns what was used, for the report, and the pids of PostgreSQL's postmaster and of
    Redis where they run on this machine, so their CPU time can be charged to the load. Servers
    from a URL are labelled "shared": other people's work on them counts too.
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
    if embedded_db:
        pids = {"postgresql": cpu.postgres_pid(embedded.state_dir() / "postgres")}
    else:
        pids = {"postgresql (shared)": services.postgres_pid_from_server()}
    pids["redis" if embedded_redis else "redis (shared)"] = services.redis_pid()
    return label, pids


def _create_credentials(label: str) -> tuple[int, tuple[str, str]]:
    """A partner of its own per run, so its external_ids never collide with earlier runs;
    (its id, (key id, secret))."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import django

    django.setup()
    from django.db import connections

    from transactions import services as tx_services

    partner = tx_services.partner_create(
        name=f"Bench {time.strftime('%Y%m%d-%H%M%S')} {os.getpid()} {label}"
    )
    api_key, secret = tx_services.api_key_create(partner=partner, label=label)
    connections.close_all()  # no connection idles through the load; polls open their own
    return partner.pk, (api_key.key_id, secret)


def _wait_for_broker(with_worker: bool) -> float:
    """Let the worker run what earlier runs (and the AMLSim replay) left queued in the broker
    before the first phase (bounded); seconds waited."""
    began = time.perf_counter()
    if not with_worker or not services.celery_backlog():
        return 0.0
    _say(f"Letting the worker run the {services.celery_backlog()} tasks left in the broker...")
    while (left := services.celery_backlog()) and time.perf_counter() - began < IDLE_WAIT_SECONDS:
        time.sleep(0.5)
    if left:
        _say(f"{left} tasks still queued after {IDLE_WAIT_SECONDS} s; measuring anyway.")
    return time.perf_counter() - began


def _profiling_queue() -> int | None:
    """Transaction ids waiting for the profiling worker (earlier runs', a dev server's)."""
    import redis

    from sentinel.pipeline.queue import queue_length

    try:
        return queue_length()
    except redis.RedisError:
        return None


def _configuration(
    uvicorn_options: list[str],
    with_worker: bool,
    services_label: str,
    single_load: dict,
    pipeline_load: dict,
) -> dict[str, str]:
    return {
        "server": "uvicorn sentinel.asgi:application "
        + " ".join(uvicorn_options)
        + " (DEBUG off, rate limit out of reach)",
        "worker": f"Celery worker, concurrency {services.worker_concurrency()}, profiling "
        "and scoring during the load"
        if with_worker
        else "none: profiling tasks only queue up in Redis",
        "services": services_label,
        "single_load": f"wrk -t{single_load['threads']} -c{single_load['connections']}, "
        f"{single_load['seconds']} s after a {single_load['warmup_seconds']} s warm-up",
        "batch_load": f"{BATCH_LOAD['batch_size']} items per batch, "
        f"{BATCH_LOAD['connections']} connections x {BATCH_LOAD['batches_per_connection']} "
        "batches after one warm-up batch each",
        "scoring_load": f"{scoring.TRANSACTIONS:,} prepared transactions (with "
        f"{scoring.TRANSACTIONS * scoring.HISTORY_PER_TRANSACTION:,} more as a week of history "
        f"in Redis), {scoring.REPEATS} passes; with inputs: {scoring.ROUND_TRIP_REPEATS} passes "
        f"in batches of {scoring.BATCH}",
        "wait_load": f"{WAIT_LOAD['rate']} requests/s open loop over "
        f"{WAIT_LOAD['connections']} connections, {WAIT_LOAD['seconds']} s after a "
        f"{WAIT_LOAD['warmup_seconds']} s warm-up",
        "alert_load": f"{ALERT_LOAD['background_rate']} tx/s background over "
        f"{ALERT_LOAD['connections']} connections; a probe every {ALERT_LOAD['probe_interval']} s "
        f"for {ALERT_LOAD['seconds']} s after a {ALERT_LOAD['warmup_seconds']} s warm-up",
        "pipeline_load": f"{pipeline_load['rate']:,} tx/s offered for {pipeline_load['seconds']} s "
        f"in batches of {pipeline_load['batch_size']} over {pipeline_load['connections']} "
        f"connections; steady window after {pipeline_load['warmup_seconds']} s; drain at most "
        f"{pipeline_load['drain_limit_seconds']} s",
        "hot_accounts_load": hot_accounts.describe(),
    }


if __name__ == "__main__":
    sys.exit(main())
