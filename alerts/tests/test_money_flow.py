"""The alert page's money-flow view and its hop endpoint."""

from __future__ import annotations

import json

import pytest

from alerts.models import Alert
from alerts.tests.test_services import _pay, _rule, ingest_and_score, investigator, staff
from sentinel.testing import logged_in
from transactions.models import Transaction
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(alerts_wired):
    """A1 received 2,000 from the outside account P1, then paid 5,000 to B9 (alerted)."""
    _rule(code="big_amount", expression="amount >= 5000")
    partner = PartnerBankFactory()
    ingest_and_score(
        partner,
        _pay(
            30,
            amount="2000.00",
            direction="inbound",
            originator={"account_id": "P1", "name": "Pat Doe"},
            beneficiary={"account_id": "A1", "customer_id": "C1", "name": "Ana Lima"},
        ),
    )
    ingest_and_score(partner, _pay(10, amount="5000.00"))
    return Alert.objects.get()


def test_the_alert_page_starts_the_flow_and_the_money_is_followed_back(alert):
    browser = logged_in(investigator())

    html = browser.get(f"/alerts/{alert.pk}/").content.decode()
    start = json.loads(html.split('id="money-flow" type="application/json">')[1].split("<")[0])
    assert [(e["source"], e["target"], e["amount"]) for e in start["edges"]] == [
        ("account:A1", "account:B9", "5,000.00")
    ]
    assert f'data-hop-url="/alerts/{alert.pk}/money-flow/"' in html

    at = Transaction.objects.get(amount=5000).occurred_at.isoformat()
    hop = browser.get(
        f"/alerts/{alert.pk}/money-flow/", {"account": "A1", "direction": "backward", "at": at}
    ).json()
    assert [(e["source"], e["target"], e["amount"]) for e in hop["edges"]] == [
        ("account:P1", "account:A1", "2,000.00")
    ]


def test_the_endpoint_needs_the_right_to_see_alerts_and_good_parameters(alert):
    url = f"/alerts/{alert.pk}/money-flow/"
    query = {"account": "A1", "direction": "backward", "at": "2026-03-01T12:00:00+00:00"}

    assert logged_in(staff()).get(url, query).status_code == 403
    assert logged_in(staff("view_alert")).get(url, query).status_code == 200
    refused = logged_in(investigator()).get(url, {**query, "direction": "up"})
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("direction: The direction is forward")
    assert (
        logged_in(investigator()).get(f"/alerts/{alert.pk + 1}/money-flow/", query).status_code
        == 404
    )
