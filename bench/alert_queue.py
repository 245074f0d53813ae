"""The alert queue page with 1,000,000 alerts: server time and SQL queries per filter.

Seeds (once per database) partners of its own holding 1,000,000 alerts in one INSERT ...
SELECT from generate_series (10 % new, 10 % acknowledged, 40 % in a case, 40 % dismissed;
four severities, five rules, raised over 90 days), then renders ``/alerts/`` in this process
through Django's request handler (session, middleware, view, template: everything but the
network) as an investigator, with no filter and with each filter alone, and reports the median
and 95th percentile per page and the number of SQL queries. The issue's target: the first page
under 300 ms with any one filter, in 8 queries or fewer.

Run alone against any database: ``DATABASE_URL=... python -m bench.alert_queue``; ``make
bench`` runs it before the servers start (bench/run.py). Figures also go to
bench/results/alert_queue.json.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ALERTS = 1_000_000
PARTNERS = 5
REPEATS = 20
WARMUP = 3
TARGET_MS = 300.0
TARGET_QUERIES = 8
PARTNER = "bench-alert-queue"  # and -1 .. -4
PAGES = {
    "first page": "/alerts/",
    "partner": f"/alerts/?partner={PARTNER}-1",
    "rule": "/alerts/?rule={rule}",
    "rule, none raised": "/alerts/?rule={quiet_rule}",
    "severity": "/alerts/?severity=critical",
    "status": "/alerts/?status=dismissed",
    "subject": "/alerts/?subject=BA-1",
    "typology": "/alerts/?typology={typology}",
    "assignee": "/alerts/?assignee=none",
    "age": "/alerts/?age=24h",
    "sort: newest": "/alerts/?sort=newest",
    "sort: severity": "/alerts/?sort=severity",
}
RESULTS = Path(__file__).resolve().parent / "results" / "alert_queue.json"

_SEED = """
INSERT INTO alerts_alert (
    rule_id, rule_version_id, partner_id, account_external_id, customer_external_id, severity,
    status, occurrences, first_seen_at, last_seen_at, currency, amount_involved, priority,
    dismiss_reason, created_at, updated_at)
SELECT
    (%(rules)s::bigint[])[1 + n %% cardinality(%(rules)s::bigint[])],
    (%(versions)s::bigint[])[1 + n %% cardinality(%(versions)s::bigint[])],
    (%(partners)s::bigint[])[1 + (n / 7) %% cardinality(%(partners)s::bigint[])],
    'BA-' || n, 'BC-' || n,
    (ARRAY['low', 'medium', 'high', 'critical'])[1 + n %% 4],
    (ARRAY['new', 'acknowledged', 'in_case', 'in_case', 'in_case', 'in_case',
           'dismissed', 'dismissed', 'dismissed', 'dismissed'])[1 + (n / 3) %% 10],
    1 + n %% 9,
    now() - make_interval(secs => (%(alerts)s - n) * 7.776),
    now() - make_interval(secs => (%(alerts)s - n) * 7.776),
    'USD', 1000 + n %% 50000, 250 + (n * 37) %% 1500,
    CASE WHEN (n / 3) %% 10 >= 6 THEN 'bench: not suspicious' ELSE '' END,
    now() - make_interval(secs => (%(alerts)s - n) * 7.776),
    now()
