"""The second factor: officers, seniors, administrators and superusers enrol a TOTP app and
verify a code after every password login; until then staff pages and the staff API refuse them.

Codes are computed from the device's secret with django-otp's own RFC 6238 function, the way
an authenticator app computes them.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from sentinel.accounts.testing import otp_code, otp_device

from . import factories as f

pytestmark = pytest.mark.django_db


def _password_login(user) -> Client:
    """A browser that passed the password step only, through the real login page."""
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": f.PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("make", [f.officer, f.senior, f.administrator, f.superuser])
def test_a_role_with_approval_powers_is_refused_everywhere_until_it_enrols(make):
    # Given an officer (senior, administrator, superuser) who passed the password step only
    client = _password_login(make())

    # Then staff pages send her to enrolment, keeping where she was going
    for page in ("/", "/cases/", "/monitor/", "/admin/"):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/account/otp/enrol/?next=")
    # and the staff API refuses her session
    api = client.get("/api/v1/alerts/")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "otp_required"


def test_enrolment_shows_the_secret_and_a_qr_code_and_a_right_code_lets_her_in():
    # Given an officer after her password, on the enrolment page
    officer = f.officer("olga")
    client = _password_login(officer)
    page = client.get("/account/otp/enrol/?next=/cases/")
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    secret = re.search(r'<code id="otp-secret">([A-Z2-7]+)</code>', html).group(1)
    assert "<svg" in html
    assert "otpauth://totp/Sentinel%3Aolga?secret=" + secret in html

    # When she enters the code her app shows
    response = client.post("/account/otp/enrol/", {"code": otp_code(device), "next": "/cases/"})

    # Then her device is confirmed and she reaches the page and the API
    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/cases/").status_code == 200
    assert client.get("/api/v1/alerts/").status_code == 200


def test_a_wrong_code_is_refused_with_a_clear_message():
    officer = f.officer()
    device = otp_device(officer)
    client = _password_login(officer)
    wrong = str((int(otp_code(device)) + 1) % 1_000_000).zfill(6)

    response = client.post("/account/otp/verify/", {"code": wrong, "next": "/"})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/alerts/").status_code == 403


def test_with_a_device_every_login_asks_for_a_code_and_the_right_one_lets_her_in():
    # Given a senior investigator with an enrolled device, after her password
    senior = f.senior()
    device = otp_device(senior)
    client = _password_login(senior)
    assert client.get("/cases/")["Location"] == "/account/otp/verify/?next=%2Fcases%2F"

    # When she enters her current code
    response = client.post("/account/otp/verify/", {"code": otp_code(device), "next": "/cases/"})

    # Then she is in, and the same code cannot be used again
    assert response["Location"] == "/cases/"
    assert client.get("/cases/").status_code == 200
    again = _password_login(senior)
    replay = again.post("/account/otp/verify/", {"code": otp_code(device), "next": "/"})
    assert replay.status_code == 200
    assert again.get("/").status_code == 302


def test_a_password_alone_cannot_enrol_a_second_device():
    # Given an officer's password in the wrong hands, her device enrolled already
    officer = f.officer()
    otp_device(officer)
    client = _password_login(officer)

    # When the intruder opens the enrolment page
    response = client.get("/account/otp/enrol/")

    # Then they are sent to verification, and no new device exists
    assert response["Location"].startswith("/account/otp/verify/")
    assert TOTPDevice.objects.filter(user=officer).count() == 1


def test_investigators_need_no_code_unless_they_enrolled_one():
    # Without a device an investigator works after her password
    plain = _password_login(f.investigator())
    assert plain.get("/").status_code == 200
    assert plain.get("/api/v1/alerts/").status_code == 200

    # With one, she verifies it like anyone else
    careful = f.investigator()
    otp_device(careful)
    client = _password_login(careful)
    assert client.get("/")["Location"].startswith("/account/otp/verify/")


def test_an_outside_next_after_verification_lands_on_the_home_page():
    officer = f.officer()
    device = otp_device(officer)
    client = _password_login(officer)

    response = client.post(
        "/account/otp/verify/", {"code": otp_code(device), "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_the_session_id_changes_once_the_code_is_verified():
    officer = f.officer()
    device = otp_device(officer)
    client = _password_login(officer)
    before = client.session.session_key

    client.post("/account/otp/verify/", {"code": otp_code(device)})

    assert client.session.session_key != before
    assert client.get("/").status_code == 200
