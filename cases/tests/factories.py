"""Factories for cases: staff of each group, alerts made directly or by scoring, and cases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.utils import timezone

from alerts.models import Alert
from cases import services
from cases.choices import CaseStatus
from cases.models import Case, CaseAlert, Team, sla_due_at
from cases.services import cases_from_alerts
from rules.default_pack import NETWORK_RING_PACK
from rules.models import Rule
from rules.tests import factories as rule_factories
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.pipeline.rings import network_rings_alert
from sentinel.roles import ADMINISTRATOR, COMPLIANCE_OFFICER, INVESTIGATOR, SENIOR_INVESTIGATOR
from transactions.models import PartnerBank
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

_numbers = itertools.count(1)
PASSWORD = "correct horse battery staple"


def member(group: str | None, username: str | None = None, **fields) -> User:
    """A staff user in the group (None: staff in no group), with PASSWORD."""
    name = username or f"{(group or 'staff').split()[0].lower()}{next(_numbers)}"
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True, **fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def investigator(username: str | None = None, **fields) -> User:
    return member(INVESTIGATOR, username, **fields)


def senior(username: str | None = None, **fields) -> User:
    return member(SENIOR_INVESTIGATOR, username, **fields)


def officer(username: str | None = None) -> User:
    return member(COMPLIANCE_OFFICER, username)


def administrator(username: str | None = None) -> User:
    return member(ADMINISTRATOR, username)


def team(name: str = "Payments") -> Team:
    return Team.objects.create(name=name, slug=name.lower().replace(" ", "-"))


def a_rule(*, severity: str = "high", typologies: list[str] | None = None, **content) -> Rule:
    """A live rule on amounts from 1,000 (other rules stay as they are)."""
    content.setdefault("expression", "amount >= 1000")
    if typologies:
        content["typologies"] = typologies  # part of the version: set when it is made
    return rule_factories.rule(severity=severity, **content)


def alert(
    *,
    rule: Rule | None = None,
    partner: PartnerBank | None = None,
    account: str = "A1",
    customer: str = "C1",
    severity: str = "high",
    priority: int = 800,
    seen: datetime | None = None,
) -> Alert:
    """An open alert made directly (no transaction behind it): for workflow tests."""
    rule = rule or a_rule()
    seen = seen or timezone.now()
    return Alert.objects.create(
        rule=rule,
        rule_version=rule.version,
        partner=partner or PartnerBankFactory(),
        account_external_id=account,
        customer_external_id=customer,
        severity=severity,
        first_seen_at=seen,
        last_seen_at=seen,
        currency="USD",
        amount_involved=Decimal("1500.00"),
        priority=priority,
    )


def case(*, status: str = CaseStatus.OPEN, assignee: User | None = None, **alert_fields) -> Case:
    """A case opened the way production opens one: from an alert, by cases_from_alerts.

    ``status`` investigating needs an assignee (given, or a new investigator)."""
    (opened,) = cases_from_alerts(alerts=[alert(**alert_fields)])
    if status != CaseStatus.OPEN or assignee is not None:
        if status != CaseStatus.OPEN and assignee is None:
            assignee = investigator()
        Case.objects.filter(pk=opened.pk).update(status=status, assignee=assignee)
    opened.refresh_from_db()
    return opened


def at(minutes_ago: float) -> str:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return moment.isoformat().replace("+00:00", "Z")


def ingest_and_score(partner: PartnerBank, *payloads: dict) -> list:
    """Ingest, profile and score, as the workers do (alerts, then cases, follow)."""
    results = transactions_ingest(partner=partner, payloads=list(payloads))
    ids = [result.id for result in results]
    transactions_process(transaction_ids=ids)
    return ids


def payment(minutes_ago: float = 1, **overrides) -> dict:
    return transaction_payload(occurred_at=at(minutes_ago), **overrides)


def many_cases(count: int, *, partner: PartnerBank, rule: Rule, alerts_per_case: int = 2) -> None:
    """``count`` open cases with their alerts, inserted in bulk (for query-count tests and the
    bench). One customer per case: C-<n>."""
    now = timezone.now()
    alerts = Alert.objects.bulk_create(
        Alert(
            rule=rule,
            rule_version_id=rule.version_id,
            partner=partner,
            account_external_id=f"A-{n}",
            customer_external_id=f"C-{n}",
            severity=("low", "medium", "high", "critical")[n % 4],
            status="in_case",
            first_seen_at=now,
            last_seen_at=now,
            currency="USD",
            amount_involved=Decimal(1000 + n),
            priority=250 + (n * 37) % 1500,
        )
        for n in range(count)
        for _ in range(alerts_per_case)
    )
    cases = Case.objects.bulk_create(
        Case(
            partner=partner,
            customer_external_id=f"C-{n}",
            account_external_id=f"A-{n}",
            severity=("low", "medium", "high", "critical")[n % 4],
            priority=250 + (n * 37) % 1500,
            created_at=now,
            due_at=sla_due_at(severity=("low", "medium", "high", "critical")[n % 4], opened_at=now)
            - timedelta(hours=n % 100),
        )
        for n in range(count)
    )
    CaseAlert.objects.bulk_create(
        CaseAlert(case=cases[index // alerts_per_case], alert=item)
        for index, item in enumerate(alerts)
    )


def exported_sar(case: Case, actor: User | None = None) -> Case:
    """The case with its suspicious-activity report drafted, written and exported (through the
    services), as closing it as ``sar_filed`` requires. Returns the case as now stored."""
    from cases.models import SarReportingEntity

    actor = actor or case.assignee
    SarReportingEntity.objects.get_or_create(partner=case.partner, defaults={"rentity_id": 4711})
    services.sar_draft(case=case, actor=actor)
    services.sar_edit(
        case=case,
        actor=actor,
        reason="Structuring below the line.",
        action="",
        indicators=["structuring"],
    )
    services.sar_export(case=case, actor=actor)
    return Case.objects.get(pk=case.pk)


def ring_by_window_scan(partner: PartnerBank, *, hub: str = "HUB", payers: int = 5) -> list:
    """A fan-in found by the network window scan, raised as one alert and one case: strangers
    P0..P4 each pay ``hub`` (the partner's customer) 900 this week, the graph holding two
    months behind them (the scan needs a month of history). The ring's transaction ids."""
    for pack_rule in NETWORK_RING_PACK:  # a transactional test's flush took the pack's away
        if not Rule.objects.filter(code=pack_rule.code).exists():
            rule_factories.rule(code=pack_rule.code, **pack_rule.version_fields())
    rule_factories.network_rules_live()
    ingest_and_score(
        partner,
        transaction_payload(
            occurred_at=at(60 * 24 * 60),
            direction="inbound",
            originator={"account_id": "OLD", "country": "US"},
            beneficiary={"account_id": "SOMEONE", "customer_id": "c-SOMEONE", "country": "US"},
        ),
    )
    ring = ingest_and_score(
        partner,
        *(
            payment(
                60 * (72 - 4 * i),
                amount="900.00",
                direction="inbound",
                originator={"account_id": f"P{i}", "name": f"Payer {i}", "country": "US"},
                beneficiary={"account_id": hub, "customer_id": f"c-{hub}", "name": "Hub Holder"},
            )
            for i in range(payers)
        ),
    )
    network_rings_alert(partner_id=partner.pk)
    return ring
