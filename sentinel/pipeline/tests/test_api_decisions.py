"""The partner sees the rule engine's decision: ``?wait=true`` and the transaction detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest

from rules.choices import RuleStatus
from rules.models import Decision, RuleFailure
from rules.tests import factories
from sentinel.pipeline.orchestrator import transactions_process
from transactions.models import ExchangeRate
from transactions.tests.factories import transaction_payload

URL = "/api/v1/transactions/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def large_amount_rule():
    rule = factories.rule(
        code="large_amount", expression="amount >= 10000", outcome="review", score=40
    )
    shadow = factories.rule(
        code="shadow_everything", expression="amount > 0", status=RuleStatus.SHADOW
    )
    factories.only_these_rules(rule, shadow)
    return rule


def test_wait_true_scores_in_the_request_and_explains_live_hits(partner_client, large_amount_rule):
    client = partner_client()

    response = client.post(f"{URL}?wait=true", transaction_payload(amount="25000.00"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scoring"] == "done"
    assert body["decision"]["outcome"] == "review"
    assert body["decision"]["score"] == 40
    (hit,) = body["decision"]["hits"]  # the shadow hit is never shown
    assert hit["rule"] == "large_amount"
    assert hit["version"] == 1
    assert hit["severity"] == "high"
    assert "25,000.00 >= 10,000" in hit["explanation"]
    assert Decision.objects.filter(pk=body["id"]).count() == 1


def test_wait_true_on_a_clean_transaction_allows_it(partner_client, large_amount_rule):
    response = partner_client().post(f"{URL}?wait=1", transaction_payload(amount="20.00"))
    assert response.json()["decision"] == {"outcome": "allow", "score": 0, "hits": []}


def test_wait_with_a_bad_value_is_refused_and_nothing_is_stored(partner_client):
    client = partner_client()
    response = client.post(f"{URL}?wait=maybe", transaction_payload())
    assert response.status_code == 400
    assert "wait" in response.json()["error"]["fields"]
    assert not Decision.objects.exists()


def test_the_detail_shows_pending_then_the_decision(partner_client, large_amount_rule):
    client = partner_client()
    created = client.post(URL, transaction_payload(amount="12000.00")).json()
    assert created["scoring"] == "pending"
    detail = client.get(f"{URL}{created['id']}/").json()
    assert (detail["scoring"], detail["decision"]) == ("pending", None)

    transactions_process(transaction_ids=[created["id"]])

    detail = client.get(f"{URL}{created['id']}/").json()
    assert detail["scoring"] == "done"
    assert detail["decision"]["outcome"] == "review"
    assert [hit["rule"] for hit in detail["decision"]["hits"]] == ["large_amount"]


def test_a_replay_with_wait_answers_the_stored_record_with_its_decision(
    partner_client, large_amount_rule
):
    client = partner_client()
    payload = transaction_payload(amount="15000.00")
    client.post(URL, payload)

    replay = client.post(f"{URL}?wait=true", payload)

    assert replay.status_code == 200
    assert replay.json()["decision"]["outcome"] == "review"


def test_the_list_shows_decisions_without_a_query_per_row(
    partner_client, large_amount_rule, django_assert_max_num_queries
):
    client = partner_client()
    for _ in range(5):
        client.post(f"{URL}?wait=true", transaction_payload(amount="11000.00"))
    with django_assert_max_num_queries(8):
        body = client.get(URL).json()
    assert [row["decision"]["outcome"] for row in body["results"]] == ["review"] * 5


def test_wait_true_hands_the_transaction_to_the_workers_only_once_decided(
    partner_client, large_amount_rule
):
    client = partner_client()
    seen = []

    def hand_over(keys):
        seen.append(Decision.objects.filter(pk__in=[key.id for key in keys]).count())

    with mock.patch("sentinel.pipeline.orchestrator.transactions_hand_over", hand_over):
        client.post(f"{URL}?wait=true", transaction_payload(amount="12000.00"))

    assert seen == [1]


def test_wait_true_answers_pending_when_scoring_fails_and_keeps_the_transaction(
    partner_client, large_amount_rule
):
    client = partner_client()
    with (
        mock.patch("sentinel.pipeline.stages.decisions_store", side_effect=ConnectionError("down")),
        mock.patch("sentinel.pipeline.orchestrator.transactions_hand_over") as hand_over,
    ):
        response = client.post(f"{URL}?wait=true", transaction_payload(amount="12000.00"))

    assert response.status_code == 201
    body = response.json()
    assert body["scoring"] == "pending"
    assert "decision" not in body
    hand_over.assert_called_once()
    assert not Decision.objects.filter(pk=body["id"]).exists()


def test_wait_true_decides_without_a_failing_provider_and_says_so(partner_client):
    """Given a rule on an aggregate and one on the amount, when the aggregates' Redis call
    fails, the decision is still made from the amount rule, names the missing provider, and
    the aggregate rule is recorded as failed for the transaction."""
    client = partner_client()
    factories.only_these_rules(
        factories.rule(code="large_amount", expression="amount >= 10000", outcome="review"),
        factories.rule(code="busy", expression='count(by="account", within="1h") > 5'),
    )
    with mock.patch(
        "rules.features.aggregates.aggregates_record_and_compute",
        side_effect=ConnectionError("down"),
    ):
        response = client.post(f"{URL}?wait=true", transaction_payload(amount="12000.00"))

    body = response.json()
    assert body["scoring"] == "done"
    assert body["decision"]["outcome"] == "review"
    assert body["decision"]["degraded"] == ["aggregates"]
    assert [hit["rule"] for hit in body["decision"]["hits"]] == ["large_amount"]
    (failure,) = RuleFailure.objects.filter(transaction_id=body["id"])
    assert failure.rule.code == "busy"
    assert "feature provider unavailable: aggregates" in failure.message
    detail = client.get(f"{URL}{body['id']}/").json()
    assert detail["decision"]["degraded"] == ["aggregates"]


def test_wait_true_converts_into_the_partners_reporting_currency(partner_client):
    # Given a partner reporting in dollars, a euro rate of yesterday and a rule on amount_base
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    ExchangeRate.objects.create(
        date=yesterday, base="EUR", quote="USD", rate=Decimal("1.25"), source="ecb"
    )
    factories.only_these_rules(
        factories.rule(code="big_in_dollars", expression="amount_base >= 12000", outcome="review")
    )
    client = partner_client()

    # When a euro payment is scored in the request
    response = client.post(
        f"{URL}?wait=true", transaction_payload(amount="10000.00", currency="EUR")
    )

    # Then it is converted at the stored rate, and the explanation names it
    assert response.status_code == 201, response.content
    (hit,) = response.json()["decision"]["hits"]
    assert hit["explanation"] == (
        "amount_base = 12,500.00 USD (10,000.00 EUR at 1.25 USD per EUR (ecb, "
        f"{yesterday.isoformat()})) >= 12,000"
    )
