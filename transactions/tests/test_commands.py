"""The management commands as an operator runs them: create_partner (seed_demo: sentinel.demo)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError

from sentinel.testing import SignedClient, command_output
from transactions.models import ApiKey, PartnerBank

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/transactions/"


# --- create_partner ----------------------------------------------------------------------------


def test_create_partner_json_prints_a_key_that_signs_requests():
    output = command_output("create_partner", "Acme Bank", "--json")

    assert len(output.strip().splitlines()) == 1
    created = json.loads(output)
    assert set(created) == {"partner", "key_id", "secret"}
    assert created["partner"] == "acme-bank"
    assert PartnerBank.objects.get(slug="acme-bank").name == "Acme Bank"
    assert SignedClient(created["key_id"], created["secret"]).get(LIST_URL).status_code == 200
    assert SignedClient(created["key_id"], "not-the-secret").get(LIST_URL).status_code == 401


def test_create_partner_without_json_shows_the_secret_and_warns_it_is_shown_once():
    output = command_output("create_partner", "Acme Bank")

    api_key = ApiKey.objects.get(partner__slug="acme-bank")
    assert api_key.key_id in output
    assert "shown only this once" in output
    secret = next(line.split()[-1] for line in output.splitlines() if "Secret:" in line)
    assert SignedClient(api_key.key_id, secret).get(LIST_URL).status_code == 200


def test_create_partner_applies_the_rate_limit_and_the_ip_allow_list():
    allow = ("--allow-ip", "10.0.0.0/8", "--allow-ip", "192.0.2.7")
    output = command_output("create_partner", "Acme Bank", "--json", "--rate-limit", "120", *allow)

    created = json.loads(output)
    assert PartnerBank.objects.get(slug="acme-bank").rate_limit_per_minute == 120
    assert ApiKey.objects.get().allowed_networks == ["10.0.0.0/8", "192.0.2.7"]
    client = SignedClient(created["key_id"], created["secret"])
    assert client.get(LIST_URL, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(LIST_URL, REMOTE_ADDR="203.0.113.9").status_code == 403


def test_create_partner_refuses_a_duplicate_name_and_creates_nothing():
    command_output("create_partner", "Acme Bank", "--json")

    with pytest.raises(CommandError, match="already exists"):
        command_output("create_partner", "Acme Bank", "--json")

    assert PartnerBank.objects.count() == 1
    assert ApiKey.objects.count() == 1


def test_create_partner_with_a_bad_network_creates_no_partner():
    with pytest.raises(CommandError, match="not an IP address or CIDR network"):
        command_output("create_partner", "Acme Bank", "--allow-ip", "10.0.0.0/33")

    assert not PartnerBank.objects.exists()


def test_create_partner_refuses_a_rate_limit_of_zero():
    with pytest.raises(CommandError, match="at least 1"):
        command_output("create_partner", "Acme Bank", "--rate-limit", "0")

    assert not PartnerBank.objects.exists()
