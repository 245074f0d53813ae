"""Test helpers for staff logins with a real second factor (tests only)."""

from __future__ import annotations

import django_otp
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.test.client import ClientMixin
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from .selectors import otp_required_for

_force_login = ClientMixin.force_login  # Django's own, before conftest makes it OTP-aware


def otp_device(user: AbstractBaseUser) -> TOTPDevice:
    """The user's confirmed TOTP device, enrolled now if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test device", confirmed=True)


def otp_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows now: RFC 6238 from the device's own secret."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(value).zfill(device.digits)


def verify_session(client: ClientMixin, user: AbstractBaseUser) -> None:
    """Mark the client's session as having passed the second factor, the way the verify page
    does, through django-otp's documented login function."""
    request = HttpRequest()
    request.session = client.session
    request.user = user
    django_otp.login(request, otp_device(user))
    request.session.save()


def login_verified(client: ClientMixin, user: AbstractBaseUser, backend: str | None = None):
    """Log in and, for the roles that need it, pass the second factor: a staff session as it
    is after the login and verification pages."""
    _force_login(client, user, backend)
    if otp_required_for(user):
        verify_session(client, user)


def pass_second_factor_in_browser(page, username: str) -> None:
    """After the password step in a Playwright page: if the second-factor page came up, enter
    the code the user's authenticator app would show (enrolling on first use)."""
    page.wait_for_url(lambda url: "/login/" not in url)
    if "/account/otp/" not in page.url:
        return
    device = TOTPDevice.objects.filter(user__username=username).latest("pk")
    page.get_by_label("Code from your authenticator app").fill(otp_code(device))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/account/otp/" not in url)
