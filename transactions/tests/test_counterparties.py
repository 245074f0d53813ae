"""Each account's counterparties for its whole life: counted once, whatever the batch, the
worker or the spelling, and filled from the stored history by the migration."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from sentinel.testing import run_concurrently
from transactions import services
from transactions.models import AccountCounterparty, AccountProfile

from .factories import PartnerBankFactory, transaction_payload


def _ingest(partner, *payloads) -> list:
    return [
        services.transaction_ingest(partner=partner, payload=payload).transaction.id
        for payload in payloads
    ]


def _fold(ids: list) -> None:
    with transaction.atomic():
        services.account_profiles_fold(
            transactions=services.transactions_claim_unprofiled(transaction_ids=ids)
        )


def _to(account_id: str = "", name: str = "Bo Chen", **overrides) -> dict:
    """Outbound to a beneficiary known by what is given (the contract refuses empty fields)."""
    beneficiary = {"account_id": account_id, "name": name, "country": "SG"}
    return transaction_payload(
        beneficiary={key: value for key, value in beneficiary.items() if value}, **overrides
    )


def _profile(account: str = "A1") -> AccountProfile:
    return AccountProfile.objects.get(account__external_id=account)


@pytest.mark.django_db
def test_an_account_counts_each_counterparty_once_for_its_whole_life():
    partner = PartnerBankFactory()
    _fold(_ingest(partner, _to("B9"), _to("B9"), _to("X1")))
    assert _profile().counterparty_count == 2

    inbound = transaction_payload(
        direction="inbound",
        originator={"account_id": "Z5", "name": "Zed"},
        beneficiary={"account_id": "A1", "customer_id": "C1", "name": "Ana Lima"},
    )
    _fold(_ingest(partner, _to("B9"), _to("X1"), inbound))

    profile = _profile()
    assert profile.counterparty_count == 3
    assert profile.transaction_count == 6
    assert set(
        AccountCounterparty.objects.filter(account=profile.account).values_list(
            "counterparty", flat=True
        )
    ) == {"B9", "X1", "Z5"}


@pytest.mark.django_db
def test_a_counterparty_without_an_account_is_told_by_its_name_whatever_its_spelling():
    partner = PartnerBankFactory()

    _fold(_ingest(partner, _to(name="Bo  CHEN"), _to(name=" bo chen"), _to(name="")))

    assert _profile().counterparty_count == 1
    assert list(AccountCounterparty.objects.values_list("counterparty", flat=True)) == [
        "name:bo chen"
    ]


@pytest.mark.django_db
def test_the_first_sighting_is_the_earliest_transaction_not_the_first_to_arrive():
    partner = PartnerBankFactory()
    later = _to("B9", occurred_at="2026-03-02T10:00:00Z")
    earlier = _to("B9", occurred_at="2026-03-01T10:00:00Z")

    _fold(_ingest(partner, later, earlier))

    seen = AccountCounterparty.objects.get().first_seen_at
    assert seen.isoformat() == "2026-03-01T10:00:00+00:00"


@pytest.mark.django_db(transaction=True)
def test_two_workers_folding_the_same_new_counterparty_count_it_once():
    partner = PartnerBankFactory()
    batches = iter([_ingest(partner, _to("B9"), _to("X1")), _ingest(partner, _to("B9"))])

    run_concurrently(2, lambda: _fold(next(batches)))

    assert _profile().counterparty_count == 2
    assert _profile().transaction_count == 3


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_counterparties_of_the_history_already_profiled():
    partner = PartnerBankFactory()
    _fold(
        _ingest(
            partner,
            _to("B9", amount="1000.00"),
            _to("B9", amount="1500.00"),
            _to(name="Bo Chen", amount="1500.00"),
            _to("X1", amount="3000.00"),
        )
    )
    _ingest(partner, _to("NOT-YET"))  # accepted, not profiled: the fold will count it
    executor = MigrationExecutor(connection)
    executor.migrate([("transactions", "0009_exchange_rates_reporting_currency")])

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    profile = _profile()
    assert profile.counterparty_count == 3
    assert set(AccountCounterparty.objects.values_list("counterparty", flat=True)) == {
        "B9",
        "X1",
        "name:bo chen",
    }
    # ... and each activity bucket's amount range, as the fold keeps it.
    assert profile.activity == {
        "outbound:transfer:USD": {
            "count": 4,
            "sum": "7000.0000",
            "min": "1000.0000",
            "max": "3000.0000",
        }
    }
