"""Staff users for the staff-access tests."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group, Permission, User

from sentinel.roles import ADMINISTRATOR, COMPLIANCE_OFFICER, INVESTIGATOR, SENIOR_INVESTIGATOR

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def staff(*groups: str, username: str | None = None, **fields) -> User:
    """A staff user with PASSWORD in the named groups."""
    name = username or f"staff{next(_numbers)}"
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True, **fields)
    user.groups.add(*Group.objects.filter(name__in=groups))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def administrator(username: str | None = None) -> User:
    return staff(ADMINISTRATOR, username=username)


def officer(username: str | None = None) -> User:
    return staff(COMPLIANCE_OFFICER, username=username)


def senior(username: str | None = None) -> User:
    return staff(SENIOR_INVESTIGATOR, username=username)


def investigator(username: str | None = None) -> User:
    return staff(INVESTIGATOR, username=username)


def superuser(username: str = "root") -> User:
    return User.objects.create_superuser(username, password=PASSWORD)


def group(name: str) -> Group:
    return Group.objects.get(name=name)


def permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)
