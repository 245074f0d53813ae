"""The model's explanation as investigators read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from cases.tests.factories import investigator
from rules import engine
from rules.tests.factories import officer, only_these_rules, rule
from sentinel.riskmodel import scoring
from sentinel.riskmodel.explain import reasons
from sentinel.riskmodel.services import model_change_approve, model_live_request, model_train
from transactions.tests.factories import PartnerBankFactory, transaction_payload

from .factories import iso, labelled_population, scored


def test_reasons_read_as_words_with_amounts_and_yes_no():
    said = reasons(
        [
            ["amount_log10", 3.845160, 2.31],
            ["cross_border", 1.0, 0.9],
            ["account.count_24h", 1.0, -0.25],
            ["network.in_cycle", None, 0.1],
        ]
    )

    assert [str(reason) for reason in said] == [
        "amount = 7,000 (raised the score by 2.31)",
        "counterparty in another country = yes (raised the score by 0.90)",
        "transactions on the account in 24 h = 1 (lowered the score by 0.25)",
        "network.in_cycle = none (raised the score by 0.10)",
    ]


@pytest.mark.django_db
def test_the_alert_and_case_pages_show_the_score_its_version_and_why(client):
    partner = PartnerBankFactory()
    now = timezone.now()
    labelled_population(partner, start=now - timedelta(hours=60))
    version = model_train(
        start=now - timedelta(hours=61), holdout_start=now - timedelta(hours=24), end=now
    )
    change = model_live_request(version=version, actor=officer())
    model_change_approve(change=change, approver=officer())
    only_these_rules(rule(expression="amount >= 6000", score=20))
    engine.forget()
    scoring.forget()
    scored(
        partner,
        [
            transaction_payload(
                occurred_at=iso(now - timedelta(minutes=1)),
                amount="7000.00",
                originator={"account_id": "shown", "customer_id": "cs", "country": "US"},
                beneficiary={"account_id": "p", "country": "CY", "name": "Payee"},
            )
        ],
    )
    alert = Alert.objects.get()
    client.force_login(investigator())

    page = client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()

    assert "model v1" in page
    assert "raised the score by" in page
    case_page = client.get(reverse("cases:detail", args=[alert.case_link.case_id]))
    assert case_page.status_code == 200
    assert "model v1" in case_page.content.decode()
