"""Partner webhooks against a real local HTTP receiver: signed, retried with backoff,
delivered once, dead-lettered after the last attempt, replayable; scoring never waits."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from alerts import services
from alerts.choices import DeliveryState
from alerts.models import WebhookDelivery, WebhookEndpoint
from alerts.tests.test_services import ingest_and_score
from rules.models import Decision
from rules.tests import factories
from sentinel.roles import ADMINISTRATOR, INVESTIGATOR
from sentinel.testing import Receiver
from transactions.api.authentication import sign
from transactions.services import api_key_create
from transactions.tests.factories import PartnerBankFactory, transaction_payload


@pytest.fixture(autouse=True)
def receiver_on_the_loopback(settings):
    """These tests' receiver listens on 127.0.0.1, which real webhooks may never reach
    (alerts/tests/test_webhook_targets.py); the address check is off for them only."""
    settings.SENTINEL_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def fast_retries(settings):
    settings.SENTINEL_WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.SENTINEL_WEBHOOK_BACKOFF_SECONDS = 0
    settings.SENTINEL_WEBHOOK_MAX_ATTEMPTS = 4


def _partner_with_hook(receiver, *, active=True):
    partner = PartnerBankFactory(slug="first-bank")
    api_key, secret = api_key_create(partner=partner)
    WebhookEndpoint.objects.create(partner=partner, url=receiver.url, is_active=active)
    return partner, api_key, secret


def _blocking_rule():
    rule = factories.rule(code="blocked_amount", expression="amount >= 1000", outcome="block")
    factories.only_these_rules(rule)
    return rule


@pytest.mark.django_db(transaction=True)
def test_a_block_is_delivered_once_signed_after_a_failure_and_a_timeout(fast_retries):
    # Given a partner whose endpoint fails, then times out, then answers
    receiver = Receiver(503, "slow", 200)
    try:
        partner, api_key, secret = _partner_with_hook(receiver)
        _blocking_rule()

        # When a transaction is blocked (the worker runs the deliveries in-process)
        (tx_id,) = ingest_and_score(partner, transaction_payload(amount="5000.00"))
    finally:
        receiver.close()

    # Then it was tried three times and delivered once, on the third
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert delivery.last_error == ""
    assert [r["behaviour"] for r in receiver.requests] == [503, "slow", 200]
    # the Host header is the URL's, though the connection went to the address checked
    assert receiver.requests[-1]["headers"]["Host"] == receiver.url.split("/")[2]
    # every attempt carries the same body and id, signed the way partners sign to us
    bodies = {r["body"] for r in receiver.requests}
    assert len(bodies) == 1
    request = receiver.requests[-1]
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["x-sentinel-key"] == api_key.key_id
    assert headers["x-sentinel-signature"] == sign(
        secret, headers["x-sentinel-timestamp"], request["body"]
    )
    body = json.loads(request["body"])
    assert body["id"] == f"{tx_id}.decision.block" == headers["x-sentinel-delivery"]
    assert (body["event"], body["transaction"]["id"]) == ("decision.block", str(tx_id))
    assert body["decision"]["outcome"] == "block"
    assert body["decision"]["hits"][0]["rule"] == "blocked_amount"


@pytest.mark.django_db(transaction=True)
def test_after_the_last_attempt_it_is_dead_lettered_then_replayed_by_staff(fast_retries):
    receiver = Receiver(500, "garbage", 500, 502, 200)
    try:
        partner, _, _ = _partner_with_hook(receiver)
        _blocking_rule()
        ingest_and_score(partner, transaction_payload(amount="5000.00"))

        delivery = WebhookDelivery.objects.get()
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("dead", 4, 502)
        # the status only: the reply's body is never stored or shown
        assert delivery.last_error == "HTTP 502"

        admin = User.objects.create_user("admin1", password="pw", is_staff=True)
        admin.groups.add(Group.objects.get(name=ADMINISTRATOR))
        services.webhook_replay(delivery=delivery, actor=User.objects.get(pk=admin.pk))
    finally:
        receiver.close()

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.replayed_by.username) == (
        "delivered",
        1,
        "admin1",
    )
    assert len(receiver.requests) == 5


@pytest.mark.django_db
def test_a_webhook_that_is_down_never_stops_the_decision(fast_retries):
    receiver = Receiver()
    receiver.close()  # nothing listens any more
    partner, _, _ = _partner_with_hook(receiver)
    _blocking_rule()

    (tx_id,) = ingest_and_score(partner, transaction_payload(amount="5000.00"))

    assert Decision.objects.get(pk=tx_id).outcome == "block"
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING  # queued once the scoring commits
    attempt = services.webhook_deliver(delivery_id=delivery.pk)
    assert attempt.attempts == 1
    assert "ConnectionError" in attempt.last_error
    assert attempt.next_attempt_at is not None


@pytest.mark.django_db
def test_only_review_and_block_decisions_of_active_endpoints_are_sent():
    receiver = Receiver()
    try:
        partner, _, _ = _partner_with_hook(receiver, active=False)
        allow = factories.rule(code="alert_only", expression="amount >= 1000", outcome="alert")
        factories.only_these_rules(allow, _blocking_rule())
        other = PartnerBankFactory()
        ingest_and_score(partner, transaction_payload(amount="5000.00"))
        ingest_and_score(other, transaction_payload(amount="5000.00"))
        assert not WebhookDelivery.objects.exists()  # inactive endpoint; no endpoint

        WebhookEndpoint.objects.filter(partner=partner).update(is_active=True)
        ingest_and_score(partner, transaction_payload(amount="10.00"))  # allowed
        assert not WebhookDelivery.objects.exists()
    finally:
        receiver.close()


@pytest.mark.django_db
def test_replay_needs_permission_and_a_dead_delivery(fast_retries):
    receiver = Receiver()
    receiver.close()
    partner, _, _ = _partner_with_hook(receiver)
    _blocking_rule()
    ingest_and_score(partner, transaction_payload(amount="5000.00"))
    delivery = WebhookDelivery.objects.get()
    investigator = User.objects.create_user("inv", password="pw", is_staff=True)
    investigator.groups.add(Group.objects.get(name=INVESTIGATOR))
    admin = User.objects.create_user("adm", password="pw", is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATOR))

    with pytest.raises(PermissionDenied):
        services.webhook_replay(delivery=delivery, actor=User.objects.get(pk=investigator.pk))
    with pytest.raises(ValidationError, match="Only a dead-lettered"):
        services.webhook_replay(delivery=delivery, actor=User.objects.get(pk=admin.pk))


@pytest.mark.django_db
def test_overdue_pending_deliveries_are_queued_again(fast_retries, monkeypatch):
    receiver = Receiver()
    try:
        partner, _, _ = _partner_with_hook(receiver)
        _blocking_rule()
        ingest_and_score(partner, transaction_payload(amount="5000.00"))  # never queued here
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))

        assert services.webhooks_requeue_overdue() == 1
    finally:
        receiver.close()
    assert WebhookDelivery.objects.get().state == "delivered"
