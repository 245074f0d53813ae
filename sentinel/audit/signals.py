"""Django's login signals, handed to the audit services."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import services
from .middleware import client_address


def _where(request) -> dict:
    if request is None:  # authenticate() called outside a request (a shell, a test)
        return {"method": "", "path": "", "ip_address": None}
    return {"method": request.method, "path": request.path, "ip_address": client_address(request)}


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs) -> None:
    services.audit_login(user=user, **_where(request))


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    services.audit_login_failed(username=credentials.get("username", ""), **_where(request))
