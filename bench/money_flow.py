"""Money-flow hops (transactions.flows.money_flow_hop) over 1,000,000 transactions.

A fresh partner gets 1,000,000 transactions among 20,000 accounts over a year, plus a hot
account with 40,000 transactions out and 40,000 in over the last 30 days, inserted in SQL (the
hop only reads them; the ingest path is measured elsewhere). Then, in this process: hops
forward and backward from ordinary accounts at random times, and from the hot account (whose
30 days hold far more than the hop's scan cap). Each hop is timed with its SQL and query count,
and the plan of its main query is checked for the index it should use. The partner and its
transactions are deleted afterwards.

Run alone against any database: ``DATABASE_URL=... python -m bench.money_flow``; ``make bench``
runs it before the servers start (bench/run.py). Figures also go to bench/results/money_flow.json.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

TRANSACTIONS = 1_000_000
ACCOUNTS = 20_000
HOT_TRANSACTIONS = 80_000
ORDINARY_HOPS = 200
HOT_HOPS = 20
# An investigator's click: the next hop drawn within a blink, whatever the account's volume.
TARGET_MS = 200.0
RESULTS = Path(__file__).resolve().parent / "results" / "money_flow.json"


@dataclass
class MoneyFlowResult:
    transactions: int
    seed_seconds: float
    ordinary_ms: list[float] = field(default_factory=list)
    ordinary_sql_ms: list[float] = field(default_factory=list)
    hot_ms: list[float] = field(default_factory=list)
    hot_sql_ms: list[float] = field(default_factory=list)
    queries_per_hop: list[int] = field(default_factory=list)
    plans: dict[str, str] = field(default_factory=dict)
    load_average: float = 0.0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        def stats(values: list[float]) -> dict:
            ordered = sorted(values)
            p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
            return {
                "median_ms": round(statistics.median(ordered), 2),
                "p99_ms": round(p99, 2),
                "max_ms": round(ordered[-1], 2),
            }

        return {
            "ordinary": stats(self.ordinary_ms),
            "ordinary_sql": stats(self.ordinary_sql_ms),
            "hot": stats(self.hot_ms),
            "hot_sql": stats(self.hot_sql_ms),
            "queries_per_hop": sorted(set(self.queries_per_hop)),
        }

    def as_dict(self) -> dict:
        document = asdict(self)
        document["summary"] = self.summary()
        document["target"] = {"every hop ms <": TARGET_MS}
        return document

    def lines(self) -> list[str]:
        s = self.summary()
        worst = max(self.ordinary_ms + self.hot_ms)
        return [
            f"Money-flow hops over {self.transactions:,} transactions ({ACCOUNTS:,} accounts, "
            f"a year; a hot account with {HOT_TRANSACTIONS:,} in its last 30 days), in process",
            f"  ordinary accounts, {len(self.ordinary_ms)} hops: median "
            f"{s['ordinary']['median_ms']} ms, p99 {s['ordinary']['p99_ms']} ms, max "
            f"{s['ordinary']['max_ms']} ms (SQL median {s['ordinary_sql']['median_ms']} ms)",
            f"  hot account, {len(self.hot_ms)} hops: median {s['hot']['median_ms']} ms, p99 "
            f"{s['hot']['p99_ms']} ms (SQL median {s['hot_sql']['median_ms']} ms); queries "
            f"per hop {s['queries_per_hop']}",
            *(f"  plan {name}: {plan}" for name, plan in self.plans.items()),
            f"  (wall times include waiting for a core: load average {self.load_average:.1f} on "
            f"{os.cpu_count()} cores)",
            f"  target: every hop under {TARGET_MS:.0f} ms: "
            f"{'met' if worst < TARGET_MS else 'MISSED'}",
            *(f"  PROBLEM: {problem}" for problem in self.problems),
        ]


def measure() -> MoneyFlowResult:
    _setup()
    from transactions import services

    partner = services.partner_create(
        name=f"Bench money flow {time.strftime('%Y%m%d-%H%M%S')} {os.getpid()}"
    )
    try:
        started = time.perf_counter()
        _seed(partner.pk)
        result = MoneyFlowResult(TRANSACTIONS, round(time.perf_counter() - started, 1))
        _hops(partner, result)
        _plans(partner, result)
        result.load_average = os.getloadavg()[0]
    finally:
        _forget(partner.pk)
    return result


def emit(result: MoneyFlowResult) -> None:
    print("\n".join(result.lines()))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import django

    django.setup()


# One statement for both: ordinary accounts pay each other at random over ``days`` (2 % failed);
# with ``hot``, every transaction has HOT on one side, alternately paying and being paid.
_SEED_SQL = """
INSERT INTO transactions_transaction (
    id, partner_id, external_id, occurred_at, received_at, amount, currency, type, status,
    direction, channel, originator_account_id, originator_customer_id, originator_name,
    originator_country, originator_bank, beneficiary_account_id, beneficiary_customer_id,
    beneficiary_name, beneficiary_country, beneficiary_bank, device_id, ip_address, product,
    acquirer, card_type, mcc, latency_ms, metadata, payload_hash, profiled_at)
