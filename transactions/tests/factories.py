"""Factories for partners, keys and transaction payloads."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import factory

from transactions.models import PartnerBank

_counter = itertools.count(1)


class PartnerBankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerBank

    name = factory.Sequence(lambda n: f"Partner Bank {n}")
    slug = factory.Sequence(lambda n: f"partner-bank-{n}")


def transaction_payload(**overrides) -> dict:
    """A valid contract payload; overrides replace top-level fields."""
    number = next(_counter)
    payload = {
        "external_id": f"tx-{number:06d}",
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=1))
        .isoformat()
        .replace("+00:00", "Z"),
        "amount": "1500.00",
        "currency": "USD",
        "type": "transfer",
        "status": "approved",
        "direction": "outbound",
        "channel": "mobile",
        "originator": {
            "account_id": "A1",
            "customer_id": "C1",
            "name": "Ana Lima",
            "country": "US",
            "bank": "BANKUS33",
        },
        "beneficiary": {
            "account_id": "B9",
            "customer_id": "C7",
            "name": "Bo Chen",
            "country": "SG",
            "bank": "DBSSSGSG",
        },
        "device_id": "d-77",
        "ip_address": "203.0.113.7",
        "latency_ms": 182,
        "metadata": {},
    }
    payload.update(overrides)
    return payload
