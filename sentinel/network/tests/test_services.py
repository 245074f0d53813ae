"""The graph's retention: edges older than the window go, newer ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sentinel.network.models import Transfer
from sentinel.network.services import transfers_prune, transfers_record
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
