"""From the model to the monitor: a day of traffic unlike what the live model learnt from is
measured by the pipeline's drift task and becomes one operational alert (docs/models.md §
Drift). Here because it crosses three apps that may not import one another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sentinel.monitoring.choices import DriftMetric, HealthSeverity
from sentinel.monitoring.models import OperationalAlert, OperationalAlertEvent
from sentinel.pipeline.drift import model_drift_hand_over
from sentinel.riskmodel.models import ModelDrift
from sentinel.riskmodel.tests.factories import drifting_live_model
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db


def test_a_shifted_live_model_raises_one_operational_alert_however_often_it_is_measured():
    # Given a live model trained on two ordinary days, then a day of unlike traffic
    version = drifting_live_model(PartnerBankFactory())

    # When the daily task measures it, twice (a retry, or an hour later)
    first = timezone.now() + timedelta(seconds=1)
    model_drift_hand_over(now=first)
    model_drift_hand_over(now=first + timedelta(minutes=60))

    # Then both measurements are kept, and the monitor has one alert per drifting figure
    assert ModelDrift.objects.count() == 2
    alerts = {alert.metric: alert for alert in OperationalAlert.objects.open()}
    assert set(alerts) == {DriftMetric.MODEL_SCORE, DriftMetric.MODEL_INPUT}
    score = alerts[DriftMetric.MODEL_SCORE]
    assert (score.partner, score.severity) == (None, HealthSeverity.CRITICAL)
    assert score.detail["model_version"] == version.number and score.value > 0.25
    assert score.persistence_minutes == 60
    assert OperationalAlertEvent.objects.filter(type="raised").count() == 2
    assert OperationalAlertEvent.objects.count() == 2
