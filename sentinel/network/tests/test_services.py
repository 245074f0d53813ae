"""The graph's edges: what each keeps (its value in the reporting currency, also given by the
migration to the edges recorded before it) and the retention: edges older than the window
go, newer ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sentinel.network.models import Transfer
from sentinel.network.services import transfers_prune, transfers_record
from transactions.choices import RateSource
from transactions.models import ExchangeRate
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload


@pytest.mark.django_db
def test_pruning_forgets_the_transfers_older_than_the_retention_window(settings):
    settings.SENTINEL_NETWORK_RETENTION_DAYS = 35
    partner = PartnerBankFactory()
    now = datetime.now(UTC)
    payloads = [
        transaction_payload(occurred_at=(now - timedelta(days=days)).isoformat())
        for days in (40, 36, 34, 1)
    ]
    stored = [
        result.transaction for result in transactions_ingest(partner=partner, payloads=payloads)
    ]
    transfers_record(transactions=stored)

    assert transfers_prune() == 2
    assert Transfer.objects.count() == 2
    assert transfers_prune() == 0


@pytest.fixture
def euro_rate(db) -> None:
    ExchangeRate.objects.create(
        date=(datetime.now(UTC) - timedelta(days=3)).date(),
        base="EUR",
        quote="USD",
        rate=Decimal("1.25"),
        source=RateSource.ECB,
    )


def _recorded(partner, *payloads: dict) -> list:
    stored = [r.transaction for r in transactions_ingest(partner=partner, payloads=list(payloads))]
    return transfers_record(transactions=stored)


def _payload(amount: str, currency: str) -> dict:
    return transaction_payload(
        occurred_at=(datetime.now(UTC) - timedelta(days=1)).isoformat(),
        amount=amount,
        currency=currency,
    )


@pytest.mark.django_db
def test_each_edge_keeps_its_currency_and_its_value_in_the_reporting_currency(euro_rate):
    partner = PartnerBankFactory()  # reports in US dollars
    edges = _recorded(
        partner,
        _payload("1000.00", "USD"),
        _payload("1000.00", "EUR"),  # at the latest euro rate within its age limit
        _payload("1000.00", "GBP"),  # no rate for the pound: no value, never a guess
    )

    stored = dict(Transfer.objects.values_list("transaction_id", "value"))
    assert [(e.currency, e.value) for e in edges] == [
        ("USD", Decimal("1000.00")),
        ("EUR", Decimal("1250.00")),
        ("GBP", None),
    ]
    assert [stored[e.id] for e in edges] == [e.value for e in edges]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_the_edges_already_recorded_their_currency_and_value(euro_rate):
    partner = PartnerBankFactory()
    edges = _recorded(
        partner, _payload("1000.00", "USD"), _payload("1000.00", "EUR"), _payload("10.00", "GBP")
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("network", "0007_parameter_backtests")])  # the columns go

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    stored = {t.pk: (t.currency, t.value) for t in Transfer.objects.all()}
    assert stored == {e.id: (e.currency, e.value) for e in edges}
