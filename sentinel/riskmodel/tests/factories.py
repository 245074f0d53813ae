"""Scored transactions and labels for the model's tests, through the real pipeline."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from sentinel.pipeline.orchestrator import transactions_process
from transactions.choices import LabelSource
from transactions.models import Transaction, TransactionLabel
from transactions.services import transactions_ingest
from transactions.tests.factories import transaction_payload

_accounts = itertools.count(1)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def scored(partner, payloads: list[dict]) -> list[Transaction]:
    """Ingest and run the pipeline on the payloads, in the order given; the transactions."""
    results = transactions_ingest(partner=partner, payloads=payloads)
    transactions_process(transaction_ids=[result.id for result in results])
    return [result.transaction for result in results]


def labelled_population(partner, *, good: int = 80, bad: int = 20, start: datetime) -> dict:
    """Ordinary customers paying 20-220 at home, and fraudsters sending 5,000-9,000 to
    Cyprus; every one labelled by the partner. Spread evenly over the 48 hours from
    ``start``, interleaved, so a time split sees both kinds on each side."""
    payloads, sides = [], {}
    total = good + bad
    for i in range(total):
        is_bad = i % (total // bad) == 0 and sum(sides.values()) < bad
        account = f"acct-{next(_accounts)}"
        when = start + timedelta(hours=48 * i / total)
        payload = transaction_payload(
            external_id=f"pop-{account}",
            occurred_at=iso(when),
            amount=f"{5000 + 40 * i}.00" if is_bad else f"{20 + 2 * i}.00",
            originator={"account_id": account, "customer_id": f"c-{account}", "country": "US"},
            beneficiary={
                "account_id": f"b-{account}",
                "country": "CY" if is_bad else "US",
                "name": "Payee",
            },
        )
        payloads.append(payload)
        sides[payload["external_id"]] = is_bad
    transactions = scored(partner, payloads)
    for tx in transactions:
        label(tx, "confirmed_fraud" if sides[tx.external_id] else "legitimate")
    return {tx.external_id: sides[tx.external_id] for tx in transactions}


def label(tx: Transaction, outcome: str, *, received_at: datetime | None = None) -> None:
    TransactionLabel.objects.create(
        transaction=tx,
        source=LabelSource.PARTNER_FEEDBACK,
        outcome=outcome,
        weight=Decimal("1.00"),
        occurred_at=tx.occurred_at,
        reference="key test",
        received_at=received_at or timezone.now(),
    )
