"""Failed logins: five wrong passwords lock that username from that address for a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client

from . import factories as f

pytestmark = pytest.mark.django_db

HOME = "10.0.0.1"
ELSEWHERE = "10.0.0.2"


def _attempt(path: str, username: str, password: str, address: str = HOME):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_sixth_attempt_after_five_wrong_passwords_is_locked_out(path):
    # Given an investigator and five wrong passwords from one address
    f.investigator("ines")
    answers = [_attempt(path, "ines", "guess").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]  # the 5th failure locks at once

    # When the sixth attempt brings the right password
    locked = _attempt(path, "ines", f.PASSWORD)

    # Then it is refused with a clear message, and no session was started
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page
    assert "after\n  5 wrong passwords. Try again in\n  15 minutes" in page
    assert "_auth_user_id" not in locked.client.session


def test_four_wrong_passwords_then_the_right_one_logs_in_and_resets_the_count():
    f.investigator("ines")
    for _ in range(4):
        assert _attempt("/login/", "ines", "guess").status_code == 200

    assert _attempt("/login/", "ines", f.PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="ines").exists()


def test_a_lockout_holds_for_that_address_only_and_ends_after_the_cool_off():
    f.investigator("ines")
    for _ in range(5):
        _attempt("/login/", "ines", "guess")

    # Another address is not locked out by someone guessing elsewhere
    assert _attempt("/login/", "ines", f.PASSWORD, address=ELSEWHERE).status_code == 302
    assert _attempt("/login/", "ines", f.PASSWORD).status_code == 429

    # Once the cool-off period has passed since the last failure, the right password works
    AccessAttempt.objects.filter(username="ines").update(
        attempt_time=AccessAttempt.objects.get(username="ines").attempt_time - timedelta(minutes=16)
    )
    assert _attempt("/login/", "ines", f.PASSWORD).status_code == 302
