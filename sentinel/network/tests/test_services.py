"""The graph's edges: what each keeps (its value in the reporting currency, also given by the
migration to the edges recorded before it) and the retention: edges older than the window
go, newer ones stay."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sentinel.network.models import Transfer
from sentinel.network.services import transfers_prune, transfers_record
from transactions.choices import RateSource
from transactions.models import ExchangeRate
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload


@pytest.mark.django_db
def test_a_batch_arrives_in_time_order_and_a_transfer_recorded_again_keeps_its_arrival():
    partner = PartnerBankFactory()
    now = datetime.now(UTC)
    payloads = [
        transaction_payload(occurred_at=(now - timedelta(hours=h)).isoformat()) for h in (1, 3, 2)
    ]
    stored = [r.transaction for r in transactions_ingest(partner=partner, payloads=payloads)]

    edges = transfers_record(transactions=stored)
    again = transfers_record(transactions=stored[:2])

    assert [edge.id for edge in edges] == [tx.id for tx in stored]  # in the order given
    first, second, third = (edge.arrival for edge in edges)
    assert second < third < first  # arrived oldest first
    assert [edge.arrival for edge in again] == [first, second]
    assert dict(Transfer.objects.values_list("transaction_id", "arrival")) == {
        edge.id: edge.arrival for edge in edges
    }


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


@pytest.mark.django_db
def test_the_migration_converts_by_its_own_copy_of_the_rule_as_the_scoring_path_does():
    # Given rates of three days ago: a pair entered by staff and imported, a pair stored the
    # other way round, the legs of cross rates through the euro, and a rate too old to use
    published = (datetime.now(UTC) - timedelta(days=3)).date()
    ExchangeRate.objects.bulk_create(
        ExchangeRate(
            date=published - timedelta(days=days), base=base, quote=quote, rate=rate, source=source
        )
        for base, quote, rate, source, days in [
            ("EUR", "USD", Decimal("1.25"), RateSource.ECB, 0),
            ("EUR", "USD", Decimal("1.2"), RateSource.MANUAL, 0),  # staff's wins
            ("USD", "CHF", Decimal("0.8"), RateSource.ECB, 0),  # CHF to USD: its inverse
            ("EUR", "GBP", Decimal("0.85"), RateSource.ECB, 0),
            ("EUR", "JPY", Decimal("160"), RateSource.ECB, 0),
            ("EUR", "SEK", Decimal("11"), RateSource.ECB, 9),  # older than the age limit
        ]
    )
    dollars, yen = PartnerBankFactory(), PartnerBankFactory(reporting_currency="JPY")
    edges = _recorded(
        dollars,
        *(
            _payload(amount, currency)
            for amount, currency in [
                ("1000.00", "USD"),
                ("1000.00", "EUR"),
                ("10.00", "CHF"),
                ("100.00", "GBP"),
                ("100.00", "SEK"),
            ]
        ),
    ) + _recorded(yen, _payload("10.00", "USD"))
    Transfer.objects.update(currency="XXX", value=None)  # as if recorded before 0008

    # When the migration fills them in
    migration = importlib.import_module("sentinel.network.migrations.0008_transfer_value")
    with connection.schema_editor() as editor:
        migration.values_fill(django_apps, editor)

    # Then each edge has the value the scoring path gave it when it was recorded
    stored = dict(Transfer.objects.values_list("transaction_id", "value"))
    assert [stored[e.id] for e in edges] == [
        Decimal("1000.00"),
        Decimal("1200.00"),
        Decimal("12.50"),  # 10 x 1 / 0.8
        Decimal("141.18"),  # 100 x 1.2 / 0.85, that rate to 12 digits: 1.41176470588
        None,
        Decimal("1333"),  # 10 x 160 / 1.2 in yen, which have no decimals
    ]
    assert [stored[e.id] for e in edges] == [e.value for e in edges]
    currencies = dict(Transfer.objects.values_list("transaction_id", "currency"))
    assert currencies == {e.id: e.currency for e in edges}
