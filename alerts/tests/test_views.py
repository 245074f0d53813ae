"""The investigator's home page shows the alert feed (server-rendered, so it works without
JavaScript) and, in a real browser, new alerts arriving live."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from alerts.models import Alert
from sentinel.testing import logged_in
from transactions.tests.factories import PartnerBankFactory

from .test_services import _pay, _rule, ingest_and_score, investigator, staff

PASSWORD = "correct horse battery staple"


@pytest.mark.django_db
def test_the_home_page_lists_the_newest_alerts_with_the_open_count():
    partner = PartnerBankFactory()
    _rule(severity="critical")
    ingest_and_score(partner, _pay())
    alert = Alert.objects.get()

    page = logged_in(investigator()).get("/").content.decode()

    assert 'id="alert-count" aria-live="polite">1</span>' in page
    assert f'data-alert-id="{alert.pk}"' in page
    assert 'class="sev sev-critical"' in page
    assert "Partner traffic" in page


@pytest.mark.django_db
def test_staff_who_may_not_see_alerts_get_no_feed():
    page = logged_in(staff()).get("/").content.decode()
    assert "alert-feed" not in page
    assert "Partner traffic" in page


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_a_new_alert_appears_at_the_top_without_a_reload(asgi_server, page):
    # Given an investigator on her home page, with no alert yet
    user = investigator()
    user.set_password(PASSWORD)
    user.save()
    partner = PartnerBankFactory()
    _rule(severity="high")
    page.goto(f"{asgi_server}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{asgi_server}/")
    assert page.locator("#alert-count").inner_text() == "0"
    time.sleep(0.5)  # the feed's websocket connects

    # When a transaction hits a live rule (scored on a worker thread: Playwright's event loop
    # runs on this one, where Django would refuse the after-commit push as "async")
    def score():
        try:
            ingest_and_score(partner, _pay(amount="5000.00"))
        finally:
            connection.close()

    worker = threading.Thread(target=score)
    worker.start()
    worker.join(30)
    alert = Alert.objects.get()
    connection.close()  # Playwright's loop made this thread "async": its connection is extra

    # Then the alert is added at the top, in its severity colour, and the counter moves
    row = page.locator(f'#alert-feed tr[data-alert-id="{alert.pk}"]')
    row.wait_for()
    assert row.locator(".sev-high").inner_text().lower() == "high"
    assert page.locator("#alert-count").inner_text() == "1"
