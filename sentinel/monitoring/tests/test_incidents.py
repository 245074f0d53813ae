"""Planted incidents, judged minute by minute as the beat cycle would."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from django.core import mail

from sentinel.live import live_feed_group
from sentinel.monitoring import live, services
from sentinel.monitoring.analysis import analyse
from sentinel.monitoring.choices import BaselineMethod, HealthSeverity, Metric
from sentinel.monitoring.models import MonitorSettings, OperationalAlert, OperationalAlertEvent
from sentinel.monitoring.report import monitor_report
from sentinel.monitoring.selectors import Config, SeriesKey
from transactions.tests.factories import PartnerBankFactory

from .helpers import MINUTE, T0, seed_history

pytestmark = pytest.mark.django_db
DAY = 24 * 60


@pytest.fixture
def pushed():
    """What a staff browser on the live feed receives of the monitor's alerts: a listener on
    the real channel layer; ``pushed()`` is every operational alert message so far."""
    layer = channel_layers.make_backend("default")  # a layer of the test's own to listen on
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live_feed_group(), channel)

    async def received() -> list[dict]:
        frames = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=0.5)
            except TimeoutError:
                break
            frames += message["frames"]
        return [frame["alert"] for frame in frames if frame["type"] == live.MONITOR_ALERT]

    yield async_to_sync(received)
    async_to_sync(layer.group_discard)(live_feed_group(), channel)


def judge(partner, first, last, capture) -> list:
    events = []
    minute = first
    while minute <= last:
        with capture(execute=True):
            events += services.monitor_evaluate(partners=[partner], at=minute)
        minute += MINUTE
    return events


def test_a_60_minute_acquirer_outage_raises_one_alert_escalates_it_and_resolves_it(
    pushed, django_capture_on_commit_callbacks, settings
):
    # Given two days of ordinary traffic, then acq-2 failing 95% for one hour
    settings.SENTINEL_ON_CALL_EMAIL = "oncall@example.com"
    partner = PartnerBankFactory()
    start = T0 - 2 * DAY * MINUTE
    outage = (T0, T0 + 60 * MINUTE)
    seed_history(partner, start=start, minutes=2 * DAY + 90, outage=outage)

    # When every minute from just before to just after is judged
    events = judge(partner, T0 - 5 * MINUTE, T0 + 65 * MINUTE, django_capture_on_commit_callbacks)

    # Then one alert was raised, escalated through each step and resolved when it ended
    assert OperationalAlert.objects.count() == 1
    alert = OperationalAlert.objects.get()
    assert (alert.metric, alert.status, alert.severity) == (
        Metric.FAILED_RATE,
        "resolved",
        "SEVERE",
    )
    assert alert.started_minute == T0
    assert alert.persistence_minutes >= 60
    history = [(e.type, e.severity, e.minute) for e in OperationalAlertEvent.objects.order_by("id")]
    assert history == [
        ("raised", HealthSeverity.INFO, T0 + 14 * MINUTE),
        ("escalated", HealthSeverity.WARNING, T0 + 29 * MINUTE),
        ("escalated", HealthSeverity.CRITICAL, T0 + 44 * MINUTE),
        ("escalated", HealthSeverity.SEVERE, T0 + 59 * MINUTE),
        ("resolved", HealthSeverity.SEVERE, T0 + 60 * MINUTE),
    ]
    assert len(events) == 5
    # The alert names the failing acquirer
    assert alert.detail["acquirer"][0]["value"] == "acq-2"
    # Every change went live, and on-call was emailed from CRITICAL on
    frames = pushed()
    assert [(f["event"], f["severity"]) for f in frames] == [
        ("raised", "INFO"),
        ("escalated", "WARNING"),
        ("escalated", "CRITICAL"),
        ("escalated", "SEVERE"),
        ("resolved", "SEVERE"),
    ]
    assert frames[0]["partner"] == partner.slug
    subjects = [message.subject for message in mail.outbox]
    assert len(subjects) == 3
    assert "CRITICAL" in subjects[0] and "escalated" in subjects[0]
    assert "resolved" in subjects[2]


def test_at_the_end_of_the_outage_the_report_shows_60_minutes_severe_on_the_acquirer():
    partner = PartnerBankFactory()
    seed_history(
        partner, start=T0 - 2 * DAY * MINUTE, minutes=2 * DAY + 60, outage=(T0, T0 + 60 * MINUTE)
    )

    document = monitor_report(partners=[partner], at=T0 + 59 * MINUTE, dimension="acquirer")

    failed = document["persistence_analysis"]["failed_rate"]
    assert failed["consecutive_minutes"] >= 60 and failed["severity"] == "SEVERE"
    assert document["persistence_analysis"]["denied_rate"]["severity"] == "HEALTHY"
    by_value = {v["value"]: v for v in document["dimension"]["values"]}
    assert by_value["acq-2"]["persistence_analysis"]["failed_rate"]["consecutive_minutes"] >= 60
    assert by_value["acq-2"]["severity"] == "SEVERE"
    assert by_value["acq-1"]["severity"] == "HEALTHY"


def test_a_single_minute_blip_raises_nothing(pushed, django_capture_on_commit_callbacks):
    partner = PartnerBankFactory()
    seed_history(partner, start=T0 - DAY * MINUTE, minutes=DAY + 30, blips=(T0,))

    events = judge(partner, T0 - 2 * MINUTE, T0 + 20 * MINUTE, django_capture_on_commit_callbacks)

    assert events == [] and pushed() == []
    assert not OperationalAlert.objects.exists()


def test_judging_the_same_minute_twice_changes_nothing(pushed, django_capture_on_commit_callbacks):
    partner = PartnerBankFactory()
    seed_history(partner, start=T0 - DAY * MINUTE, minutes=DAY + 20, outage=(T0, T0 + 20 * MINUTE))
    judge(partner, T0, T0 + 15 * MINUTE, django_capture_on_commit_callbacks)

    again = judge(partner, T0 + 15 * MINUTE, T0 + 15 * MINUTE, django_capture_on_commit_callbacks)

    assert again == []
    assert OperationalAlertEvent.objects.count() == 1


def test_a_long_incident_does_not_raise_its_own_bar():
    # Given a 4-hour outage: longer than the judged window, so the naive baseline would
    # include its first hours
    partner = PartnerBankFactory()
    seed_history(
        partner, start=T0 - 2 * DAY * MINUTE, minutes=2 * DAY + 240, outage=(T0, T0 + 240 * MINUTE)
    )

    (analysis,) = analyse(keys=[SeriesKey((partner.pk,))], configs=[Config()], at=T0 + 239 * MINUTE)

    state = analysis.states[Metric.FAILED_RATE]
    assert state.consecutive_minutes == 240
    assert state.threshold.value < 0.05  # the baseline from before the incident


def test_too_little_history_is_healthy_with_a_reason():
    partner = PartnerBankFactory()
    seed_history(
        partner, start=T0 - 30 * MINUTE, minutes=31, outage=(T0 - 30 * MINUTE, T0 + MINUTE)
    )

    document = monitor_report(partners=[partner], at=T0)

    assert document["severity"] == "HEALTHY"
    failed = document["persistence_analysis"]["failed_rate"]
    assert failed["severity"] == "HEALTHY"
    assert "too little history" in failed["reason"]
    assert document["thresholds"]["failed_rate"]["value"] is None


def test_a_minute_without_traffic_is_healthy_and_divides_nothing():
    partner = PartnerBankFactory()
    seed_history(partner, start=T0 - DAY * MINUTE, minutes=DAY - 10)

    document = monitor_report(partners=[partner], at=T0)

    assert document["metrics"]["total"] == 0
    assert document["metrics"]["failed_rate"] is None
    assert document["persistence_analysis"]["failed_rate"]["reason"] == "no traffic in this minute"
    assert document["severity"] == "HEALTHY"


@pytest.mark.parametrize("method", [BaselineMethod.HOUR_OF_DAY, BaselineMethod.EWMA])
def test_each_baseline_method_detects_the_outage(method):
    partner = PartnerBankFactory()
    MonitorSettings.objects.create(partner=partner, baseline_method=method, baseline_days=3)
    seed_history(
        partner, start=T0 - 3 * DAY * MINUTE, minutes=3 * DAY + 30, outage=(T0, T0 + 30 * MINUTE)
    )

    document = monitor_report(partners=[partner], at=T0 + 29 * MINUTE)

    assert document["thresholds"]["failed_rate"]["method"] == method
    assert document["persistence_analysis"]["failed_rate"]["severity"] == "WARNING"
    assert document["persistence_analysis"]["denied_rate"]["severity"] == "HEALTHY"


def test_configured_steps_and_disabled_partners(pushed, django_capture_on_commit_callbacks):
    partner = PartnerBankFactory()
    MonitorSettings.objects.create(
        partner=partner, info_minutes=2, warning_minutes=3, critical_minutes=4, severe_minutes=5
    )
    quiet = PartnerBankFactory()
    MonitorSettings.objects.create(partner=quiet, is_enabled=False)
    for p in (partner, quiet):
        seed_history(p, start=T0 - DAY * MINUTE, minutes=DAY + 10, outage=(T0, T0 + 10 * MINUTE))

    with django_capture_on_commit_callbacks(execute=True):
        services.monitor_evaluate(partners=[partner, quiet], at=T0 + 5 * MINUTE)

    alert = OperationalAlert.objects.get()
    assert alert.partner == partner and alert.severity == "SEVERE"
