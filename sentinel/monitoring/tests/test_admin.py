"""The admin's "Accept as the new normal" action on operational alerts."""

from __future__ import annotations

import pytest

from sentinel.monitoring.choices import HealthSeverity, Metric, OperationalAlertEventType
from sentinel.monitoring.models import OperationalAlert
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from .helpers import T0, monitor_viewer

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/monitoring/operationalalert/"


def open_alert() -> OperationalAlert:
    return OperationalAlert.objects.create(
        partner=PartnerBankFactory(),
        metric=Metric.FAILED_RATE,
        severity=HealthSeverity.SEVERE,
        started_minute=T0,
        last_minute=T0,
        persistence_minutes=360,
    )


def accept(client, alert):
    return client.post(
        CHANGELIST,
        {"action": "accept_as_new_normal", "_selected_action": [alert.pk]},
        follow=True,
    )


def test_an_administrator_accepts_an_open_alert_as_the_new_normal(admin_client, admin_user):
    alert = open_alert()

    response = accept(admin_client, alert)

    alert.refresh_from_db()
    assert (alert.status, alert.accepted_by) == ("resolved", admin_user)
    assert alert.events.get().type == OperationalAlertEventType.ACCEPTED
    assert "accepted as the new normal" in response.content.decode()
    # A second time is refused, saying why, and changes nothing
    again = accept(admin_client, alert)
    assert "Only an open operational alert" in again.content.decode()
    assert alert.events.count() == 1


def test_an_investigator_may_look_but_not_accept():
    alert = open_alert()
    investigator = logged_in(monitor_viewer())

    response = accept(investigator, alert)

    alert.refresh_from_db()
    assert alert.status == "open" and not alert.events.exists()
    assert "You may not accept operational alerts." in response.content.decode()
