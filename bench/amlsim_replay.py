"""The AMLSim replay of ``make bench``: issue 16's "AMLSim's 241,000 transfer rows replay and
score in under 3 minutes end to end", on the real ingest and scoring path.

The shipped sample (../shared/data/amlsim beside the checkout: 120,558 transfers over 149 day
steps, each reported from both sides, so 241,116 transactions) is replayed as ``manage.py
detection_report --dataset amlsim`` replays it (``datasets.replay``): contract payloads accepted
by ``transactions_accept`` in batches of 1,000, then ``transactions_queued_process`` runs the
pipeline on each day before the next arrives. It runs in a child process with
``SENTINEL_NETWORK_ANALYTICS=1`` (the target is about network analytics; settings are read at
import), the rules as installed, for a partner of its own created per run: a reused partner
would find every transaction a duplicate and score nothing.

Timed from reading the CSV files to the last transaction decided: wall seconds, the replaying
process's CPU (``time.process_time``; PostgreSQL's and Redis's are reported beside it, from
/proc), decisions per second. Then every transaction is checked to be stored, decided (a row in
rules_decision) and profiled; one lost, refused or left unscored makes the figures invalid.
Target: under 180 s wall.

It runs before the servers start, so no Celery worker drains the partner's queue meanwhile (a
worker answering a ping is reported as a problem: it would share the work). The drain tasks
and on-call emails the replay queues wait in the broker; the bench's worker runs them before
the first server phase. Before the clock starts, whatever the queue or the sweep would hand the
replay from other partners (earlier runs' transactions the bench left unprocessed, since beat
does not run in it) is processed first, as production's periodic sweep would have: the replay's
first day would otherwise score all of them.

``BENCH_AMLSIM=0`` skips the phase; so does a missing data directory (said, not a crash). Run
alone: ``DATABASE_URL=... REDIS_URL=... SENTINEL_NETWORK_ANALYTICS=1 .venv/bin/python -m
bench.amlsim_replay [--days N]`` on a migrated database (``--days`` replays only the first N
day steps, for trying it out; the bench always replays the whole file).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time

from bench import cpu
from bench.services import ROOT, celery_backlog, child_result, result_line

DATA = ROOT.parent / "shared" / "data" / "amlsim"  # datasets.add_data_argument's default
TARGET_SECONDS = 180
CHILD_TIMEOUT_SECONDS = 1800


def enabled() -> bool:
    return os.environ.get("BENCH_AMLSIM", "1") != "0"


def missing_data() -> str | None:
    """Why the phase cannot run here, or None."""
    absent = [name for name in ("nodes.csv", "transactions.csv") if not (DATA / name).is_file()]
    return f"no AMLSim data at {DATA} ({', '.join(absent)} missing)" if absent else None


def measure(env: dict[str, str], *, cpu_groups: dict[str, int | None]) -> dict:
    """The replay in a child process with network analytics on; ``cpu_groups`` names the
    database and Redis processes whose CPU is reported beside the child's."""
    child_env = {**env, "SENTINEL_NETWORK_ANALYTICS": "1", "DJANGO_DEBUG": "0"}
    pids = [f"{name}={pid}" for name, pid in cpu_groups.items() if pid]
    return child_result(
        "bench.amlsim_replay", ["--pids", *pids], child_env, timeout=CHILD_TIMEOUT_SECONDS
    )


# --- The child ---------------------------------------------------------------------------------


def replay(*, days: int | None, pids: dict[str, int]) -> dict:
    """Set up, replay timed, check what was stored; the figures and their problems."""
    from django.conf import settings

    from transactions.services import partner_create

    if not settings.SENTINEL_NETWORK_ANALYTICS:
        raise SystemExit("Set SENTINEL_NETWORK_ANALYTICS=1: the target is with the network step.")
    before = _before()
    partner = partner_create(
        name=f"Bench AMLSim replay {time.strftime('%Y%m%d-%H%M%S')} {os.getpid()}"
    )
    timed = _timed(partner, days=days, pids=pids)
    tasks_before = before.pop("broker_tasks")
    result = {
        "partner_id": partner.pk,
        **timed,
        **before,
        "broker_tasks_left": _left(tasks_before, celery_backlog()),
        "target_seconds": TARGET_SECONDS,
        **_outcome(partner.pk),
    }
    expected = 2 * timed["transfers"] if days is None else None  # both sides of each
    result["problems"] = _problems(result, expected=expected)
    return result


def _before() -> dict:
    """What the replay starts from; other partners' transactions the replay's first day would
    otherwise pick up from the queue or the sweep are processed first, untimed."""
    from sentinel.pipeline.models import DeadLetter
    from sentinel.pipeline.orchestrator import transactions_queued_process

    workers, database, tasks = _workers_answering(), _database_size(), celery_backlog()
    # Set aside, they stay unprofiled: every sweep (one a day here) walks past each of them.
    database["dead letters waiting"] = DeadLetter.objects.waiting().count()
    began = time.perf_counter()
    earlier = transactions_queued_process()
    return {
        "workers_answering": workers,
        "database_before": database,
        "broker_tasks": tasks,
        "earlier_backlog": {
            "processed": earlier,
            "seconds": round(time.perf_counter() - began, 1),
        },
    }


