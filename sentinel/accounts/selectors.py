"""Reads for staff access: whose sessions need a second factor, and their devices."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django_otp import devices_for_user

from sentinel.roles import OTP_REQUIRED_GROUPS


def user_has_device(user: AbstractBaseUser) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def otp_required_for(user: AbstractBaseUser) -> bool:
    """Superusers, seniors, officers and administrators must verify a second factor; anyone
    who enrolled a device (an investigator may) must use it too. One query."""
    if user.is_superuser:
        return True
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(Q(groups__name__in=OTP_REQUIRED_GROUPS) | Q(totpdevice__confirmed=True))
        .exists()
    )
