"""Hand-built transfers for the network tests, sent through the real ingest and pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rules.models import RuleFailure
from sentinel.pipeline.orchestrator import transactions_process
from transactions.choices import RateSource
from transactions.models import ExchangeRate
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


def euro_rates(rates: dict[str, str]) -> None:
    """One euro in each currency given, every day of the tests' month (and the day before)."""
    ExchangeRate.objects.bulk_create(
        ExchangeRate(
            date=(START + timedelta(days=day)).date(),
            base="EUR",
            quote=quote,
            rate=Decimal(rate),
            source=RateSource.ECB,
        )
        for day in range(-1, 20)
        for quote, rate in rates.items()
    )
