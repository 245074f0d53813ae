"""Operational alerts to a Slack-compatible incoming webhook, against a real local HTTP
server: recorded by the minute, sent by the worker after it, retried, failures visible."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from sentinel.monitoring import services, tasks
from sentinel.monitoring.choices import SlackDeliveryStatus
from sentinel.monitoring.models import MonitorSettings, SlackDelivery
from sentinel.testing import Receiver
from transactions.tests.factories import PartnerBankFactory

from .helpers import MINUTE, T0, seed_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    """The webhook listens on 127.0.0.1, which real webhooks may never reach (the address
    check is off for these tests only); retries come at once."""
    settings.SENTINEL_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.SENTINEL_WEBHOOK_BACKOFF_SECONDS = 0
    settings.SENTINEL_WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.SENTINEL_WEBHOOK_MAX_ATTEMPTS = 3
    receivers = []

    def start(*script) -> Receiver:
        receivers.append(Receiver(*script))
        return receivers[-1]

    yield start
    for each in receivers:
        each.close()


def partner_in_an_outage(slack_url: str = ""):
    partner = PartnerBankFactory(name="Acme Bank")
    if slack_url:
        MonitorSettings.objects.create(partner=partner, slack_webhook_url=slack_url)
    seed_history(
        partner, start=T0 - 1440 * MINUTE, minutes=1441 + 15, outage=(T0, T0 + 20 * MINUTE)
    )
    return partner


def test_a_raised_alert_is_posted_as_text_after_the_minute(receiver):
    # Given a partner with its own Slack webhook, in an outage
    slack = receiver(200)
    partner = partner_in_an_outage(slack.url)

    # When the minute raises an alert
    (event,) = services.monitor_evaluate(partners=[partner], at=T0 + 14 * MINUTE)

    # Then the minute only recorded the delivery; nothing was sent yet
    delivery = SlackDelivery.objects.get()
    assert (delivery.event, delivery.status, delivery.attempts) == (event, "pending", 0)
    assert slack.requests == []
    # And the worker sends it: JSON {"text": ...} naming the partner, metric and severity
    assert tasks.deliver_slack_message.delay(delivery.pk).get() == SlackDeliveryStatus.SENT
    (request,) = slack.requests
    assert request["headers"]["Content-Type"] == "application/json"
    text = json.loads(request["body"])["text"]
    assert "[Sentinel INFO] Acme Bank: Failed rate raised (15 min)" in text
    assert "Highest acquirer: acq-2" in text
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and delivery.last_error == ""
    # And it is never sent twice
    assert tasks.deliver_slack_message.delay(delivery.pk).get() is None
    assert len(slack.requests) == 1


def test_a_failing_webhook_is_retried_then_marked_failed_with_its_error(receiver):
    slack = receiver(500, 503, 500)
    partner = partner_in_an_outage(slack.url)
    services.monitor_evaluate(partners=[partner], at=T0 + 14 * MINUTE)
    delivery = SlackDelivery.objects.get()
    # (judged at today's minute, the seeded partner would resolve: keep it out of the cycle)
    type(partner).objects.filter(pk=partner.pk).update(is_active=False)

    # When the monitor's minute runs three times (each queues what is due)
    statuses = [tasks.monitor_cycle.delay().get()["slack"] for _ in range(3)]

    # Then three attempts were made and the delivery is failed, its last error kept
    assert len(slack.requests) == 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "HTTP 500")
    assert statuses == [1, 1, 1]
    # And a failed one is not queued again
    assert tasks.monitor_cycle.delay().get()["slack"] == 0


def test_a_retry_that_succeeds_is_sent_once(receiver):
    slack = receiver(500, 200)
    partner = partner_in_an_outage(slack.url)
    services.monitor_evaluate(partners=[partner], at=T0 + 14 * MINUTE)
    delivery = SlackDelivery.objects.get()

    assert tasks.deliver_slack_message.delay(delivery.pk).get() == "pending"
    assert tasks.deliver_slack_message.delay(delivery.pk).get() == "sent"

    delivery.refresh_from_db()
    assert (delivery.attempts, len(slack.requests)) == (2, 2)


def test_the_global_webhook_serves_partners_without_their_own(receiver, settings):
    slack = receiver(200)
    settings.SENTINEL_MONITOR_SLACK_WEBHOOK_URL = slack.url
    partner = partner_in_an_outage()

    services.monitor_evaluate(partners=[partner], at=T0 + 14 * MINUTE)

    assert SlackDelivery.objects.get().url == slack.url


def test_without_any_webhook_nothing_is_recorded():
    partner = partner_in_an_outage()

    events = services.monitor_evaluate(partners=[partner], at=T0 + 14 * MINUTE)

    assert len(events) == 1 and not SlackDelivery.objects.exists()


def test_a_webhook_that_is_down_does_not_hold_the_minute_and_the_error_is_kept(receiver):
    # Given a webhook on a port where nothing listens
    closed = receiver()
    url = closed.url
    closed.close()
    partner = partner_in_an_outage(url)

    # When the minute raises an alert, it commits its alert and delivery without sending
    (event,) = services.monitor_evaluate(partners=[partner], at=T0 + 14 * MINUTE)
    delivery = SlackDelivery.objects.get(event=event)
    assert delivery.attempts == 0

    # And the worker's attempt records why it failed
    tasks.deliver_slack_message.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error.startswith("ConnectionError")


def test_a_private_address_is_refused_when_saved_and_when_sent(settings):
    partner = PartnerBankFactory()
    settings_row = MonitorSettings(partner=partner, slack_webhook_url="http://127.0.0.1:9/hook")
    with pytest.raises(ValidationError) as refused:
        settings_row.full_clean()
    assert "not a public address" in refused.value.message_dict["slack_webhook_url"][0]

    # A global URL is not validated on save; the send refuses it and says why
    settings.SENTINEL_MONITOR_SLACK_WEBHOOK_URL = "http://169.254.169.254/latest"
    seed_history(partner, start=T0 - 1440 * MINUTE, minutes=1456, outage=(T0, T0 + 20 * MINUTE))
    services.monitor_evaluate(partners=[partner], at=T0 + 14 * MINUTE)
    delivery = SlackDelivery.objects.get()
    tasks.deliver_slack_message.delay(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Refused: The webhook host '169.254.169.254'")
