"""Network analytics on this machine: what the graph step and the ``network`` features add to
the worker's CPU per transaction, and the graph store compared (PostgreSQL vs Redis).

``python -m bench.network`` with DATABASE_URL / REDIS_URL set to a migrated database and
SENTINEL_NETWORK_ANALYTICS=1; ``make bench`` runs it in a child process with the window scan
(bench/network_phase.py). docs/network.md holds the figures it printed.

1. CPU: the same synthetic traffic (accounts paying each other, with rings and chains planted)
   is run through ``transactions_process`` twice, for two fresh partners: once as shipped, once
   with the network step and the provider's reads replaced by nothing. The worker's own CPU
   (``time.process_time``) per transaction, both ways; PostgreSQL's work is on top, reported
   as wall time.
2. Store: the edges of the largest partner's graph, one "edges out of these 1,000 nodes"
   level as the searches ask it: one PostgreSQL query (selectors.transfers_adjacent) against
   a Redis pipeline of ZRANGEBYSCORE over per-node sorted sets holding the same edges; and
   the bytes per edge each store takes, scaled to 10 million edges.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from bench.services import result_line  # noqa: E402
from sentinel.network import features  # noqa: E402
from sentinel.network.detectors import OUT, Request  # noqa: E402
from sentinel.network.models import Transfer  # noqa: E402
from sentinel.network.selectors import transfers_adjacent  # noqa: E402
from sentinel.pipeline import stages  # noqa: E402
from sentinel.pipeline.orchestrator import transactions_process  # noqa: E402
from sentinel.redis import get_redis  # noqa: E402
from transactions.services import partner_create, transactions_ingest  # noqa: E402

ACCOUNTS, TRANSFERS, DAYS, BATCH = 2000, 6000, 14, 500


def _traffic(seed: int) -> list[dict]:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=DAYS + 1)
    rows = []
    for n in range(TRANSFERS):
        source, target = rng.sample(range(ACCOUNTS), 2)
        at = start + timedelta(seconds=n * DAYS * 86400 // TRANSFERS)
        amount = Decimal(f"{rng.lognormvariate(5.5, 1.0):.2f}")
        rows.append((f"a{source}", f"a{target}", amount, at))
    for ring in range(20):  # rings of 4 and chains of 3, a day apart
        members = [f"r{ring}-{i}" for i in range(4)]
        at = start + timedelta(days=rng.uniform(0, DAYS - 5))
        for i in range(4):
            hop_at = at + timedelta(hours=20 * i)
            rows.append((members[i], members[(i + 1) % 4], Decimal("5000.00"), hop_at))
    rows.sort(key=lambda row: row[3])
    return [
        {
            "external_id": f"bn-{seed}-{n}",
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
            "amount": str(amount),
            "currency": "USD",
            "type": "transfer",
            "originator": {"account_id": source, "customer_id": source},
            "beneficiary": {"account_id": target, "customer_id": target},
        }
        for n, (source, target, amount, at) in enumerate(rows)
    ]


def _run(name: str, payloads: list[dict]) -> tuple[float, float]:
    """CPU and wall seconds per transaction of the pipeline for a fresh partner."""
    partner = partner_create(name=f"{name} {time.time():.0f}")
    cpu = wall = 0.0
    for offset in range(0, len(payloads), BATCH):
        results = transactions_ingest(partner=partner, payloads=payloads[offset : offset + BATCH])
        ids = [result.id for result in results]
        started_cpu, started = time.process_time(), time.perf_counter()
        transactions_process(transaction_ids=ids)
        cpu += time.process_time() - started_cpu
        wall += time.perf_counter() - started
    return cpu / len(payloads), wall / len(payloads)


def _without_network():
    defaults = {
        "network.in_cycle": False,
        "network.cycle_length": Decimal(0),
        "network.cycle_days": None,
        "network.cycle_time_ordered": False,
        "network.carried_hops": Decimal(1),
        "network.chain_depth": Decimal(1),
        "network.fan_in_accounts": Decimal(0),
        "network.fan_out_accounts": Decimal(0),
        "network.hops_to_flagged": None,
        "network.flagged_counterparty": False,
    }
    return (
        mock.patch.object(stages, "network", lambda batch: None),
        mock.patch.object(
            features.NetworkFeatures,
            "values",
            lambda self, batch: [dict(defaults) for _ in batch.transactions],
        ),
    )


def cpu() -> dict:
    payloads = _traffic(1)
    _run("bench network warm-up", _traffic(0)[:1000])
    off_patch, provider_patch = _without_network()
    with off_patch, provider_patch:
        off_cpu, off_wall = _run("bench network off", [dict(p) for p in payloads])
    on_cpu, on_wall = _run("bench network on", [dict(p) for p in payloads])
    print(f"pipeline, {len(payloads):,} transfers in batches of {BATCH}:")
    print(f"  without network: {off_cpu * 1e6:,.0f} µs CPU, {off_wall * 1e6:,.0f} µs wall / tx")
    print(f"  with network:    {on_cpu * 1e6:,.0f} µs CPU, {on_wall * 1e6:,.0f} µs wall / tx")
    added_cpu, added_wall = on_cpu / off_cpu - 1, on_wall / off_wall - 1
    print(f"  worker CPU added: {added_cpu:.1%}; wall added {added_wall:.1%}")
    return {
        "transfers": len(payloads),
        "batch": BATCH,
        "cpu_us_without": round(off_cpu * 1e6, 1),
        "cpu_us_with": round(on_cpu * 1e6, 1),
        "wall_us_without": round(off_wall * 1e6, 1),
        "wall_us_with": round(on_wall * 1e6, 1),
        "cpu_added": round(added_cpu, 4),
    }


def store() -> dict:
    largest = Transfer.objects.values("partner_id").annotate(n=Count("pk")).order_by("-n").first()
    partner_id, edges = largest["partner_id"], largest["n"]
    rng = random.Random(7)
    nodes = list(
        Transfer.objects.filter(partner_id=partner_id).values_list("source", flat=True).distinct()
    )
    sample = rng.sample(nodes, min(1000, len(nodes)))
    first, last = (
        Transfer.objects.filter(partner_id=partner_id)
        .order_by(field)
        .values_list("occurred_at", flat=True)[0]
        for field in ("occurred_at", "-occurred_at")
    )
    requests = [Request(partner_id, node, None, None, first, last) for node in sample]
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        answers = transfers_adjacent(OUT, requests)
        timings.append(time.perf_counter() - started)
    found = sum(map(len, answers))
    pg_ms = sorted(timings)[2] * 1000

    redis = get_redis()
    prefix = f"bench:network:{partner_id}:out:"
    pipe = redis.pipeline(transaction=False)
    rows = Transfer.objects.filter(partner_id=partner_id, source__in=sample).values_list(
        "transaction_id", "source", "target", "amount", "occurred_at"
    )
    for tx_id, source, target, amount, at in rows.iterator():
        pipe.zadd(prefix + source, {f"{tx_id}|{target}|{amount}": at.timestamp()})
    pipe.execute()
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        pipe = redis.pipeline(transaction=False)
        for node in sample:
            pipe.zrangebyscore(prefix + node, first.timestamp(), last.timestamp(), start=0, num=50)
        parsed = [[member.split(b"|") for member in members] for members in pipe.execute()]
        timings.append(time.perf_counter() - started)
    redis_ms = sorted(timings)[2] * 1000
    redis_bytes = sum(redis.memory_usage(prefix + node) or 0 for node in sample)
    redis_edges = sum(map(len, parsed))
    redis.delete(*[prefix + node for node in sample])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('network_transfer')")
        pg_bytes = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM network_transfer")
        pg_edges = cursor.fetchone()[0]
    print(f"store, one level for {len(sample):,} nodes of a graph of {edges:,} edges:")
    print(f"  PostgreSQL: {pg_ms:.1f} ms ({found:,} edges), {pg_bytes / pg_edges:.0f} B/edge")
    print(
        f"  Redis:      {redis_ms:.1f} ms ({redis_edges:,} edges), "
        f"{redis_bytes / max(redis_edges, 1):.0f} B/edge"
    )
    print(
        f"  10M edges: PostgreSQL {pg_bytes / pg_edges * 1e7 / 2**30:.1f} GiB on disk, "
        f"Redis {redis_bytes / max(redis_edges, 1) * 1e7 / 2**30:.1f} GiB of memory"
    )
    return {
        "graph_edges": edges,
        "nodes": len(sample),
        "postgresql_ms": round(pg_ms, 1),
        "redis_ms": round(redis_ms, 1),
        "postgresql_bytes_per_edge": round(pg_bytes / pg_edges),
        "redis_bytes_per_edge": round(redis_bytes / max(redis_edges, 1)),
    }


if __name__ == "__main__":
    if not settings.SENTINEL_NETWORK_ANALYTICS:
        raise SystemExit("Set SENTINEL_NETWORK_ANALYTICS=1: the network step is off.")
    print(result_line({"cpu": cpu(), "store": store()}), flush=True)
    cpu()
