"""The learned risk score's drift as operational alerts: handed over once a day as plain
figures (the pipeline's drift task), raised above a bar, kept while it persists, resolved when
it falls back, and shown wherever the monitor's alerts are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from sentinel.monitoring import live
from sentinel.monitoring.choices import DriftMetric, HealthSeverity, OperationalAlertStatus
from sentinel.monitoring.models import OperationalAlert, OperationalAlertEvent, SlackDelivery
from sentinel.monitoring.services import model_drift_judge
from sentinel.monitoring.thresholds import DriftSteps
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from .helpers import monitor_viewer

DAY = timedelta(days=1)
MORNING = datetime(2026, 3, 2, 6, 0, 12, tzinfo=UTC)
INPUTS = {"amount_log10": 0.41, "new_payees_24h": 0.12}


@pytest.fixture
def pushed(monkeypatch) -> list[dict]:
    """The operational alert frames sent to the staff live feed."""
    frames: list[dict] = []
    monkeypatch.setattr(live, "broadcast", lambda batch: frames.extend(batch))
    return frames


def measured(capture, *, day: int = 0, score: float | None, worst: float | None, version=3):
    """One daily measurement handed over, its after-commit work (push, email) done."""
    with capture(execute=True):
        return model_drift_judge(
            version=version,
            window_end=MORNING + day * DAY,
            decisions=5000,
            score_psi=score,
            worst_input_psi=worst,
            inputs_psi=INPUTS if worst else {},
        )


def _open() -> dict[str, OperationalAlert]:
    return {alert.metric: alert for alert in OperationalAlert.objects.open().filter(partner=None)}


def test_the_bars_are_the_rule_of_thumb_by_default():
    steps = DriftSteps()

    assert [steps.severity(psi) for psi in (None, 0.05, 0.1, 0.18, 0.25, 0.26, 3.0)] == [
        HealthSeverity.HEALTHY,
        HealthSeverity.HEALTHY,
        HealthSeverity.HEALTHY,
        HealthSeverity.WARNING,
        HealthSeverity.WARNING,
        HealthSeverity.CRITICAL,
        HealthSeverity.CRITICAL,
    ]
    assert (steps.bar(HealthSeverity.WARNING), steps.bar(HealthSeverity.CRITICAL)) == (0.1, 0.25)


@pytest.mark.django_db
def test_a_stable_model_raises_nothing(django_capture_on_commit_callbacks, pushed):
    events = measured(django_capture_on_commit_callbacks, score=0.04, worst=0.09)

    assert events == [] and not OperationalAlert.objects.exists() and pushed == []


@pytest.mark.django_db
def test_a_shifted_score_raises_one_critical_alert_pushed_and_emailed(
    django_capture_on_commit_callbacks, pushed, settings
):
    settings.SENTINEL_MONITOR_SLACK_WEBHOOK_URL = "https://hooks.example.com/services/T/B/x"

    events = measured(django_capture_on_commit_callbacks, score=0.41, worst=0.05)

    (alert,) = OperationalAlert.objects.all()
    assert [event.type for event in events] == ["raised"]
    assert (alert.partner, alert.metric, alert.severity) == (
        None,
        DriftMetric.MODEL_SCORE,
        HealthSeverity.CRITICAL,
    )
    assert (alert.value, alert.threshold, alert.detail["model_version"]) == (0.41, 0.25, 3)
    assert alert.started_minute == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    (frame,) = pushed
    assert frame["alert"]["partner"] is None and frame["alert"]["metric"] == "model_score_psi"
    (email,) = mail.outbox
    assert "Learned risk score: Model score drift (PSI) raised (PSI 0.41, bar 0.25)" in (
        email.subject
    )
    assert "Model: v3" in email.body and "Decisions measured: 5000" in email.body
    assert SlackDelivery.objects.get().event == events[0]  # the global webhook


@pytest.mark.django_db
def test_drift_that_persists_keeps_one_alert_and_a_retry_changes_nothing(
    django_capture_on_commit_callbacks, pushed
):
    measured(django_capture_on_commit_callbacks, score=0.05, worst=0.18)  # an input moving

    again = measured(django_capture_on_commit_callbacks, score=0.05, worst=0.18)  # a retry
    next_day = measured(django_capture_on_commit_callbacks, day=1, score=0.06, worst=0.21)

    assert again == [] and next_day == []
    (alert,) = OperationalAlert.objects.all()
    assert (alert.metric, alert.severity, alert.value) == (
        DriftMetric.MODEL_INPUT,
        HealthSeverity.WARNING,
        0.21,
    )
    assert alert.persistence_minutes == 24 * 60
    assert alert.detail["inputs_psi"] == INPUTS
    assert OperationalAlertEvent.objects.count() == 1 and len(pushed) == 1
    assert mail.outbox == []  # a WARNING pages no one


@pytest.mark.django_db
def test_moving_then_shifted_escalates_the_same_alert(django_capture_on_commit_callbacks, pushed):
    measured(django_capture_on_commit_callbacks, score=0.15, worst=0.05)

    events = measured(django_capture_on_commit_callbacks, day=1, score=0.33, worst=0.05)

    (alert,) = OperationalAlert.objects.all()
    assert [event.type for event in events] == ["escalated"]
    assert (alert.severity, alert.threshold) == (HealthSeverity.CRITICAL, 0.25)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_back_below_the_bar_resolves_and_a_new_shift_raises_again(
    django_capture_on_commit_callbacks, pushed
):
    measured(django_capture_on_commit_callbacks, score=0.4, worst=0.3)
    assert set(_open()) == {DriftMetric.MODEL_SCORE, DriftMetric.MODEL_INPUT}

    events = measured(django_capture_on_commit_callbacks, day=1, score=0.04, worst=0.31)

    assert [(e.alert.metric, e.type) for e in events] == [("model_score_psi", "resolved")]
    resolved = OperationalAlert.objects.get(metric=DriftMetric.MODEL_SCORE)
    assert resolved.status == OperationalAlertStatus.RESOLVED and resolved.value == 0.04
    assert set(_open()) == {DriftMetric.MODEL_INPUT}
    measured(django_capture_on_commit_callbacks, day=2, score=0.5, worst=0.31)
    assert OperationalAlert.objects.filter(metric=DriftMetric.MODEL_SCORE).count() == 2


@pytest.mark.django_db
def test_no_live_model_resolves_what_was_open(django_capture_on_commit_callbacks, pushed):
    measured(django_capture_on_commit_callbacks, score=0.4, worst=0.3)

    measured(django_capture_on_commit_callbacks, day=1, score=None, worst=None, version=None)

    assert _open() == {}
    assert OperationalAlertEvent.objects.filter(type="resolved").count() == 2


@pytest.mark.django_db
def test_the_bars_come_from_settings(django_capture_on_commit_callbacks, pushed, settings):
    settings.SENTINEL_MONITOR_DRIFT_MOVING_PSI = 0.2
    settings.SENTINEL_MONITOR_DRIFT_SHIFTED_PSI = 0.5

    measured(django_capture_on_commit_callbacks, score=0.3, worst=0.15)

    (alert,) = OperationalAlert.objects.all()
    assert (alert.metric, alert.severity, alert.threshold) == (
        DriftMetric.MODEL_SCORE,
        HealthSeverity.WARNING,
        0.2,
    )


@pytest.mark.django_db
def test_the_dashboard_and_the_api_show_open_drift_to_staff(
    django_capture_on_commit_callbacks, pushed, partner_client
):
    partner = partner_client("Monitored Bank")
    PartnerBankFactory()
    measured(django_capture_on_commit_callbacks, score=0.41, worst=0.05)
    staff = logged_in(monitor_viewer())

    page = staff.get("/monitor/").content.decode()
    feed = staff.get("/monitor/data").json()
    api = staff.get("/api/v1/monitor").json()
    own = partner.get("/api/v1/monitor").json()

    assert 'id="drift-alerts"' in page and "Model score drift (PSI) of model v3" in page
    assert 'href="/models/v3/"' in page
    assert [alert["metric"] for alert in feed["model_drift_alerts"]] == ["model_score_psi"]
    assert [(a["partner"], a["metric"]) for a in api["open_alerts"]] == [(None, "model_score_psi")]
    assert own["open_alerts"] == []  # a partner bank never sees the model's drift


@pytest.mark.django_db
def test_the_database_keeps_one_open_drift_alert_per_metric_and_no_partner_on_it():
    fields = {
        "metric": DriftMetric.MODEL_SCORE,
        "severity": HealthSeverity.WARNING,
        "started_minute": MORNING,
        "last_minute": MORNING,
        "persistence_minutes": 0,
    }
    OperationalAlert.objects.create(partner=None, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        OperationalAlert.objects.create(partner=None, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        OperationalAlert.objects.create(partner=PartnerBankFactory(), **fields)
