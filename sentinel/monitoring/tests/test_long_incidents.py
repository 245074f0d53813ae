"""Long incidents on the shipped three days of status counts (../shared/data/status_counts.csv),
judged by the monitor's cycle service as the beat would, with its operational alerts persisted
(the state that keeps an incident out of its own baseline)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from sentinel.monitoring import services
from sentinel.monitoring.choices import HealthSeverity, Metric, OperationalAlertEventType
from sentinel.monitoring.models import MonitorSettings, OperationalAlert, OperationalAlertEvent
from sentinel.monitoring.report import monitor_report
from transactions.tests.factories import PartnerBankFactory

from .helpers import MINUTE, monitor_viewer, seed_counts, status_count_minutes

pytestmark = pytest.mark.django_db
HOUR = 60 * MINUTE
# "About 9 % of approvals turn into failures": failure rate 0.2 % -> about 10 %.
BURN = 0.09


@pytest.fixture(scope="module")
def three_days(shared_data):
    return status_count_minutes(shared_data / "status_counts.csv")


def after(three_days, partner, *phases: tuple[int, float]):
    """The three days, then each (hours, share of approvals failing) in turn, shaped like the
    file's hours from its beginning on (the same daily cycle, replayed after its end). The
    first minute after the three days."""
    seed_counts(partner, three_days)
    start = three_days[-1][0] + MINUTE
    shift = start - three_days[0][0]
    offset = 0
    for hours, share in phases:
        minutes = three_days[offset * 60 : (offset + hours) * 60]
        seed_counts(partner, minutes, shift=shift, failing_share=share)
        offset += hours
    return start


def run_cycles(partner, first, last, every: timedelta) -> list[OperationalAlertEvent]:
    """The monitor's minute from ``first`` to ``last`` (always judged), every ``every``: the
    beat runs each minute; judging fewer keeps the test light and changes no outcome here."""
    events, minute = [], first
    while minute < last:
        events += services.monitor_evaluate(partners=[partner], at=minute)
        minute += every
    return events + services.monitor_evaluate(partners=[partner], at=last)


def failed_rate_at(partner, minute) -> tuple[dict, dict]:
    document = monitor_report(partners=[partner], at=minute)
    return (
        document["persistence_analysis"][Metric.FAILED_RATE],
        document["thresholds"][Metric.FAILED_RATE],
    )


@pytest.mark.parametrize("hours", [12, 48])
def test_a_slow_burn_of_any_length_ends_severe(three_days, hours):
    # Given three days of ordinary traffic, then `hours` in which 9 % of approvals fail
    partner = PartnerBankFactory()
    start = after(three_days, partner, (hours, BURN))
    end = start + hours * HOUR - MINUTE

    # When the monitor runs through the burn
    run_cycles(partner, start, end, every=10 * MINUTE)

    # Then at its end the failed rate is SEVERE, judged against the bar from before the burn
    persistence, threshold = failed_rate_at(partner, end)
    assert persistence["severity"] == HealthSeverity.SEVERE
    assert persistence["consecutive_minutes"] >= 60
    assert threshold["mean"] < 0.005 and threshold["value"] < 0.05
    alert = OperationalAlert.objects.get(partner=partner, status="open")
    assert (alert.metric, alert.severity) == (Metric.FAILED_RATE, HealthSeverity.SEVERE)
    assert alert.threshold == pytest.approx(threshold["value"], abs=1e-6)
    # Nothing else about the traffic changed
    assert not OperationalAlert.objects.exclude(metric=Metric.FAILED_RATE).exists()


def test_a_one_minute_blip_stays_healthy(three_days):
    partner = PartnerBankFactory()
    blip = three_days[-600][0]  # mid-morning of the last day, about 100 transactions
    seed_counts(partner, three_days, blips=(blip,))

    events = run_cycles(partner, blip - 2 * MINUTE, blip + 20 * MINUTE, every=MINUTE)

    persistence, _ = failed_rate_at(partner, blip)
    assert persistence["consecutive_minutes"] == 1  # it was above the bar, once
    assert persistence["severity"] == HealthSeverity.HEALTHY
    assert events == [] and not OperationalAlert.objects.exists()


def test_an_ordinary_daily_cycle_stays_healthy(three_days):
    # Given the three days as shipped: volume from ~10 to ~200 a minute, a few short blips
    partner = PartnerBankFactory()
    seed_counts(partner, three_days)
    last = three_days[-1][0]

    # When the monitor runs through the last day
    events = run_cycles(partner, last - 24 * HOUR, last, every=20 * MINUTE)

    # Then it raised nothing, night or day
    assert events == [] and not OperationalAlert.objects.exists()
    document = monitor_report(partners=[partner], at=last)
    assert document["severity"] == HealthSeverity.HEALTHY


def test_when_a_burn_ends_the_alert_resolves_and_the_partner_is_healthy_again(three_days):
    # Given a 3-hour burn, then ordinary traffic again
    partner = PartnerBankFactory()
    start = after(three_days, partner, (3, BURN), (3, 0.0))
    burn_end = start + 3 * HOUR

    run_cycles(partner, start, start + 6 * HOUR - MINUTE, every=5 * MINUTE)

    alert = OperationalAlert.objects.get()
    assert (alert.status, alert.severity) == ("resolved", HealthSeverity.SEVERE)
    assert alert.started_minute == start
    resolved = alert.events.get(type=OperationalAlertEventType.RESOLVED)
    assert burn_end <= resolved.minute < burn_end + 5 * MINUTE  # the first minute judged after
    persistence, _ = failed_rate_at(partner, start + 6 * HOUR - MINUTE)
    assert persistence["severity"] == HealthSeverity.HEALTHY
    assert persistence["consecutive_minutes"] == 0


def test_a_past_burn_stays_out_of_the_baseline_so_the_next_one_is_still_seen(three_days):
    # Given a 12-hour burn that the monitor saw end, half a day of ordinary traffic, and a
    # second burn of the same size
    partner = PartnerBankFactory()
    start = after(three_days, partner, (12, BURN), (12, 0.0), (2, BURN))
    second = start + 24 * HOUR

    run_cycles(partner, start, second - MINUTE, every=10 * MINUTE)
    run_cycles(partner, second, second + 2 * HOUR - MINUTE, every=5 * MINUTE)

    # Then the second is SEVERE against the bar from before the first
    persistence, threshold = failed_rate_at(partner, second + 2 * HOUR - MINUTE)
    assert persistence["severity"] == HealthSeverity.SEVERE
    assert threshold["mean"] < 0.005
    first, latest = OperationalAlert.objects.order_by("started_minute")
    assert first.status == "resolved" and latest.status == "open"
    assert latest.started_minute == second


def test_a_lasting_shift_is_accepted_as_the_new_normal_after_the_configured_hours(three_days):
    # Given a partner that re-baselines after 4 hours, and a failure rate that stays higher
    partner = PartnerBankFactory()
    MonitorSettings.objects.create(partner=partner, rebaseline_after_hours=4)
    start = after(three_days, partner, (12, BURN))
    end = start + 12 * HOUR - MINUTE

    run_cycles(partner, start, end, every=10 * MINUTE)

    # Then the alert was accepted at 4 hours, logged, and the new level is the baseline
    alert = OperationalAlert.objects.get()
    assert alert.status == "resolved" and alert.accepted_at is not None
    assert alert.accepted_by is None
    accepted = alert.events.get(type=OperationalAlertEventType.ACCEPTED)
    assert start + 4 * HOUR <= accepted.minute < start + 4 * HOUR + 10 * MINUTE
    persistence, threshold = failed_rate_at(partner, end)
    assert persistence["severity"] == HealthSeverity.HEALTHY
    assert threshold["mean"] > 0.05


def test_an_operator_accepts_a_shift_and_only_an_open_alert_can_be_accepted(three_days):
    partner = PartnerBankFactory()
    start = after(three_days, partner, (6, BURN))
    run_cycles(partner, start, start + 2 * HOUR, every=10 * MINUTE)
    alert = OperationalAlert.objects.get(status="open")
    operator = monitor_viewer()

    event = services.operational_alert_accept(alert=alert, by=operator)

    alert.refresh_from_db()
    assert event.type == OperationalAlertEventType.ACCEPTED
    assert (alert.status, alert.accepted_by) == ("resolved", operator)
    with pytest.raises(ValidationError, match="Only an open operational alert"):
        services.operational_alert_accept(alert=alert, by=operator)
    assert alert.events.filter(type=OperationalAlertEventType.ACCEPTED).count() == 1
    # From then on the baseline starts at the shift: too little of it yet to judge
    persistence, threshold = failed_rate_at(partner, start + 2 * HOUR + 30 * MINUTE)
    assert persistence["severity"] == HealthSeverity.HEALTHY
    assert "too little history" in threshold["reason"]
