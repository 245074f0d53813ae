"""Hand-built transfers for the network tests, sent through the real ingest and pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rules.models import RuleFailure
from sentinel.pipeline.orchestrator import transactions_process
from transactions.services import transactions_ingest
from transactions.tests.factories import transaction_payload

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


def transfer(source: str, target: str, amount: str, *, hours: float, **overrides) -> dict:
    at = START + timedelta(hours=hours)
    return transaction_payload(
        occurred_at=at.isoformat().replace("+00:00", "Z"),
        amount=amount,
        originator={"account_id": source, "customer_id": f"c-{source}", "country": "US"},
        beneficiary={"account_id": target, "customer_id": f"c-{target}", "country": "US"},
        **overrides,
    )


def send(partner, *payloads: dict) -> list:
    """Each transfer in its own batch, in the order given (as they would arrive)."""
    ids = []
    for payload in payloads:
        (result,) = transactions_ingest(partner=partner, payloads=[payload])
        assert result.status == "created", result
        transactions_process(transaction_ids=[result.id])
        ids.append(result.id)
    assert not RuleFailure.objects.filter(transaction_id__in=ids).exists()
    return ids
