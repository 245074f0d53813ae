"""The case queue page with 10,000 open cases and 100,000 alerts: server time and SQL queries.

Seeds (once per database) a partner of its own with 10,000 active cases (70 % open and
unassigned, 30 % under investigation), each holding 10 alerts from the default pack's rules,
then renders pages of ``/cases/`` in this process through Django's request handler (session,
middleware, view, template: everything but the network) as a senior investigator and
reports the median and 95th percentile per page, and the number of SQL queries.

Run alone against any database: ``DATABASE_URL=... python -m bench.cases``; ``make bench``
runs it before the servers start (bench/run.py). Figures also go to bench/results/cases.json.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

CASES = 10_000
ALERTS_PER_CASE = 10
REPEATS = 30
WARMUP = 3
TARGET_MS = 300.0
PARTNER = "bench-case-queue"
PAGES = {
    "first page": "/cases/",
    "first page, API": "/api/v1/cases/",
    "overdue view": "/cases/?view=overdue",
    "typology filter": "/cases/?typology=fan_in",
    "page 100, by due date": "/cases/?ordering=due&page=100",
}
RESULTS = Path(__file__).resolve().parent / "results" / "cases.json"


@dataclass
class CaseQueueResult:
    active_cases: int
    alerts: int
    seed_seconds: float
    milliseconds: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def median(self, page: str) -> float:
        return statistics.median(self.milliseconds[page])

    def p95(self, page: str) -> float:
        ordered = sorted(self.milliseconds[page])
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def as_dict(self) -> dict:
        document = asdict(self)
        document["summary"] = {
            page: {
                "median_ms": round(self.median(page), 1),
                "p95_ms": round(self.p95(page), 1),
                "queries": self.queries[page],
            }
            for page in self.milliseconds
        }
        document["target"] = {"first page median_ms <": TARGET_MS}
        return document

    def lines(self) -> list[str]:
        lines = [
            f"Case queue, {self.active_cases:,} active cases and {self.alerts:,} alerts in the "
            f"database ({REPEATS} requests per page after {WARMUP} warm-ups, in-process)"
        ]
        for page in self.milliseconds:
            lines.append(
                f"  {page:<24} median {self.median(page):6.1f} ms, p95 {self.p95(page):6.1f} ms, "
                f"{self.queries[page]} SQL queries"
            )
        verdict = "met" if self.median("first page") < TARGET_MS else "MISSED"
        lines.append(f"  target: first page under {TARGET_MS:.0f} ms server time: {verdict}")
        lines += [f"  problem: {problem}" for problem in self.problems]
        return lines


def measure() -> CaseQueueResult:
    _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from alerts.models import Alert
    from cases.models import Case
    from sentinel.accounts.testing import login_verified

    started = time.perf_counter()
    _seed()
    seeded = time.perf_counter() - started
    result = CaseQueueResult(
        active_cases=Case.objects.active().count(),
        alerts=Alert.objects.count(),
        seed_seconds=round(seeded, 1),
    )
    client = Client(SERVER_NAME="localhost")
    login_verified(client, _senior())  # a senior's session has passed the TOTP step
    for page, path in PAGES.items():
        for _ in range(WARMUP):
            client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        result.queries[page] = len(captured.captured_queries)
        if response.status_code != 200:
            result.problems.append(f"{path} answered {response.status_code}")
        timings = []
        for _ in range(REPEATS):
            begin = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - begin) * 1000)
        result.milliseconds[page] = timings
    connection.close()
    return result


def emit(result: CaseQueueResult) -> None:
    print("\n".join(result.lines()), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import django

    django.setup()


def _senior():
    from django.contrib.auth.models import Group, User

    from sentinel.roles import SENIOR_INVESTIGATOR

    user, _ = User.objects.get_or_create(username="bench-senior", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name=SENIOR_INVESTIGATOR))
    return user


def _seed() -> None:
    """The bench partner's 10,000 cases and 100,000 alerts, inserted in bulk once."""
    from django.db import transaction
    from django.utils import timezone

    from alerts.models import Alert
    from cases.models import Case, CaseAlert, sla_due_at
    from rules.models import Rule
    from transactions.models import PartnerBank

    if Case.objects.filter(partner__slug=PARTNER).active().count() >= CASES:
        return
    rules = list(Rule.objects.filter(version__isnull=False).order_by("code")[:5])
    investigator = _senior()
    severities = ("low", "medium", "high", "critical")
    now = timezone.now()
    with transaction.atomic():
        partner, _ = PartnerBank.objects.get_or_create(
            slug=PARTNER, defaults={"name": "Bench case queue"}
        )
        start = Case.objects.filter(partner=partner).count()
        for chunk in range(start, CASES, 1000):
            numbers = range(chunk, min(chunk + 1000, CASES))
            cases = Case.objects.bulk_create(
                Case(
                    partner=partner,
                    customer_external_id=f"C{n}",
                    account_external_id=f"A{n}",
                    severity=severities[n % 4],
                    priority=250 + (n * 37) % 1500,
                    status="investigating" if n % 10 < 3 else "open",
                    assignee=investigator if n % 10 < 3 else None,
                    created_at=now - timedelta(hours=n % 200),
                    due_at=sla_due_at(severity=severities[n % 4], opened_at=now)
                    - timedelta(hours=n % 200),
                )
                for n in numbers
            )
            alerts = Alert.objects.bulk_create(
                Alert(
                    rule=rules[k % len(rules)],
                    rule_version_id=rules[k % len(rules)].version_id,
                    partner=partner,
                    account_external_id=f"A{n}",
                    customer_external_id=f"C{n}",
                    severity=severities[(n + k) % 4],
                    status="in_case",
                    first_seen_at=now - timedelta(minutes=k),
                    last_seen_at=now,
                    currency="USD",
                    amount_involved=Decimal(1000 + n),
                    priority=250 + (n * 37 + k) % 1500,
                )
                for n in numbers
                for k in range(ALERTS_PER_CASE)
            )
            CaseAlert.objects.bulk_create(
                CaseAlert(case=cases[index // ALERTS_PER_CASE], alert=alert)
                for index, alert in enumerate(alerts)
            )


if __name__ == "__main__":
    emit(measure())