FROM generate_series(%(start)s, %(alerts)s - 1) AS n
"""


@dataclass
class AlertQueueResult:
    alerts: int
    seed_seconds: float
    milliseconds: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def median(self, page: str) -> float:
        return statistics.median(self.milliseconds[page])

    def p95(self, page: str) -> float:
        ordered = sorted(self.milliseconds[page])
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def met(self) -> bool:
        return all(
            self.median(page) < TARGET_MS and self.queries[page] <= TARGET_QUERIES
            for page in self.milliseconds
        )

    def as_dict(self) -> dict:
        document = asdict(self)
        document["summary"] = {
            page: {
                "median_ms": round(self.median(page), 1),
                "p95_ms": round(self.p95(page), 1),
                "queries": self.queries[page],
                "rows": self.rows[page],
            }
            for page in self.milliseconds
        }
        document["target"] = {"median_ms <": TARGET_MS, "queries <=": TARGET_QUERIES}
        return document

    def lines(self) -> list[str]:
        lines = [
            f"Alert queue, {self.alerts:,} alerts in the database ({REPEATS} requests per page "
            f"after {WARMUP} warm-ups, in-process)"
        ]
        for page in self.milliseconds:
            lines.append(
                f"  {page:<18} median {self.median(page):6.1f} ms, p95 {self.p95(page):6.1f} ms, "
                f"{self.queries[page]} SQL queries, {self.rows[page]} rows"
            )
        verdict = "met" if self.met() else "MISSED"
        lines.append(
            f"  target: first page under {TARGET_MS:.0f} ms with any one filter, "
            f"{TARGET_QUERIES} queries or fewer: {verdict}"
        )
        lines += [f"  problem: {problem}" for problem in self.problems]
        return lines


def measure() -> AlertQueueResult:
    _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from alerts.models import Alert
    from sentinel.accounts.testing import login_verified

    started = time.perf_counter()
    rule, quiet_rule, typology = _seed()
    seeded = time.perf_counter() - started
    result = AlertQueueResult(alerts=Alert.objects.count(), seed_seconds=round(seeded, 1))
    client = Client(SERVER_NAME="localhost")
    login_verified(client, _investigator())
    for page, template in PAGES.items():
        path = template.format(rule=rule, quiet_rule=quiet_rule, typology=typology)
        for _ in range(WARMUP):
            client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        result.queries[page] = len(captured.captured_queries)
        html = response.content.decode()
        result.rows[page] = html.count('<tr data-alert-id="')
        if response.status_code != 200:
            result.problems.append(f"{path} answered {response.status_code}")
        elif 'id="queue-problems"' in html:
            result.problems.append(f"{path}: the page refused its filters")
        timings = []
        for _ in range(REPEATS):
            begin = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - begin) * 1000)
        result.milliseconds[page] = timings
    connection.close()
    return result


def emit(result: AlertQueueResult) -> None:
    print("\n".join(result.lines()), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentinel.settings.local")
    import django

    django.setup()


def _investigator():
    from django.contrib.auth.models import Group, User

    from sentinel.roles import INVESTIGATOR

    user, _ = User.objects.get_or_create(
        username="bench-alert-investigator", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get(name=INVESTIGATOR))
    return user


def _seed() -> tuple[str, str, str]:
    """The bench partners' 1,000,000 alerts, inserted once (resumed where a run stopped).
    Returns the code of a rule with alerts, of one with none (a filter that finds nothing
    must not read every alert to say so), and a typology the alerts carry."""
    from django.db import connection, transaction

    from alerts.models import Alert
    from rules.models import Rule
    from transactions.models import PartnerBank

    rules = list(Rule.objects.filter(version__isnull=False).select_related("version")[:5])
    if not rules:
        raise SystemExit("No rule with a version: run the migrations (they load the rule pack).")
    typology = next((t for r in rules for t in r.version.typologies), "structuring")
    quiet = Rule.objects.exclude(pk__in=[r.pk for r in rules]).exclude(alerts__isnull=False)
    quiet_code = quiet.values_list("code", flat=True).first() or "no-such-rule"
    partners = [
        PartnerBank.objects.get_or_create(
            slug=PARTNER if n == 0 else f"{PARTNER}-{n}",
            defaults={"name": f"Bench alert queue {n}"},
        )[0]
        for n in range(PARTNERS)
    ]
    mine = Alert.objects.filter(partner__in=partners)
    start = mine.count()
    if start < ALERTS:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _SEED,
                {
                    "rules": [r.pk for r in rules],
                    "versions": [r.version_id for r in rules],
                    "partners": [p.pk for p in partners],
                    "alerts": ALERTS,
                    "start": start,
                },
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE alerts_alert")
    return rules[0].code, quiet_code, typology


if __name__ == "__main__":
    emit(measure())