def _timed(partner, *, days: int | None, pids: dict[str, int]) -> dict:
    """From reading the files to the last transaction decided."""
    from sentinel.pipeline import datasets

    load_before = os.getloadavg()[0]
    with cpu.usage(pids) as usage:
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        loaded = datasets.AmlSim.load(DATA)
        replayed = datasets.replay(partner, itertools.islice(loaded.days(), days))
        wall, cpu_seconds = time.perf_counter() - wall_before, time.process_time() - cpu_before
    sent = sum(replayed.statuses.values())  # one status per payload sent
    return {
        "transfers": len(loaded.transfers),
        "days": len({day for *_, day in loaded.transfers}) if days is None else days,
        "whole_file": days is None,
        "sent": sent,
        "statuses": dict(replayed.statuses),
        "processed": replayed.processed,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "decisions_per_second": round(sent / wall, 1),
        "other_cpu_seconds": {name: round(s, 1) for name, s in usage.seconds.items()},
        "machine_cpu_busy": round(usage.machine_busy, 3),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _outcome(partner_id: int) -> dict:
    """What the partner has in the database now: stored, decided, left unprofiled, set aside."""
    from django.db.models import Count

    from rules.models import Decision
    from sentinel.pipeline.models import DeadLetter
    from transactions.models import Transaction

    stored = Transaction.objects.filter(partner_id=partner_id)
    outcomes = (
        Decision.objects.filter(partner_id=partner_id)
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        "stored": stored.count(),
        "unprofiled": stored.unprofiled().count(),
        "decided": dict(outcomes),
        "dead_letters": DeadLetter.objects.filter(partner_id=partner_id).count(),
    }


def _problems(result: dict, *, expected: int | None) -> list[str]:
    """Why the figures do not stand for the whole file replayed and scored, if they do not."""
    sent, decided = result["sent"], sum(result["decided"].values())
    problems = []
    if expected is not None and sent != expected:
        problems.append(f"AMLSim replay: {sent:,} transactions sent of the file's {expected:,}")
    refused = {status: n for status, n in result["statuses"].items() if status != "created"}
    if refused:
        problems.append(f"AMLSim replay: payloads not accepted as new: {refused}")
    for label, n in (("stored", result["stored"]), ("decided", decided)):
        if n != sent:
            problems.append(f"AMLSim replay: {n:,} of {sent:,} transactions {label}")
    if result["unprofiled"] or result["dead_letters"]:
        problems.append(
            f"AMLSim replay: {result['unprofiled']:,} transactions left unprofiled, "
            f"{result['dead_letters']:,} set aside as dead letters"
        )
    if result["workers_answering"]:
        problems.append(
            f"AMLSim replay: {result['workers_answering']} Celery workers answered on the "
            "broker; they may have drained part of the replay's queue"
        )
    return problems


def _left(before: int | None, after: int | None) -> int | None:
    """Tasks the replay added to the broker; None when Redis did not answer."""
    return None if before is None or after is None else after - before


def _workers_answering() -> int:
    from sentinel.celery import app

    return len(app.control.ping(timeout=0.5))


def _database_size() -> dict[str, int]:
    """Rows already there (planner estimates, fresh after the bench's VACUUM ANALYZE): the
    replay's inserts and index look-ups grow with them."""
    from django.db import connection

    tables = ("transactions_transaction", "rules_decision", "network_transfer", "alerts_alert")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, CASE WHEN reltuples >= 0 THEN reltuples::bigint END "
            "FROM pg_class WHERE relname = ANY(%s)",
            [list(tables)],
        )
        return dict(cursor.fetchall())


# --- The report ----------------------------------------------------------------------------------


def lines(result: dict | None) -> list[str]:
    if result is None:
        return ["AMLSim replay: not measured (BENCH_AMLSIM=0)"]
    if "skipped" in result:
        return [f"AMLSim replay: not measured ({result['skipped']})"]
    verdict = "PASS" if met(result) else "MISS"
    part = "" if result["whole_file"] else f"; the first {result['days']} day steps only"
    other = ", ".join(f"{name} {s} s" for name, s in result["other_cpu_seconds"].items())
    database = ", ".join(
        f"{name} {'not analysed' if n is None else f'{n:,}'}"
        for name, n in result["database_before"].items()
    )
    earlier = result["earlier_backlog"]
    return [
        f"AMLSim replay, end to end ({result['transfers']:,} transfers over {result['days']} "
        f"day steps, both sides; network analytics on; a fresh partner{part})",
        f"  {result['sent']:,} transactions loaded, accepted and decided in "
        f"{result['wall_seconds']} s wall ({result['decisions_per_second']:,.0f} decisions/s); "
        f"target < {TARGET_SECONDS} s: {verdict}",
        f"  CPU: the replaying process {result['cpu_seconds']} s; {other or 'others not read'}; "
        f"all CPUs {result['machine_cpu_busy']:.0%} busy; load average "
        f"{result['load_average'][0]} before, {result['load_average'][1]} after",
        "  decided: " + ", ".join(f"{name} {n:,}" for name, n in result["decided"].items()),
        f"  rows before (estimates): {database}; {earlier['processed']:,} transactions other "
        f"runs left unprocessed, scored first in {earlier['seconds']} s (not timed); "
        f"{_count(result['broker_tasks_left'])} tasks left in the broker for the worker",
        *(f"  !!! {problem}" for problem in result["problems"]),
    ]


def _count(n: int | None) -> str:
    return "an unknown number of" if n is None else f"{n:,}"


def met(result: dict | None) -> bool:
    return bool(result and "skipped" not in result and not result["problems"]) and (
        result["wall_seconds"] < TARGET_SECONDS
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.amlsim_replay")
    parser.add_argument("--days", type=int, help="only the first N day steps (trying it out)")
    parser.add_argument("--pids", nargs="*", default=[], help="name=pid whose CPU to report")
    args = parser.parse_args(argv)
    if reason := missing_data():
        raise SystemExit(reason)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import django

    django.setup()
    pids = {name: int(pid) for name, pid in (item.split("=", 1) for item in args.pids)}
    result = replay(days=args.days, pids=pids)
    print("\n".join(lines(result)), flush=True)
    print(result_line(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
