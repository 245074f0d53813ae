"""The staff dashboard ``/monitor/``."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from .helpers import MINUTE, T0, monitor_viewer, seed_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    partner = PartnerBankFactory()
    seed_history(
        partner, start=T0 - 1440 * MINUTE, minutes=1441, outage=(T0 - 20 * MINUTE, T0 + MINUTE)
    )
    return partner


def test_staff_see_badges_persistence_and_charts(partner):
    response = logged_in(monitor_viewer()).get(
        "/monitor/", {"partner": partner.slug, "window": "6h", "at": "2026-03-02T12:00:00Z"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="opsev opsev-INFO"' in html  # failed rate: 21 minutes above threshold
    assert "vendor/chartjs/chart.umd.min.js" in html
    charts = response.context["charts"]
    failed = charts["metrics"]["failed_rate"]
    assert len(charts["labels"]) == 360
    assert failed["anomalous"][-21:] == [True] * 21 and not any(failed["anomalous"][:-21])
    assert failed["threshold"][-1] is not None


def test_the_all_window_is_bucketed(partner):
    response = logged_in(monitor_viewer()).get(
        "/monitor/data", {"partner": partner.slug, "window": "all", "at": "2026-03-02T12:00:00Z"}
    )

    body = json.loads(response.content)
    assert body["charts"]["bucket_minutes"] == 3
    assert len(body["charts"]["labels"]) <= 720
    assert body["persistence_analysis"]["failed_rate"]["severity"] == "INFO"


def test_people_without_the_permission_are_refused(partner):
    plain = User.objects.create_user("plain", password="pw")
    assert logged_in(plain).get("/monitor/").status_code == 403
    assert Client().get("/monitor/").status_code == 302  # to the login page


def test_the_page_opens_on_every_partner_busiest_first_with_its_worst_severity(partner):
    # Given a busy partner in an outage, a quieter healthy one, and one with no traffic
    # whose name sorts first
    quieter = PartnerBankFactory(name="Quieter bank")
    seed_history(quieter, start=T0 - 1440 * MINUTE, minutes=1441, per_acquirer=40)
    idle = PartnerBankFactory(name="Aardvark idle bank")
    viewer = logged_in(monitor_viewer())

    # When staff open the monitor
    response = viewer.get("/monitor/", {"at": "2026-03-02T12:00:00Z"})

    # Then they see every partner, busiest first, each with its worst severity
    rows = response.context["overview"]
    assert [row["partner"] for row in rows] == [partner.slug, quieter.slug, idle.slug]
    assert [row["severity"] for row in rows] == ["INFO", "HEALTHY", "HEALTHY"]
    assert rows[0]["worst_metric"] == "failed_rate" and rows[0]["consecutive_minutes"] == 21
    assert rows[0]["transactions_last_hour"] == 60 * 200
    html = response.content.decode()
    assert f'href="?partner={partner.slug}"' in html
    assert "chart-failed_rate" not in html  # no partner's detail until one is chosen
    # And the feed says the same
    body = json.loads(viewer.get("/monitor/data", {"at": "2026-03-02T12:00:00Z"}).content)
    assert body["partner"] is None
    assert [row["partner"] for row in body["partners"]] == [partner.slug, quieter.slug, idle.slug]
    # And choosing a partner shows its detail
    detail = viewer.get("/monitor/", {"partner": partner.slug, "at": "2026-03-02T12:00:00Z"})
    assert "chart-failed_rate" in detail.content.decode()
    assert viewer.get("/monitor/", {"partner": "no-such-bank"}).status_code == 404
