"""The alert page: what fired and why, and the investigator's actions as plain forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from alerts import services
from alerts.models import Alert, Snooze
from alerts.tests.test_services import _pay, _rule, ingest_and_score, investigator, staff
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(alerts_wired):
    _rule(code="big_amount")
    ingest_and_score(PartnerBankFactory(), _pay(amount="5000.00"))
    return Alert.objects.get()


def test_the_page_shows_the_explanation_and_history(alert, django_assert_max_num_queries):
    browser = logged_in(investigator())
    with django_assert_max_num_queries(20):
        page = browser.get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "big_amount on A1" in html
    assert "<code>amount = 5,000.00 &gt;= 1,000</code>" in html  # why the rule fired
    assert "<dd>5,000.00 USD</dd>" in html  # the amount involved
    assert "Created" in html and "by Sentinel" in html


def test_acknowledge_then_dismiss_with_a_reason(alert):
    browser = logged_in(investigator())

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
    browser = logged_in(investigator())

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
    reader = logged_in(staff("view_alert"))
    page = reader.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Acknowledge</button>" not in page
    assert "Snooze</button>" not in page
    reader.post(f"/alerts/{alert.pk}/acknowledge/")
    assert Alert.objects.get().status == "new"
    assert logged_in(staff()).get(f"/alerts/{alert.pk}/").status_code == 403
    assert Client().get(f"/alerts/{alert.pk}/").status_code == 302  # to the login page


def test_the_admin_shows_alerts_snoozes_and_webhooks_read_only(alert):
    admin_user = User.objects.create_superuser("root", password="pw")
    snooze = services.snooze_create(
        rule=alert.rule,
        partner=alert.partner,
        account_external_id="A1",
        ends_at=timezone.now() + timedelta(days=3),
        comment="Payroll.",
        actor=investigator(),
    )
    browser = logged_in(admin_user)
    for path in [
        "/admin/alerts/alert/",
        f"/admin/alerts/alert/{alert.pk}/change/",
        "/admin/alerts/snooze/",
        f"/admin/alerts/snooze/{snooze.pk}/change/",
        "/admin/alerts/webhookendpoint/",
        "/admin/alerts/webhookdelivery/",
    ]:
        assert browser.get(path).status_code == 200, path
    assert browser.get("/admin/alerts/alert/add/").status_code == 403
