"""Shared inputs of the SAR tests: a reporting entity and contract-shaped transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cases.sar.build import SarSource, SarSubject
from cases.sar.document import Person, ReportingEntity


@pytest.fixture
def entity() -> ReportingEntity:
    return ReportingEntity(
        rentity_id=4711,
        name="Acme Bank",
        swift="ACMEUS33",
        country="US",
        reporting_person=Person(
            first_name="Rita", last_name="Reyes", email="rita@acme.example", occupation="MLRO"
        ),
    )


def contract_tx(number: int, **overrides) -> dict:
    """A contract-shaped transaction: Ana Lima (C1, account A1) pays Bo Chen (B9)."""
    tx = {
        "id": f"00000000-0000-7000-8000-{number:012d}",
        "external_id": f"tx-{number:04d}",
        "occurred_at": datetime(2025, 3, 1, 9, 30, tzinfo=UTC) + timedelta(hours=number),
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
            "bank": "ACMEUS33",
        },
        "beneficiary": {
            "account_id": "B9",
            "customer_id": "",
            "name": "Bo Chen",
            "country": "SG",
            "bank": "DBSSSGSG",
        },
        "device_id": "d-77",
        "ip_address": "203.0.113.7",
    }
    tx.update(overrides)
    return tx


@pytest.fixture
def make_source(entity):
    def make(transactions=None, **overrides) -> SarSource:
        values = {
            "reporting_entity": entity,
            "subject": SarSubject(customer_id="C1", name="Ana Lima", country="US", accounts=["A1"]),
            "transactions": transactions if transactions is not None else [contract_tx(1)],
            "reference": "CASE-2025-0042",
            "typologies": ["structuring", "high_risk_country"],
            "narrative": "Repeated transfers just below the reporting threshold.",
            "action": "Account placed under enhanced monitoring.",
            "submission_date": datetime(2025, 3, 10, 12, 0, tzinfo=UTC),
        }
        values.update(overrides)
        return SarSource(**values)

    return make