SELECT gen_random_uuid(), %(partner)s, %(prefix)s || g,
    now() - random() * make_interval(days => %(days)s), now(),
    round((random() * 20000 + 1)::numeric, 2), 'USD', 'transfer',
    CASE WHEN NOT %(hot)s AND g %% 50 = 0 THEN 'failed' ELSE 'approved' END, 'outbound', '',
    CASE WHEN %(hot)s AND g %% 2 = 0 THEN 'HOT' ELSE 'A' || floor(random() * %(accounts)s) END,
    '', 'Holder', '', '',
    CASE WHEN %(hot)s AND g %% 2 = 1 THEN 'HOT' ELSE 'A' || floor(random() * %(accounts)s) END,
    '', 'Holder', '', '', '', NULL, '', '', '', '', NULL, '{}', md5(g::text), now()
FROM generate_series(1, %(count)s) AS g
"""


def _seed(partner_id: int) -> None:
    """Ordinary accounts A0..A19999 over a year, then HOT over the last 30 days."""
    from django.db import connection, transaction

    common = {"partner": partner_id, "accounts": ACCOUNTS}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _SEED_SQL,
            {**common, "prefix": "mf-", "days": 365, "hot": False, "count": TRANSACTIONS},
        )
        cursor.execute(
            _SEED_SQL,
            {**common, "prefix": "mf-hot-", "days": 30, "hot": True, "count": HOT_TRANSACTIONS},
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE transactions_transaction")


def _hops(partner, result: MoneyFlowResult) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from transactions.flows import FlowDirection, money_flow_hop

    chance = random.Random(17)  # noqa: S311 - picks accounts, not secrets
    now = timezone.now()
    cases = [
        (
            f"A{chance.randrange(ACCOUNTS)}",
            chance.choice(list(FlowDirection)),
            now - timedelta(days=chance.uniform(0, 365)),
            result.ordinary_ms,
            result.ordinary_sql_ms,
        )
        for _ in range(ORDINARY_HOPS)
    ]
    cases += [
        ("HOT", FlowDirection.FORWARD, now - timedelta(days=31), result.hot_ms, result.hot_sql_ms),
        ("HOT", FlowDirection.BACKWARD, now, result.hot_ms, result.hot_sql_ms),
    ] * (HOT_HOPS // 2)
    for account, direction, at, timings, sql_timings in cases:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            flow = money_flow_hop(partner=partner, account=account, direction=direction, at=at)
            timings.append((time.perf_counter() - started) * 1000)
        sql_timings.append(sum(float(query["time"]) for query in captured.captured_queries) * 1000)
        result.queries_per_hop.append(len(captured))
        if account == "HOT" and flow.ranked_all:
            result.problems.append("the hot account's hop was not cut at the scan cap")


def _plans(partner, result: MoneyFlowResult) -> None:
    """The main query's plan for the hot account, both ways: which index it reads."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from transactions.flows import FlowDirection, money_flow_hop

    expected = {
        FlowDirection.FORWARD: "tx_partner_originator_time",
        FlowDirection.BACKWARD: "tx_partner_beneficiary_time",
    }
    for direction, index in expected.items():
        at = timezone.now() - timedelta(days=31 if direction == FlowDirection.FORWARD else 0)
        with CaptureQueriesContext(connection) as captured:
            money_flow_hop(partner=partner, account="HOT", direction=direction, at=at)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE) " + captured.captured_queries[0]["sql"])
            plan = [row[0] for row in cursor.fetchall()]
        scans = [line.strip().split("  (")[0] for line in plan if "Scan" in line]
        timing = next((line.strip() for line in plan if line.startswith("Execution")), "")
        result.plans[str(direction)] = f"{' / '.join(scans)}; {timing}"
        if not any(index in scan for scan in scans):
            result.problems.append(f"the {direction} hop does not read {index}: {scans}")


def _forget(partner_id: int) -> None:
    """Delete the bench partner and its transactions (nothing else refers to them)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM transactions_transaction WHERE partner_id = %s", [partner_id])
        cursor.execute("DELETE FROM transactions_partnerbank WHERE id = %s", [partner_id])


if __name__ == "__main__":
    emit(measure())
