"""A party on a loaded list: the shipped rule holds the payment and explains the match, in the
partner's answer and on the investigator's alert page."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.models import Alert
from rules.choices import RuleStatus
from rules.models import Rule
from rules.tests import factories
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.screening import runtime
from sentinel.screening.services import screening_list_import
from transactions.tests.factories import transaction_payload

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/api/v1/transactions/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def sanctions_rule_live():
    runtime.forget()
    screening_list_import(
        list_name="OFAC SDN", source="ofac_sdn", content=(FIXTURES / "ofac_sdn.xml").read_bytes()
    )
    rule = Rule.objects.get(code="screening_sanctions_match")
    assert rule.status == RuleStatus.SHADOW  # as shipped
    Rule.objects.filter(pk=rule.pk).update(status=RuleStatus.LIVE)
    factories.only_these_rules(rule)
    yield rule
    runtime.forget()


def payment_to(name: str, country: str = "YE") -> dict:
    payload = transaction_payload(amount="900.00")
    payload["beneficiary"] = {**payload["beneficiary"], "name": name, "country": country}
    return payload


def test_a_listed_beneficiary_is_held_for_review_with_the_match_explained(
    partner_client, sanctions_rule_live, client
):
    response = partner_client().post(f"{URL}?wait=true", payment_to("Youssef Ebrahim Alamri"))

    decision = response.json()["decision"]
    assert decision["outcome"] == "block"  # score 300: past the block threshold
    (hit,) = decision["hits"]
    assert hit["rule"] == "screening_sanctions_match"
    assert "youssef=yusuf phonetic 90" in hit["explanation"]

    transactions_process(transaction_ids=[response.json()["id"]])
    alert = Alert.objects.get()
    client.force_login(factories.officer())
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Yusuf Ibrahim AL-AMRI (OFAC SDN" in page


def test_an_unlisted_name_and_a_common_token_pass(partner_client, sanctions_rule_live):
    client = partner_client()
    for name in ("Ana Lima", "Trading LLC", "George Habbash"):
        response = client.post(f"{URL}?wait=true", payment_to(name, country="US"))
        assert response.json()["decision"]["outcome"] == "allow", name
