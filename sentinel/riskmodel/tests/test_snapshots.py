"""Point-in-time features: each decision keeps what the providers gave it, and training reads
exactly that, never a value rebuilt later."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from sentinel.riskmodel.inputs import input_names, provider_inputs
from sentinel.riskmodel.models import DecisionFeatures
from sentinel.riskmodel.selectors import training_dataset
from transactions.tests.factories import PartnerBankFactory, transaction_payload

from .factories import iso, label, scored

pytestmark = pytest.mark.django_db


def _payload(account: str, when, external_id: str, amount: str = "100.00") -> dict:
    return transaction_payload(
        external_id=external_id,
        occurred_at=iso(when),
        amount=amount,
        originator={"account_id": account, "customer_id": "c1", "country": "US"},
    )


def test_every_decision_keeps_its_features_and_no_score_while_no_model_is_live():
    partner = PartnerBankFactory()
    now = timezone.now()
    (tx,) = scored(partner, [_payload("acc-1", now - timedelta(minutes=5), "one", "2500.00")])

    snapshot = DecisionFeatures.objects.get(transaction=tx)
    row = dict(zip(snapshot.schema.names, snapshot.inputs, strict=True))
    assert tuple(snapshot.schema.names) == input_names(provider_inputs())  # + other providers'
    assert row["amount_log10"] == pytest.approx(np.log10(2501), rel=1e-6)
    assert row["account.count_7d"] == 1
    assert row["cross_border"] == 1  # US customer paying SG
    assert (snapshot.model_version, snapshot.score, snapshot.contributions) == (None, None, [])


def test_with_the_risk_model_off_no_snapshot_is_kept(settings):
    # Given the risk model switched off (its default outside the tests)
    settings.SENTINEL_RISK_MODEL = False
    partner = PartnerBankFactory()

    # When a transaction is scored
    (tx,) = scored(partner, [_payload("acc-1", timezone.now(), "off", "2500.00")])

    # Then its decision is made and no feature snapshot is written beside it
    assert tx.decision.outcome
    assert not DecisionFeatures.objects.filter(transaction=tx).exists()


def test_a_late_arrival_never_reaches_the_features_training_reads():
    # Given a decision on A, then a payment that happened just before A but arrived after
    # A was decided (a bank's delayed report), and a later payment B on the same account.
    partner = PartnerBankFactory()
    now = timezone.now()
    decided_at = now - timedelta(hours=2)
    (a,) = scored(partner, [_payload("acc-9", decided_at, "a")])
    scored(partner, [_payload("acc-9", decided_at - timedelta(minutes=10), "late")])
    scored(partner, [_payload("acc-9", decided_at + timedelta(minutes=30), "b")])

    # When training reads the window
    data = training_dataset(start=now - timedelta(days=1), end=now, labels_as_of=timezone.now())

    # Then A's row holds what A's decision saw: itself only, in the last week. A rebuilt
    # aggregate would count the late one too (it occurred within A's window).
    count_7d = data.names.index("account.count_7d")
    rows = dict(zip(data.transaction_ids, data.inputs[:, count_7d], strict=True))
    assert rows[a.pk] == 1
    # The late one saw only itself (A came after it in event time); B saw all three.
    assert sorted(data.inputs[:, count_7d].tolist()) == [1, 1, 3]


def test_labels_and_decisions_after_the_cut_off_are_not_read():
    partner = PartnerBankFactory()
    now = timezone.now()
    txs = scored(
        partner,
        [_payload(f"acc-{i}", now - timedelta(hours=3 - i), f"t{i}") for i in range(2)],
    )
    cut_off = timezone.now()
    label(txs[0], "confirmed_fraud", received_at=cut_off - timedelta(seconds=1))
    label(txs[1], "confirmed_fraud", received_at=cut_off + timedelta(hours=1))
    (after,) = scored(partner, [_payload("acc-5", now - timedelta(minutes=1), "after")])

    data = training_dataset(start=now - timedelta(days=1), end=now, labels_as_of=cut_off)

    assert data.transaction_ids == [txs[0].pk, txs[1].pk]  # "after" was decided later
    assert data.labels.tolist() == [1, 0]  # the second label arrived after the cut-off
    assert data.weights.tolist() == [1.0, 0.1]
