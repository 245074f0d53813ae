"""The case page's money-flow view and its hop endpoint: who may read it, what it answers."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.test import Client

from cases.models import Case
from rules.tests.factories import only_these_rules
from sentinel.testing import logged_in
from transactions.models import Transaction
from transactions.tests.factories import PartnerBankFactory

from . import factories as f

pytestmark = pytest.mark.django_db


def inbound(minutes_ago: float, source: str, target: str, amount: str) -> dict:
    """An outside account ``source`` pays the partner's customer ``target``."""
    return f.payment(
        minutes_ago,
        amount=amount,
        direction="inbound",
        originator={"account_id": source, "name": f"Holder {source}"},
        beneficiary={"account_id": target, "customer_id": f"C{target}", "name": "Kim Park"},
    )


@pytest.fixture
def case():
    """A1 paid 9,500 to the outside account B9 (alerted); B9 then paid 400 to A5."""
    partner = PartnerBankFactory()
    only_these_rules(f.a_rule(code="big_amount", expression="amount >= 5000"))
    f.ingest_and_score(partner, f.payment(60, amount="9500.00"))
    f.ingest_and_score(partner, inbound(30, "B9", "A5", "400.00"))
    return Case.objects.get()


def hop_url(case: Case, **query: str) -> str:
    parameters = "&".join(f"{name}={value}" for name, value in query.items())
    return f"/cases/{case.pk}/money-flow/?{parameters}"


def alerted_time(case: Case) -> str:
    return Transaction.objects.get(amount=9500).occurred_at.isoformat().replace("+", "%2B")


def test_the_case_page_starts_the_flow_at_the_alerted_transaction(case):
    html = logged_in(f.investigator()).get(f"/cases/{case.pk}/").content.decode()

    start = json.loads(html.split('id="money-flow" type="application/json">')[1].split("<")[0])
    assert [(e["source"], e["target"], e["amount"], e["alerted"]) for e in start["edges"]] == [
        ("account:A1", "account:B9", "9,500.00", True)
    ]
    assert f'data-hop-url="/cases/{case.pk}/money-flow/"' in html
    assert 'id="tab-linked"' in html and 'id="linked-entities"' in html  # the second tab


def test_the_next_hop_is_where_the_money_went(case):
    response = logged_in(f.investigator()).get(
        hop_url(case, account="B9", direction="forward", at=alerted_time(case))
    )

    assert response.status_code == 200
    hop = response.json()
    assert [(e["source"], e["target"], e["amount"], e["currency"]) for e in hop["edges"]] == [
        ("account:B9", "account:A5", "400.00", "USD")
    ]
    assert datetime.fromisoformat(hop["edges"][0]["occurred_at"]) > datetime.fromisoformat(
        alerted_time(case).replace("%2B", "+")
    )
    assert hop["more"] == 0


def test_only_the_cases_partner_transactions(case):
    # Given another partner where B9 moved a fortune after the same moment
    other = PartnerBankFactory()
    f.ingest_and_score(other, inbound(20, "B9", "A7", "70000.00"))

    hop = (
        logged_in(f.investigator())
        .get(hop_url(case, account="B9", direction="forward", at=alerted_time(case)))
        .json()
    )

    assert [e["amount"] for e in hop["edges"]] == ["400.00"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"direction": "forward", "at": "2026-03-01T12:00:00Z"}, "account: Give the account"),
        ({"account": "B9", "at": "2026-03-01T12:00:00Z"}, "direction: Give the direction"),
        (
            {"account": "B9", "direction": "sideways", "at": "2026-03-01T12:00:00Z"},
            "direction: The direction is forward (where the money went) or backward "
            "(where it came from), not sideways.",
        ),
        ({"account": "B9", "direction": "forward"}, "at: Give the time"),
        (
            {"account": "B9", "direction": "forward", "at": "yesterday"},
            "at: The time is an ISO 8601 date and time",
        ),
        (
            {"account": "B9", "direction": "backward", "at": "0001-01-02T00:00:00Z"},
            "at: The time is between the years 1900 and 2999.",
        ),
        (
            {"account": "x" * 65, "direction": "forward", "at": "2026-03-01T12:00:00Z"},
            "account: An account id has at most 64 characters.",
        ),
    ],
)
def test_bad_parameters_are_refused_with_the_reason(case, query, message):
    response = logged_in(f.investigator()).get(hop_url(case, **query))

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_who_may_not_see_the_case_may_not_follow_its_money(case):
    url = hop_url(case, account="B9", direction="forward", at=alerted_time(case))

    assert logged_in(f.member(None)).get(url).status_code == 403  # staff without cases access
    assert Client().get(url).status_code == 302  # to the login page
    assert logged_in(f.investigator()).get(f"/cases/{case.pk + 1}/money-flow/").status_code == 404
    assert logged_in(f.investigator()).post(url).status_code == 405
