"""One operational-monitor cycle for 20 partners with 90 days of per-minute history.

Seeds (once; later runs reuse it) 20 inactive bench partners, each with 90 days of per-minute
MinuteStat rows written by COPY (2.6 million rows; two of the partners in the middle of a
two-hour failure incident, so the re-baselining and alert paths run), then stores one fresh
minute of real transactions (150 per partner) and times what the beat task does each
minute: fold new transactions into minute aggregates, judge every partner, track alerts.
Target: under 1 s per cycle. The partners are inactive so a dev server's own cycle ignores
them.

Run alone: ``DATABASE_URL=... .venv/bin/python -m bench.monitor``; `make bench` runs it
before the servers start (bench/run.py). Figures also go to bench/results/monitor.json.
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

PARTNERS = 20
DAYS = 90
PER_MINUTE = 150
REPEATS = 5
TARGET_SECONDS = 1.0
INCIDENT_PARTNERS = 2
INCIDENT_MINUTES = 120
SLUG = "bench-monitor-{:02d}"
RESULTS = Path(__file__).resolve().parent / "results" / "monitor.json"


@dataclass
class MonitorResult:
    partners: int
    history_rows: int
    seed_seconds: float
    fold_seconds: list[float] = field(default_factory=list)
    evaluate_seconds: list[float] = field(default_factory=list)
    cycle_seconds: list[float] = field(default_factory=list)
    events: int = 0

    @property
    def median_cycle(self) -> float:
        return statistics.median(self.cycle_seconds)

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "median_cycle_seconds": round(self.median_cycle, 4),
            "target_seconds": TARGET_SECONDS,
            "met": self.median_cycle < TARGET_SECONDS,
        }

    def lines(self) -> list[str]:
        verdict = "PASS" if self.median_cycle < TARGET_SECONDS else "MISS"
        return [
            "",
            f"Operational monitor cycle ({self.partners} partners x {DAYS} days of per-minute "
            f"history, {self.history_rows:,} MinuteStat rows; {PER_MINUTE} new transactions "
            "per partner folded each cycle)",
            f"  cycle median {self.median_cycle * 1000:,.0f} ms (fold "
            f"{statistics.median(self.fold_seconds) * 1000:,.0f} ms, judge + alerts "
            f"{statistics.median(self.evaluate_seconds) * 1000:,.0f} ms) over {REPEATS} "
            f"cycles; target < {TARGET_SECONDS:.0f} s {verdict}",
        ]


def measure() -> MonitorResult:
    _setup()
    from django.db import connections
    from django.utils import timezone

    from sentinel.monitoring.analysis import floor_minute
    from sentinel.monitoring.services import minute_stats_refresh, monitor_evaluate

    started = time.perf_counter()
    partners, last_minute, rows = _seed()
    seed_seconds = time.perf_counter() - started
    _fresh_minute(partners, floor_minute(timezone.now()))
    result = MonitorResult(len(partners), rows, round(seed_seconds, 2))
    for _ in range(REPEATS):
        begin = time.perf_counter()
        minute_stats_refresh()
        folded = time.perf_counter()
        result.events += len(monitor_evaluate(partners=partners, at=last_minute))
        done = time.perf_counter()
        result.fold_seconds.append(round(folded - begin, 4))
        result.evaluate_seconds.append(round(done - folded, 4))
        result.cycle_seconds.append(round(done - begin, 4))
    connections.close_all()
    return result


def emit(result: MonitorResult) -> None:
    print("\n".join(result.lines()), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import django

    django.setup()


def _seed():
    """The bench partners and their history; reused when already there."""
    from django.db import connection, transaction
    from django.utils import timezone

    from sentinel.monitoring.analysis import MINUTE, floor_minute
    from sentinel.monitoring.models import MinuteStat
    from transactions.models import PartnerBank

    partners = []
    for index in range(PARTNERS):
        partner, _ = PartnerBank.objects.get_or_create(
            slug=SLUG.format(index),
            defaults={"name": f"Bench monitor {index:02d}", "is_active": False},
        )
        partners.append(partner)
    minutes = DAYS * 24 * 60
    existing = MinuteStat.objects.filter(partner__in=partners, dimension="").count()
    if existing >= PARTNERS * minutes:
        last = MinuteStat.objects.filter(partner=partners[0], dimension="").latest("minute")
        return partners, last.minute, existing
    MinuteStat.objects.filter(partner__in=partners).delete()
    last = floor_minute(timezone.now()) - 2 * MINUTE
    first = last - (minutes - 1) * MINUTE
    incident_from = last - (INCIDENT_MINUTES - 1) * MINUTE
    rng = random.Random(42)
    columns = (
        "partner_id, minute, dimension, value, total, approved, failed, denied, reversed, "
        "latency_count, latency_p50_ms, latency_p95_ms, updated_at"
    )
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY monitoring_minutestat ({columns}) FROM STDIN") as copy:
            for index, partner in enumerate(partners):
                incident = index < INCIDENT_PARTNERS
                for i in range(minutes):
                    minute = first + i * MINUTE
                    total = PER_MINUTE + rng.randint(-30, 30)
                    failed = rng.randint(0, 4)
                    if incident and minute >= incident_from:
                        failed = total // 2
                    denied = rng.randint(2, 10)
                    reversed_ = rng.randint(0, 2)
                    approved = total - failed - denied - reversed_
                    p95 = 180 + rng.random() * 40
                    copy.write_row(
                        (
                            partner.pk, minute, "", "", total, approved, failed, denied,
                            reversed_, total, p95 * 0.6, p95, now,
                        )
                    )  # fmt: skip
        cursor.execute("ANALYZE monitoring_minutestat")
    return partners, last, PARTNERS * minutes


def _fresh_minute(partners, minute) -> None:
    """One minute of real transactions per partner, for the fold to find."""
    from transactions.services import transactions_ingest

    stamp = int(time.time())
    for partner in partners:
        payloads = [
            {
                "external_id": f"bench-monitor-{stamp}-{i}",
                "occurred_at": (minute + timedelta(seconds=i % 60)).isoformat(),
                "amount": "12.50",
                "currency": "USD",
                "type": "card_payment",
                "status": "approved" if i % 20 else "denied",
                "originator": {"account_id": f"A{i % 50}"},
                "acquirer": f"acq-{i % 3}",
                "channel": "pos",
                "latency_ms": 100 + i,
            }
            for i in range(PER_MINUTE)
        ]
        transactions_ingest(partner=partner, payloads=payloads)


if __name__ == "__main__":
    emit(measure())
