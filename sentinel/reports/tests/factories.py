"""Hand-built alerts, cases and decisions at chosen moments, for the reports' tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from alerts.choices import AlertStatus
from alerts.models import Alert
from cases.choices import CaseStatus
from cases.models import Case, CaseAlert, Team
from cases.tests import factories as case_factories
from rules.models import Decision, Rule
from transactions.models import PartnerBank
from transactions.services import transactions_ingest
from transactions.tests.factories import transaction_payload

_subjects = itertools.count(1)


def raised(
    *,
    rule: Rule,
    partner: PartnerBank,
    at: datetime,
    status: str = AlertStatus.NEW,
    triaged_after: timedelta | None = None,
    severity: str = "high",
) -> Alert:
    """An alert raised (created) at ``at``, now in ``status``, triaged that long after."""
    subject = f"S-{next(_subjects)}"
    alert = case_factories.alert(
        rule=rule, partner=partner, account=subject, customer=subject, severity=severity
    )
    fields = {"created_at": at, "status": status}
    if status == AlertStatus.DISMISSED:
        fields["dismiss_reason"] = "Payroll, as every month."
    if triaged_after is not None:
        fields["triaged_at"] = at + triaged_after
    Alert.objects.filter(pk=alert.pk).update(**fields)
    return Alert.objects.get(pk=alert.pk)


def case_of(
    *alerts: Alert,
    partner: PartnerBank,
    opened: datetime,
    disposition: str = "",
    closed: datetime | None = None,
    due: datetime | None = None,
    assignee=None,
    team: Team | None = None,
    severity: str = "high",
) -> Case:
    """A case opened at ``opened`` holding ``alerts``; closed with ``disposition`` at
    ``closed`` when given (by a new investigator unless ``assignee``), else under
    investigation (or open when nobody is assigned)."""
    subject = f"S-{next(_subjects)}"
    if disposition and assignee is None:
        assignee = case_factories.investigator()  # a closed case was worked by someone
    status = CaseStatus.CLOSED if disposition else CaseStatus.OPEN
    if not disposition and assignee is not None:
        status = CaseStatus.INVESTIGATING
    case = Case.objects.create(
        partner=partner,
        customer_external_id=subject,
        account_external_id=subject,
        status=status,
        disposition=disposition,
        severity=severity,
        assignee=assignee,
        team=team,
        due_at=due or opened + timedelta(hours=72),
        closed_at=closed if disposition else None,
        created_at=opened,
    )
    CaseAlert.objects.bulk_create(CaseAlert(case=case, alert=alert) for alert in alerts)
    return case


def decided(*, partner: PartnerBank, at: datetime, outcome: str) -> Decision:
    """A stored transaction and the decision made about it at ``at``."""
    (result,) = transactions_ingest(partner=partner, payloads=[transaction_payload()])
    return Decision.objects.create(
        transaction_id=result.id, partner=partner, outcome=outcome, score=0, decided_at=at
    )
