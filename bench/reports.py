"""The reports with 1,000,000 alerts: server time and SQL queries of each report.

Uses the alert queue bench's partners and their 1,000,000 alerts (bench/alert_queue.py seeds
them once per database, raised over 90 days), and adds, once: when each triaged alert was
triaged (0 to 47 hours after it was raised), a case for every third alert (75 % closed with a
disposition 0 to 199 hours after opening, the rest under investigation; 20 investigators, 4
teams) and 1,000,000 scored transactions with their decisions over the same 90 days. Then it
renders every report in this process through Django's request handler (session, middleware,
view, template) as a compliance officer: for the default period (the last 30 days: a third of
the alerts), for one partner, and for 90 days (every alert), plus each report's CSV for the
default period. The issue's target: each report under 1 s on 1 million alerts.

Run alone: ``DATABASE_URL=... python -m bench.reports``; ``make bench`` runs it before the
servers start (bench/run.py). Figures also go to bench/results/reports.json.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from bench import alert_queue

REPEATS = 5
WARMUP = 1
TARGET_MS = 1000.0
DECISIONS = 1_000_000
INVESTIGATORS = 20
TEAMS = 4
RESULTS = Path(__file__).resolve().parent / "results" / "reports.json"

_TRIAGED = """
UPDATE alerts_alert SET triaged_at = created_at + make_interval(hours => (id %% 48)::int)
WHERE partner_id = ANY(%(partners)s) AND status <> 'new' AND triaged_at IS NULL
"""
_CASES = """
INSERT INTO cases_case (
    partner_id, customer_external_id, account_external_id, status, disposition, severity,
    priority, tags, due_at, proposed_disposition, closure_reason, closed_at, version,
    created_at, updated_at, assignee_id, team_id, proposed_sar_sha256)
SELECT partner_id, customer_external_id, account_external_id,
    CASE WHEN id %% 4 = 0 THEN 'investigating' ELSE 'closed' END,
    CASE WHEN id %% 4 = 0 THEN ''
         ELSE (ARRAY['false_positive', 'no_action', 'sar_filed', 'customer_exited',
                     'false_positive', 'no_action'])[1 + (id / 4) %% 6] END,
    severity, priority, '{}',
    created_at + make_interval(hours => (ARRAY[336, 168, 72, 24])[severity_rank]),
    '', '',
    CASE WHEN id %% 4 = 0 THEN NULL ELSE created_at + make_interval(hours => (id %% 200)::int) END,
    1, created_at, now(),
    (%(users)s::int[])[1 + id %% cardinality(%(users)s::int[])],
    (%(teams)s::bigint[])[1 + id %% cardinality(%(teams)s::bigint[])],
    ''
FROM alerts_alert
WHERE partner_id = ANY(%(partners)s) AND id %% 3 = 0
"""
_LINKS = """
INSERT INTO cases_casealert (case_id, alert_id, created_at)
SELECT c.id, a.id, c.created_at
FROM cases_case c JOIN alerts_alert a
  ON a.partner_id = c.partner_id AND a.account_external_id = c.account_external_id
WHERE c.partner_id = ANY(%(partners)s)
"""
_TRANSACTIONS = """
INSERT INTO transactions_transaction (
    id, external_id, occurred_at, received_at, amount, currency, type, status, direction,
    channel, originator_account_id, originator_customer_id, originator_name,
    originator_country, originator_bank, beneficiary_account_id, beneficiary_customer_id,
    beneficiary_name, beneficiary_country, beneficiary_bank, device_id, product, acquirer,
    card_type, mcc, metadata, payload_hash, partner_id, profiled_at)
SELECT md5('bench-reports-' || n)::uuid, 'BR-' || n,
    now() - make_interval(secs => (%(count)s - n) * 7.776),
    now() - make_interval(secs => (%(count)s - n) * 7.776),
    100 + n %% 5000, 'USD', 'transfer', 'approved', 'outbound', 'web', 'BA-' || n,
    '', '', '', '', '', '', '', '', '', '', '', '', '', '', '{}', '',
    (%(partners)s::bigint[])[1 + n %% cardinality(%(partners)s::bigint[])], now()
FROM generate_series(%(start)s, %(count)s - 1) AS n
"""
_DECISIONS = """
INSERT INTO rules_decision (
    transaction_id, partner_id, outcome, score, decided_at, rules_evaluated, rules_failed,
    degraded)
SELECT t.id, t.partner_id,
    (ARRAY['allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'review',
           'block'])[1 + abs(hashtext(t.external_id)) %% 10],
    0, t.received_at, 12, 0, '{}'
FROM transactions_transaction t
WHERE t.partner_id = ANY(%(partners)s) AND t.external_id LIKE 'BR-%%'
  AND NOT EXISTS (SELECT 1 FROM rules_decision d WHERE d.transaction_id = t.id)
