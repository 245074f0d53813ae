"""The audit trail's writes from Python: logins, failed logins and refusals. Changes to
audited rows are written by the database trigger (sentinel.audit.triggers), never here."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

from .choices import AuditAction
from .models import MAX_PATH, MAX_USERNAME, AuditEvent


def _user_fields(user) -> dict:
    # Anonymous callers and partner banks' API principals (not staff users) name no actor.
    if not isinstance(user, AbstractBaseUser) or not user.is_authenticated:
        return {}
    return {"actor_id": user.pk, "actor_username": user.get_username()[:MAX_USERNAME]}


def _record(*, action: str, method: str, path: str, ip_address: str | None, **fields) -> None:
    AuditEvent.objects.create(
        action=action,
        method=(method or "")[:10],
        path=(path or "")[:MAX_PATH],
        ip_address=ip_address,
        **fields,
    )


def audit_login(*, user, method: str, path: str, ip_address: str | None) -> None:
    _record(
        action=AuditAction.LOGIN,
        method=method,
        path=path,
        ip_address=ip_address,
        **_user_fields(user),
    )


def audit_login_failed(*, username: str, method: str, path: str, ip_address: str | None) -> None:
    """A failed login names what was typed as the username (never the password)."""
    _record(
        action=AuditAction.LOGIN_FAILED,
        method=method,
        path=path,
        ip_address=ip_address,
        actor_username=str(username or "")[:MAX_USERNAME],
    )


def audit_permission_denied(*, user, method: str, path: str, ip_address: str | None) -> None:
    _record(
        action=AuditAction.PERMISSION_DENIED,
        method=method,
        path=path,
        ip_address=ip_address,
        **_user_fields(user),
    )
