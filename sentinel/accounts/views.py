"""The second factor in the browser: enrol a TOTP app once, then verify a code after each login."""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from .forms import OtpCodeForm
from .selectors import user_has_device

WRONG_CODE = "That code is not right (or was already used). Wait for the next one and try again."


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else "/"


def _with_next(name: str, request):
    return redirect(f"{reverse(name)}?{urlencode({'next': _next(request)})}")


def _verified(request, device):
    django_otp.login(request, device)
    request.session.cycle_key()  # a new session id once the second factor is proven
    return redirect(_next(request))


@never_cache
@login_required
def otp_verify(request):
    devices = list(devices_for_user(request.user, confirmed=True))
    if not devices:
        return _with_next("otp-enrol", request)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            if device.verify_token(form.cleaned_data["code"]):  # throttled per device
                return _verified(request, device)
        form.add_error("code", WRONG_CODE)
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request)})


@never_cache
@login_required
def otp_enrol(request):
    """Only for an account with no confirmed device: a second device is added by a superuser,
    never by whoever holds the password alone."""
    if user_has_device(request.user):
        return _with_next("otp-verify", request)
    device, _ = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            return _verified(request, device)
        form.add_error("code", WRONG_CODE)
    uri = device.config_url
    svg = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).to_string(
        encoding="unicode"
    )
    context = {
        "form": form,
        "next": _next(request),
        "qr_svg": svg,
        "otpauth_uri": uri,
        "secret": b32encode(device.bin_key).decode(),
    }
    return render(request, "accounts/otp_enrol.html", context)