"""


@dataclass
class ReportsResult:
    alerts: int
    cases: int
    decisions: int
    seed_seconds: float
    milliseconds: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def median(self, page: str) -> float:
        return statistics.median(self.milliseconds[page])

    def worst(self, page: str) -> float:
        return max(self.milliseconds[page])

    def met(self) -> bool:
        return all(self.median(page) < TARGET_MS for page in self.milliseconds)

    def as_dict(self) -> dict:
        document = asdict(self)
        document["summary"] = {
            page: {
                "median_ms": round(self.median(page), 1),
                "max_ms": round(self.worst(page), 1),
                "queries": self.queries[page],
            }
            for page in self.milliseconds
        }
        document["target"] = {"median_ms <": TARGET_MS}
        return document

    def lines(self) -> list[str]:
        lines = [
            f"Reports, {self.alerts:,} alerts, {self.cases:,} cases, {self.decisions:,} "
            f"decisions in the database ({REPEATS} requests per page after {WARMUP} warm-up, "
            "in-process)"
        ]
        for page in self.milliseconds:
            lines.append(
                f"  {page:<42} median {self.median(page):6.1f} ms, max {self.worst(page):6.1f} "
                f"ms, {self.queries[page]} SQL queries"
            )
        verdict = "met" if self.met() else "MISSED"
        lines.append(f"  target: every report under {TARGET_MS:.0f} ms: {verdict}")
        lines += [f"  problem: {problem}" for problem in self.problems]
        return lines


def measure() -> ReportsResult:
    alert_queue._setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from alerts.models import Alert
    from cases.models import Case
    from rules.models import Decision
    from sentinel.accounts.testing import login_verified
    from sentinel.reports.catalog import REPORTS

    started = time.perf_counter()
    alert_queue._seed()
    _seed()
    seeded = time.perf_counter() - started
    result = ReportsResult(
        alerts=Alert.objects.count(),
        cases=Case.objects.count(),
        decisions=Decision.objects.count(),
        seed_seconds=round(seeded, 1),
    )
    today = timezone.localdate()
    quarter = f"from={today - timedelta(days=89)}&to={today}"
    variants = {
        "30 days": "",
        "30 days, one partner": f"?partner={alert_queue.PARTNER}-1",
        "90 days": f"?{quarter}",
    }
    client = Client(SERVER_NAME="localhost")
    login_verified(client, _officer())
    pages = {
        f"{report.slug}, {name}": f"/reports/{report.slug}/{query}"
        for report in REPORTS
        for name, query in variants.items()
    }
    pages |= {f"{report.slug}, CSV": f"/reports/{report.slug}/?format=csv" for report in REPORTS}
    for page, path in pages.items():
        for _ in range(WARMUP):
            _get(client, path)
        with CaptureQueriesContext(connection) as captured:
            status = _get(client, path)
        result.queries[page] = len(captured.captured_queries)
        if status != 200:
            result.problems.append(f"{path} answered {status}")
        timings = []
        for _ in range(REPEATS):
            begin = time.perf_counter()
            _get(client, path)
            timings.append((time.perf_counter() - begin) * 1000)
        result.milliseconds[page] = timings
    connection.close()
    return result


def emit(result: ReportsResult) -> None:
    print("\n".join(result.lines()), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


def _get(client, path: str) -> int:
    """The whole answer, streamed CSVs read to the end."""
    response = client.get(path)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def _officer():
    from django.contrib.auth.models import Group, User

    from sentinel.roles import COMPLIANCE_OFFICER

    user, _ = User.objects.get_or_create(
        username="bench-report-officer", defaults={"is_staff": True}
    )
    user.groups.add(Group.objects.get(name=COMPLIANCE_OFFICER))
    return user


def _seed() -> None:
    """Triage times, cases and decisions for the alert queue bench's partners, once."""
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction

    from cases.models import Case, Team
    from sentinel.roles import INVESTIGATOR
    from transactions.models import PartnerBank

    partners = list(
        PartnerBank.objects.filter(slug__startswith=alert_queue.PARTNER).values_list(
            "pk", flat=True
        )
    )
    group = Group.objects.get(name=INVESTIGATOR)
    users = []
    for n in range(INVESTIGATORS):
        user, _ = User.objects.get_or_create(
            username=f"bench-report-investigator-{n}", defaults={"is_staff": True}
        )
        user.groups.add(group)
        users.append(user.pk)
    teams = [
        Team.objects.get_or_create(slug=f"bench-team-{n}", defaults={"name": f"Bench team {n}"})[
            0
        ].pk
        for n in range(TEAMS)
    ]
    params = {"partners": partners, "users": users, "teams": teams}
    # One transaction per step, so a run stopped half-way keeps what it has written.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_TRIAGED, params)
    if not Case.objects.filter(partner__in=partners).exists():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CASES, params)
            cursor.execute(_LINKS, params)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM transactions_transaction "
            "WHERE partner_id = ANY(%(partners)s) AND external_id LIKE 'BR-%%'",
            params,
        )
        start = cursor.fetchone()[0]
        if start < DECISIONS:
            cursor.execute(_TRANSACTIONS, {**params, "count": DECISIONS, "start": start})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_DECISIONS, params)
    with connection.cursor() as cursor:
        for table in ("alerts_alert", "cases_case", "cases_casealert", "rules_decision"):
            # Vacuumed as well: the reports read alerts and cases through index-only scans,
            # which need the visibility map the set-up's updates have just cleared.
            cursor.execute(f"VACUUM (ANALYZE) {table}")


if __name__ == "__main__":
    emit(measure())
