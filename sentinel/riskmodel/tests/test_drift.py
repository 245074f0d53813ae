"""Drift of the live model's inputs and scores, measured against its training window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rules.tests.factories import officer
from sentinel.riskmodel import scoring
from sentinel.riskmodel.services import (
    model_change_approve,
    model_drift_measure,
    model_live_request,
    model_train,
)
from transactions.tests.factories import PartnerBankFactory, transaction_payload

from .factories import iso, labelled_population, scored

pytestmark = pytest.mark.django_db


def test_no_live_model_measures_nothing():
    assert model_drift_measure() is None


def test_a_day_of_unlike_traffic_shows_as_drift_of_its_inputs_and_scores():
    partner = PartnerBankFactory()
    now = timezone.now()
    # trained on two days that ended more than a day ago
    labelled_population(partner, start=now - timedelta(hours=80))
    version = model_train(
        start=now - timedelta(hours=81),
        holdout_start=now - timedelta(hours=44),
        end=now - timedelta(hours=30),
    )
    model_change_approve(
        change=model_live_request(version=version, actor=officer()), approver=officer()
    )
    scoring.forget()
    later = timezone.now()
    scored(
        partner,
        [
            transaction_payload(
                external_id=f"big-{i}",
                occurred_at=iso(later - timedelta(minutes=30 - i)),
                amount=f"{60000 + i}.00",
                originator={"account_id": f"d-{i}", "customer_id": f"d-{i}", "country": "US"},
                beneficiary={"account_id": "x", "country": "CY", "name": "Payee"},
            )
            for i in range(20)
        ],
    )

    drift = model_drift_measure(now=timezone.now() + timedelta(seconds=1))

    assert drift.model_version == version and drift.decisions == 20
    assert drift.inputs_psi["amount_log10"] > 0.25
    assert drift.worst_input_psi >= drift.inputs_psi["amount_log10"]
    assert drift.score_psi > 0.25
