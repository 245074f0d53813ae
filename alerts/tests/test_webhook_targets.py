"""Webhook URLs attacked: server-side request forgery to loopback, private, link-local and
cloud-metadata addresses, by IP, by a name that resolves there, or by DNS rebinding between
the save and the send; plain http in production; replies that try to read data back."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ValidationError

from alerts import services
from alerts.models import WebhookDelivery, WebhookEndpoint
from alerts.tests.test_services import ingest_and_score
from alerts.tests.test_webhooks import _blocking_rule
from sentinel import outbound
from sentinel.testing import Receiver
from transactions.services import api_key_create
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"  # a globally routable address (TEST-NET ranges are not global)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.1/",
        "http://172.16.0.5/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://localhost:8000/",
        "http://224.0.1.1/",
    ],
)
def test_an_endpoint_pointing_inside_cannot_be_saved(url):
    # Given staff enter a webhook URL that reaches a non-public address
    endpoint = WebhookEndpoint(partner=PartnerBankFactory(), url=url)

    # When it is validated (as the admin form does before saving)
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()

    # Then it is refused, saying why
    assert "not a public address" in " ".join(refused.value.message_dict["url"])


def test_an_endpoint_with_credentials_or_another_scheme_cannot_be_saved():
    for url in ["ftp://files.example/", "http://user:pw@93.184.216.34/", "gopher://x/"]:
        with pytest.raises(ValidationError):
            WebhookEndpoint(partner=PartnerBankFactory(), url=url).full_clean()


def test_production_requires_https(settings):
    settings.SENTINEL_WEBHOOK_HTTPS_ONLY = True

    with pytest.raises(ValidationError) as refused:
        outbound.check_webhook_url(f"http://{PUBLIC}/hook")
    outbound.check_webhook_url(f"https://{PUBLIC}/hook")

    assert "must start with https://" in refused.value.messages[0]


def test_a_public_address_is_accepted():
    endpoint = WebhookEndpoint(partner=PartnerBankFactory(), url=f"https://{PUBLIC}/hooks")

    endpoint.full_clean()


@pytest.fixture
def dns(monkeypatch):
    """A resolver whose answers the test sets: name -> address (what an attacker's DNS does)."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return real(answers[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    return answers


def _partner_hook(url):
    partner = PartnerBankFactory(slug="first-bank")
    api_key_create(partner=partner)
    WebhookEndpoint.objects.create(partner=partner, url=url)
    _blocking_rule()
    return partner


@pytest.mark.parametrize("at_send", ["127.0.0.1", "10.0.0.1", "169.254.169.254"])
def test_dns_rebinding_to_an_inside_address_is_refused_at_send_time(dns, at_send):
    # Given a receiver listening on the loopback, and an endpoint whose name resolved to a
    # public address when it was saved
    receiver = Receiver(200)
    port = receiver.url.split(":")[2].split("/")[0]
    dns["hooks.attacker.example"] = PUBLIC
    url = f"http://hooks.attacker.example:{port}/sentinel/hooks"
    endpoint = WebhookEndpoint(partner=PartnerBankFactory(slug="saved-bank"), url=url)
    endpoint.full_clean()
    try:
        # When the name now resolves inside and a decision is sent
        dns["hooks.attacker.example"] = at_send
        partner = _partner_hook(url)
        ingest_and_score(partner, transaction_payload(amount="5000.00"))
        delivery = WebhookDelivery.objects.get()
        if delivery.attempts == 0:
            delivery = services.webhook_deliver(delivery_id=delivery.pk)
    finally:
        receiver.close()

    # Then nothing reached the inside address and the refusal is recorded
    assert receiver.requests == []
    assert delivery.state != "delivered"
    assert delivery.last_status_code is None
    assert "not a public address" in delivery.last_error


def test_an_endpoint_stored_before_the_check_is_still_refused_at_send_time():
    # Given an endpoint written straight into the database pointing at the metadata service
    partner = _partner_hook("http://169.254.169.254/latest/meta-data/iam/")

    # When a decision is sent
    ingest_and_score(partner, transaction_payload(amount="5000.00"))

    # Then the attempt is refused without a connection
    delivery = services.webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Refused: ")


def test_the_reply_body_is_never_stored(settings):
    # Given an endpoint (allowed here on the loopback) that answers 500 with secrets in the body
    settings.SENTINEL_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.SENTINEL_WEBHOOK_MAX_ATTEMPTS = 1
    receiver = Receiver(500)
    try:
        partner = _partner_hook(receiver.url)
        ingest_and_score(partner, transaction_payload(amount="5000.00"))
        delivery = services.webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)
    finally:
        receiver.close()

    # Then only the status is kept
    assert receiver.requests
    assert (delivery.last_status_code, delivery.last_error) == (500, "HTTP 500")
    assert "ok" not in delivery.last_error
