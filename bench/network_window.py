"""The scheduled window scan over a large synthetic graph: how long one partner's scan takes.

``python -m bench.network_window [--edges 10000000] [--keep]`` with DATABASE_URL set to a
migrated scratch database (it writes millions of rows, and drops and rebuilds the edge
table's indexes around the write, in one transaction). ``make bench`` runs it with 10,000,000
edges (bench/network_phase.py); docs/network.md § The window scan holds the figures.

The graph is made by SQL (generate_series) straight into the edge table for a fresh partner:
``--edges`` transfers in the 10-day window between ``edges / 5`` nodes, every other one the
partner's account: four in five go to one of the sender's four usual payees, the rest to
anyone; and, in the month before the window (what "new" is checked against), one transfer
from every node to each of its usual payees (0.8 x ``--edges``). A few rings of each simple
shape are planted. The edges have no transaction rows
(the session turns the foreign-key triggers off while it writes them), so the scan runs with
``ring_amount_min = 0``: the amount check, one primary-key read per transfer of the rings
found, is left out of the time.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
django.setup()

from django.db import connection, transaction  # noqa: E402

from bench.services import result_line  # noqa: E402
from sentinel.network.choices import PatternKind  # noqa: E402
from sentinel.network.models import Transfer  # noqa: E402
from sentinel.network.window import WindowParameters, window_rings  # noqa: E402
from transactions.models import PartnerBank  # noqa: E402
from transactions.services import partner_create  # noqa: E402

WINDOW_DAYS, HISTORY_DAYS = 10, 32  # a day more than the scan's month of history

_EDGES = """
INSERT INTO network_transfer
    (transaction_id, partner_id, source, target, amount, occurred_at, currency)
SELECT md5(%(partner)s || '-' || %(tag)s || '-' || g)::uuid, %(partner)s,
       'n' || s, 'n' || CASE WHEN random() < 0.8 THEN (s * 31 + (g %% 4) * 1009 + 1) %% %(nodes)s
                            ELSE floor(random() * %(nodes)s)::int END,
       round((random() * 2000 + 10)::numeric, 2),
       %(until)s - make_interval(secs => random() * %(span)s) - make_interval(days => %(offset)s),
       'USD'
FROM (SELECT g, floor(random() * %(nodes)s)::int AS s
      FROM generate_series(1, %(count)s) AS g) AS x
WHERE 'n' || s <> 'n' || ((s * 31 + (g %% 4) * 1009 + 1) %% %(nodes)s)
"""
# The month before the window: each node paid each of its four usual payees once.
_HISTORY = """
INSERT INTO network_transfer
    (transaction_id, partner_id, source, target, amount, occurred_at, currency)
SELECT md5(%(partner)s || '-h-' || s || '-' || k)::uuid, %(partner)s,
       'n' || s, 'n' || ((s * 31 + k * 1009 + 1) %% %(nodes)s),
       round((random() * 2000 + 10)::numeric, 2),
       %(until)s - make_interval(days => %(window)s) - make_interval(secs => random() * %(span)s),
       'USD'
