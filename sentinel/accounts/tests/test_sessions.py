"""Staff sessions end after 30 idle minutes and after 12 hours in any case."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from sentinel.accounts.signals import SESSION_SEEN, SESSION_STARTED

from . import factories as f

pytestmark = pytest.mark.django_db
MINUTE = 60


def _logged_in(**clocks_ago: int) -> Client:
    """An investigator's browser whose session clocks read the given seconds ago."""
    client = Client()
    client.force_login(f.investigator())
    session = client.session
    now = int(time.time())
    for key, ago in (("started", clocks_ago.get("started", 0)), ("seen", clocks_ago["seen"])):
        session[SESSION_STARTED if key == "started" else SESSION_SEEN] = now - ago
    session.save()
    return client


def test_an_active_session_stays_and_records_the_visit():
    client = _logged_in(seen=5 * MINUTE, started=2 * 3600)

    assert client.get("/").status_code == 200
    assert int(time.time()) - client.session[SESSION_SEEN] < MINUTE


def test_thirty_one_idle_minutes_log_the_page_out_with_a_message():
    client = _logged_in(seen=31 * MINUTE)

    response = client.get("/cases/", follow=True)

    assert response.redirect_chain[0][0] == "/login/?next=%2Fcases%2F"
    assert "Your session expired; please log in again." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_idle_session_gets_a_401_from_the_staff_api():
    client = _logged_in(seen=31 * MINUTE)

    response = client.get("/api/v1/alerts/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"
    assert client.get("/api/v1/alerts/").status_code in (401, 403)


def test_no_session_outlives_twelve_hours_however_active():
    client = _logged_in(seen=10, started=12 * 3600 + 1)

    assert client.get("/")["Location"] == "/login/?next=%2F"
    assert "_auth_user_id" not in client.session
