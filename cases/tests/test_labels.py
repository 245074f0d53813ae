"""A closed case labels each of its transactions with its disposition (docs/detection.md §
Labels), in the closure's own database transaction; the case page shows the labels."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from cases import services
from cases.models import Case
from cases.selectors import transactions_of
from sentinel.testing import logged_in
from transactions.models import TransactionLabel, TransactionLabelEvent
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    """A high case, under investigation, on two real scored transactions."""
    partner = PartnerBankFactory()
    f.a_rule(code="big_amount")
    f.ingest_and_score(partner, f.payment(amount="9500.00"), f.payment(amount="9700.00"))
    case = Case.objects.get()
    return services.case_claim(case=case, actor=f.investigator("ana"))


def _transaction_ids(case: Case) -> set:
    return set(transactions_of(case).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("disposition", "outcome", "weight"),
    [
        ("false_positive", "legitimate", Decimal("0.60")),
        ("no_action", "legitimate", Decimal("0.60")),
        ("customer_exited", "suspicious", Decimal("0.50")),
    ],
)
def test_closing_labels_every_transaction_of_the_case(case, disposition, outcome, weight):
    services.case_propose_closure(
        case=case, actor=case.assignee, disposition=disposition, reason="Known payroll."
    )

    labels = TransactionLabel.objects.all()
    assert {label.transaction_id for label in labels} == _transaction_ids(case)
    assert len(labels) == 2
    assert {
        (label.source, label.outcome, label.weight, label.reason, label.actor, label.reference)
        for label in labels
    } == {
        ("case_disposition", outcome, weight, "Known payroll.", case.assignee, f"case #{case.pk}")
    }
    case.refresh_from_db()
    assert {label.occurred_at for label in labels} == {case.closed_at}
    assert TransactionLabelEvent.objects.count() == 2


def test_a_sar_labels_the_transactions_strongly_suspicious_once_approved(case):
    proposer, approver = f.senior(), f.senior()
    Case.objects.filter(pk=case.pk).update(assignee=proposer)
    case = f.exported_sar(Case.objects.get(pk=case.pk), actor=proposer)

    services.case_propose_closure(
        case=case, actor=proposer, disposition="sar_filed", reason="Structuring."
    )
    assert not TransactionLabel.objects.exists()  # awaiting the second pair of eyes

    services.case_approve_closure(case=case, actor=approver)

    assert {
        (label.outcome, label.weight, label.actor) for label in TransactionLabel.objects.all()
    } == {("suspicious", Decimal("0.90"), approver)}


def test_a_refused_closure_labels_nothing(case):
    with pytest.raises(services.CasePermissionError):
        services.case_propose_closure(
            case=case, actor=f.investigator(), disposition="false_positive", reason="Not mine."
        )

    assert not TransactionLabel.objects.exists()
    assert not TransactionLabelEvent.objects.exists()


def test_the_case_page_shows_each_transactions_labels(case):
    services.case_propose_closure(
        case=case, actor=case.assignee, disposition="false_positive", reason="Known payroll."
    )

    html = logged_in(case.assignee).get(f"/cases/{case.pk}/").content.decode()

    assert html.count('data-label-source="case_disposition"') == 2
    assert "Legitimate</span> Case disposition" in html
    assert "by ana" in html and "Known payroll." in html


def test_the_staff_api_shows_each_transactions_labels(case):
    services.case_propose_closure(
        case=case, actor=case.assignee, disposition="no_action", reason="Explained by payroll."
    )
    api = APIClient()
    api.force_authenticate(f.officer())

    body = api.get(f"/api/v1/cases/{case.pk}/").json()

    assert len(body["transactions"]) == 2
    for row in body["transactions"]:
        (label,) = row["labels"]
        assert (label["source"], label["outcome"], label["weight"]) == (
            "case_disposition",
            "legitimate",
            "0.60",
        )
        assert (label["actor"], label["reference"]) == ("ana", f"case #{case.pk}")
