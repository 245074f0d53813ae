"""The transaction API's rows are written field by field for speed; DRF's generic walk over
the declared fields is the reference they must equal."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework import serializers

from rules.tests import factories as rule_factories
from sentinel.pipeline.api.serializers import TransactionSerializer
from sentinel.pipeline.orchestrator import transactions_process
from sentinel.pipeline.selectors import transactions_visible_to
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db
_BLANK_AS_NULL = ("channel", "device_id", "product", "acquirer", "card_type", "mcc")


def _generic(transaction) -> dict:
    """What DRF's ModelSerializer makes of the declared fields, with the contract's two
    adjustments: blank strings answered as null, the amount with the currency's decimals."""
    serializer = TransactionSerializer()
    data = serializers.ModelSerializer.to_representation(serializer, transaction)
    for name in _BLANK_AS_NULL:
        data[name] = data[name] or None
    data["amount"] = f"{transaction.amount:.{2 if transaction.currency != 'JPY' else 0}f}"
    return dict(data)


@pytest.mark.parametrize("zone", ["UTC", "America/Sao_Paulo"])
def test_rows_equal_the_generic_walk_decided_or_not_in_any_time_zone(zone):
    partner = PartnerBankFactory()
    rule_factories.only_these_rules(rule_factories.rule(expression="amount >= 10000"))
    results = transactions_ingest(
        partner=partner,
        payloads=[
            transaction_payload(amount="12000.00"),
            transaction_payload(
                currency="JPY",
                amount="5000",
                channel=None,
                device_id=None,
                ip_address=None,
                latency_ms=None,
                metadata={"note": "x"},
            ),
        ],
    )
    transactions_process(transaction_ids=[results[0].id])  # the second stays pending

    with timezone.override(zone):
        rows = list(transactions_visible_to(partner=partner).order_by("occurred_at"))
        written = [TransactionSerializer(row).data for row in rows]
        reference = [_generic(row) for row in rows]

    assert written == reference
    assert {row["scoring"] for row in written} == {"done", "pending"}
