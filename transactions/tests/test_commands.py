"""The management commands as an operator runs them: create_partner (seed_demo: sentinel.demo)."""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from transactions.api.authentication import sign
from transactions.models import ApiKey, PartnerBank

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/transactions/"


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _signed_get(key_id: str, secret: str, **extra) -> int:
    timestamp = int(time.time())
    headers = {
        "HTTP_X_SENTINEL_KEY": key_id,
        "HTTP_X_SENTINEL_TIMESTAMP": str(timestamp),
        "HTTP_X_SENTINEL_SIGNATURE": sign(secret, timestamp, b""),
    }
    return APIClient().get(LIST_URL, **headers, **extra).status_code


# --- create_partner ----------------------------------------------------------------------------


def test_create_partner_json_prints_a_key_that_signs_requests():
    output = _run("create_partner", "Acme Bank", "--json")

    assert len(output.strip().splitlines()) == 1
    created = json.loads(output)
    assert set(created) == {"partner", "key_id", "secret"}
    assert created["partner"] == "acme-bank"
    assert PartnerBank.objects.get(slug="acme-bank").name == "Acme Bank"
    assert _signed_get(created["key_id"], created["secret"]) == 200
    assert _signed_get(created["key_id"], "not-the-secret") == 401


def test_create_partner_without_json_shows_the_secret_and_warns_it_is_shown_once():
    output = _run("create_partner", "Acme Bank")

    api_key = ApiKey.objects.get(partner__slug="acme-bank")
    assert api_key.key_id in output
    assert "shown only this once" in output
    secret = next(line.split()[-1] for line in output.splitlines() if "Secret:" in line)
    assert _signed_get(api_key.key_id, secret) == 200


def test_create_partner_applies_the_rate_limit_and_the_ip_allow_list():
    allow = ("--allow-ip", "10.0.0.0/8", "--allow-ip", "192.0.2.7")
    output = _run("create_partner", "Acme Bank", "--json", "--rate-limit", "120", *allow)

    created = json.loads(output)
    assert PartnerBank.objects.get(slug="acme-bank").rate_limit_per_minute == 120
    assert ApiKey.objects.get().allowed_networks == ["10.0.0.0/8", "192.0.2.7"]
    assert _signed_get(created["key_id"], created["secret"], REMOTE_ADDR="10.1.2.3") == 200
    assert _signed_get(created["key_id"], created["secret"], REMOTE_ADDR="203.0.113.9") == 403


def test_create_partner_refuses_a_duplicate_name_and_creates_nothing():
    _run("create_partner", "Acme Bank", "--json")

    with pytest.raises(CommandError, match="already exists"):
        _run("create_partner", "Acme Bank", "--json")

    assert PartnerBank.objects.count() == 1
    assert ApiKey.objects.count() == 1


def test_create_partner_with_a_bad_network_creates_no_partner():
    with pytest.raises(CommandError, match="not an IP address or CIDR network"):
        _run("create_partner", "Acme Bank", "--allow-ip", "10.0.0.0/33")

    assert not PartnerBank.objects.exists()


def test_create_partner_refuses_a_rate_limit_of_zero():
    with pytest.raises(CommandError, match="at least 1"):
        _run("create_partner", "Acme Bank", "--rate-limit", "0")

    assert not PartnerBank.objects.exists()
