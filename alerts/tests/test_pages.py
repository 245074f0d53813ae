"""The alert page: what fired and why, and the investigator's actions as plain forms."""

from __future__ import annotations

import pytest
from django.test import Client

from alerts.models import Alert, Snooze
from alerts.tests.test_services import _pay, _rule, ingest_and_score, investigator, staff
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(alerts_wired):
    _rule(code="big_amount")
    ingest_and_score(PartnerBankFactory(), _pay(amount="5000.00"))
    return Alert.objects.get()


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_explanation_and_history(alert, django_assert_max_num_queries):
    browser = _browser(investigator())
    with django_assert_max_num_queries(20):
        page = browser.get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "big_amount on A1" in html
    assert "amount = 5,000.00" in html or "5,000.00" in html
    assert "Created" in html and "by Sentinel" in html


def test_acknowledge_then_dismiss_with_a_reason(alert):
    browser = _browser(investigator())

    browser.post(f"/alerts/{alert.pk}/acknowledge/")
    refused = browser.post(f"/alerts/{alert.pk}/dismiss/", {"reason": "  "}, follow=True)
    assert "A reason" in refused.content.decode()
    assert Alert.objects.get().status == "acknowledged"
    done = browser.post(f"/alerts/{alert.pk}/dismiss/", {"reason": "Known payee."}, follow=True)

    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason) == ("dismissed", "Known payee.")
    assert "Dismissed." in done.content.decode()
    again = browser.post(f"/alerts/{alert.pk}/acknowledge/", follow=True)
    assert "Only a new alert can be acknowledged" in again.content.decode()


def test_snooze_from_the_page_and_lift_it(alert):
    browser = _browser(investigator())

    bad = browser.post(f"/alerts/{alert.pk}/snooze/", {"days": 400, "comment": "x"}, follow=True)
    assert "Not snoozed" in bad.content.decode()
    assert not Snooze.objects.exists()
    browser.post(f"/alerts/{alert.pk}/snooze/", {"days": 30, "comment": "Payroll."})
    snooze = Snooze.objects.get()
    assert snooze.is_active
    browser.post(f"/alerts/snoozes/{snooze.pk}/lift/", {"next": f"/alerts/{alert.pk}/"})
    snooze.refresh_from_db()
    assert not snooze.is_active


def test_people_who_only_read_see_no_actions_and_cannot_act(alert):
    reader = _browser(staff("view_alert"))
    page = reader.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Acknowledge</button>" not in page
    assert "Snooze</button>" not in page
    reader.post(f"/alerts/{alert.pk}/acknowledge/")
    assert Alert.objects.get().status == "new"
    assert _browser(staff()).get(f"/alerts/{alert.pk}/").status_code == 403
    assert Client().get(f"/alerts/{alert.pk}/").status_code == 302  # to the login page
