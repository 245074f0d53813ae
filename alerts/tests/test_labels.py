"""A dismissed alert labels its transactions as weakly legitimate (docs/detection.md § Labels),
and the alert page shows every linked transaction's labels."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from alerts import services
from alerts.models import Alert
from alerts.tests.test_services import _pay, _rule, ingest_and_score, investigator
from sentinel.testing import logged_in
from transactions.models import TransactionLabel, TransactionLabelEvent
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(alerts_wired):
    """An open alert on two real, scored transactions."""
    _rule(code="big_amount")
    ingest_and_score(PartnerBankFactory(), _pay(amount="5000.00"), _pay(amount="7000.00"))
    return Alert.objects.get()


def test_dismissing_labels_each_transaction_with_who_why_and_a_weak_weight(alert):
    ivy = investigator()
    linked = set(alert.links.values_list("transaction_id", flat=True))
    assert len(linked) == 2

    services.alert_dismiss(alert=alert, actor=ivy, reason="Known payee.")

    labels = TransactionLabel.objects.all()
    assert {label.transaction_id for label in labels} == linked
    assert {
        (label.source, label.outcome, label.weight, label.reason, label.actor, label.reference)
        for label in labels
    } == {
        (
            "alert_dismissal",
            "legitimate",
            Decimal("0.20"),
            "Known payee.",
            ivy,
            f"alert #{alert.pk}",
        )
    }
    assert TransactionLabelEvent.objects.count() == 2


def test_a_refused_dismissal_labels_nothing(alert):
    ivy = investigator()

    with pytest.raises(ValidationError):
        services.alert_dismiss(alert=alert, actor=ivy, reason="   ")

    assert not TransactionLabel.objects.exists()
    assert not TransactionLabelEvent.objects.exists()


def test_acknowledging_labels_nothing(alert):
    services.alert_acknowledge(alert=alert, actor=investigator())

    assert not TransactionLabel.objects.exists()


def test_the_alert_page_shows_each_transactions_labels(alert, django_assert_max_num_queries):
    ivy = investigator()
    services.alert_dismiss(alert=alert, actor=ivy, reason="Known payee.")
    browser = logged_in(ivy)

    with django_assert_max_num_queries(20):
        page = browser.get(f"/alerts/{alert.pk}/")

    html = page.content.decode()
    assert html.count('data-label-source="alert_dismissal"') == 2
    assert "Legitimate</span> Alert dismissal" in html
    assert f"by {ivy.username}" in html
    assert "Known payee." in html


def test_the_staff_api_shows_each_transactions_labels(alert):
    ivy = investigator()
    services.alert_dismiss(alert=alert, actor=ivy, reason="Known payee.")
    api = APIClient()
    api.force_authenticate(ivy)

    body = api.get(f"/api/v1/alerts/{alert.pk}/").json()

    assert len(body["transactions"]) == 2
    for row in body["transactions"]:
        (label,) = row["labels"]
        assert (label["source"], label["outcome"], label["weight"]) == (
            "alert_dismissal",
            "legitimate",
            "0.20",
        )
        assert (label["actor"], label["reason"]) == (ivy.username, "Known payee.")
        assert label["reference"] == f"alert #{alert.pk}"
