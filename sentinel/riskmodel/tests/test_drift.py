"""Drift of the live model's inputs and scores, measured against its training window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sentinel.riskmodel.services import model_drift_measure
from transactions.tests.factories import PartnerBankFactory

from .factories import drifting_live_model

pytestmark = pytest.mark.django_db


def test_no_live_model_measures_nothing():
    assert model_drift_measure() is None


def test_a_day_of_unlike_traffic_shows_as_drift_of_its_inputs_and_scores():
    version = drifting_live_model(PartnerBankFactory())

    drift = model_drift_measure(now=timezone.now() + timedelta(seconds=1))

    assert drift.model_version == version and drift.decisions == 20
    assert drift.inputs_psi["amount_log10"] > 0.25
    assert drift.worst_input_psi >= drift.inputs_psi["amount_log10"]
    assert drift.score_psi > 0.25