FROM generate_series(0, %(nodes)s - 1) AS s, generate_series(0, 3) AS k
WHERE s <> (s * 31 + k * 1009 + 1) %% %(nodes)s
"""
_ACCOUNTS = """
INSERT INTO transactions_account (partner_id, external_id, created_at)
SELECT %(partner)s, 'n' || i, now() FROM generate_series(0, %(nodes)s - 1, 2) AS i
"""


def _planted(until: datetime) -> list[tuple[str, str]]:
    """Edges of 10 rings of each simple shape, hubs among the partner's accounts (even ids
    are accounts: the hubs are named n0, n2... of their own range)."""
    edges = []
    for ring in range(10):
        hub = f"ring{ring}"
        edges += [(f"fi{ring}-{i}", hub) for i in range(8)]  # fan-in
        edges += [(f"{hub}-src", f"sg{ring}-{i}") for i in range(4)]  # scatter-gather
        edges += [(f"sg{ring}-{i}", f"{hub}-sink") for i in range(4)]
        edges += [(f"bs{ring}-{i}", f"br{ring}-{j}") for i in range(3) for j in range(3)]
    return edges


def _generate(partner_id: int, edges: int, until: datetime) -> float:
    nodes = max(10, edges // 5)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no transaction rows
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SELECT setseed(0.16)")
        # Millions of random keys into four B-trees cost an hour on a small box: the edge
        # table's indexes are dropped and built again, as they were, in this transaction.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'network_transfer'"
        )
        indexes = cursor.fetchall()
        cursor.execute("ALTER TABLE network_transfer DROP CONSTRAINT network_transfer_pkey")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        cursor.execute(
            _EDGES,
            {
                "partner": partner_id,
                "tag": "w",
                "count": edges,
                "nodes": nodes,
                "until": until,
                "span": WINDOW_DAYS * 86400,
                "offset": 0,
            },
        )
        cursor.execute(
            _HISTORY,
            {
                "partner": partner_id,
                "nodes": nodes,
                "until": until,
                "window": WINDOW_DAYS,
                "span": HISTORY_DAYS * 86400,
            },
        )
        cursor.execute(_ACCOUNTS, {"partner": partner_id, "nodes": nodes})
        planted = _planted(until)
        cursor.executemany(
            "INSERT INTO network_transfer (transaction_id, partner_id, source, target, amount, "
            "occurred_at, currency) VALUES (md5(%s)::uuid, %s, %s, %s, 5000, %s, 'USD')",
            [
                (f"{partner_id}-p{n}", partner_id, source, target, until - timedelta(days=2))
                for n, (source, target) in enumerate(planted)
            ],
        )
        hubs = {node for edge in planted for node in edge if "ring" in node or node[:2] == "bs"}
        cursor.executemany(
            "INSERT INTO transactions_account (partner_id, external_id, created_at) "
            "VALUES (%s, %s, now())",
            [(partner_id, hub) for hub in sorted(hubs)],
        )
        cursor.execute("ALTER TABLE network_transfer ADD PRIMARY KEY (transaction_id)")
        for name, definition in indexes:
            if name != "network_transfer_pkey":
                cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE network_transfer")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Leave the bench partner's rows.")
    parser.add_argument("--scan", type=int, metavar="PARTNER", help="Scan a kept graph again.")
    args = parser.parse_args()
    written = None
    if args.scan:
        partner = PartnerBank.objects.get(pk=args.scan)
        until = Transfer.objects.filter(partner=partner).latest("occurred_at").occurred_at
    else:
        until = datetime.now(UTC).replace(microsecond=0)
        partner = partner_create(name=f"window bench {time.time():.0f}")
        print(f"generating {args.edges:,} window edges (+{args.edges * 4 // 5:,} before it)...")
        written = round(_generate(partner.pk, args.edges, until), 1)
        print(f"  written in {written:,.0f} s")
    parameters = replace(WindowParameters(), ring_amount_min=0)
    started, cpu = time.monotonic(), time.process_time()
    with transaction.atomic():
        rings = window_rings(partner_id=partner.pk, until=until, parameters=parameters)
    wall, cpu = time.monotonic() - started, time.process_time() - cpu
    by_kind = {kind.value: sum(ring.kind == kind for ring in rings) for kind in PatternKind}
    count = Transfer.objects.filter(partner=partner, occurred_at__gt=until - parameters.window)
    print(f"scan of partner {partner.pk}'s window of {count.count():,} edges: {wall:,.1f} s wall,")
    print(f"  {cpu:,.1f} s of this process's CPU; rings: {by_kind}")
    print(
        result_line(
            {
                "edges": count.count(),
                "written_seconds": written,
                "scan_seconds": round(wall, 1),
                "scan_cpu_seconds": round(cpu, 1),
                "rings": by_kind,
            }
        ),
        flush=True,
    )
    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM network_transfer WHERE partner_id = %s", [partner.pk])
            cursor.execute("DELETE FROM transactions_account WHERE partner_id = %s", [partner.pk])


if __name__ == "__main__":
    main()
