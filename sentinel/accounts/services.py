"""Writes for staff access: who may change whose rights, and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sentinel.roles import APPROVAL_PERMISSIONS

from .models import ApiToken

TOKEN_PREFIX_LENGTH = 8


def _dotted(permissions: Iterable[Permission]) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def user_rights(user: AbstractUser) -> set[str]:
    """Every permission the account holds, directly or through its groups ("app.codename")."""
    if user.pk is None:
        return set()
    direct = Permission.objects.filter(user=user).select_related("content_type")
    grouped = Permission.objects.filter(group__user=user).select_related("content_type")
    return _dotted(direct) | _dotted(grouped)


def user_access_check(
    *,
    editor: AbstractUser,
    user: AbstractUser | None,
    groups: Iterable[Group],
    permissions: Iterable[Permission],
    is_staff: bool,
    is_superuser: bool,
    is_active: bool,
) -> None:
    """Refuse, with one message per field, a change of rights the editor may not make.

    `user` is the account as stored (None for a new one); the other arguments are what the
    editor asks for. Nobody changes their own rights; a superuser alone makes or edits
    superusers and grants the four-eyes approvals; anyone else grants only groups and
    permissions they hold, and manages only accounts whose rights are within their own.
    """
    groups, permissions = set(groups), set(permissions)
    errors: dict[str, list[str]] = {}
    old_groups = set(user.groups.all()) if user and user.pk else set()
    old_permissions = set(user.user_permissions.all()) if user and user.pk else set()
    added_groups, added_permissions = groups - old_groups, permissions - old_permissions

    if user is not None and user.pk == editor.pk:
        changed = {
            "groups": groups != old_groups,
            "user_permissions": permissions != old_permissions,
            "is_staff": is_staff != user.is_staff,
            "is_superuser": is_superuser != user.is_superuser,
            "is_active": is_active != user.is_active,
        }
        for field, did_change in changed.items():
            if did_change:
                errors[field] = ["You cannot change the rights of your own account."]
        if errors:
            raise ValidationError(errors)
        return

    if editor.is_superuser:
        return
    if user is not None and user.pk and user.is_superuser:
        raise ValidationError("Only a superuser can change a superuser's account.")
    reach = user_rights(editor) - APPROVAL_PERMISSIONS
    if user is not None and user.pk and not user_rights(user) <= reach:
        raise ValidationError(
            "This account holds rights you do not hold, or approval rights; only a superuser "
            "can change it."
        )
    if is_superuser and not (user and user.is_superuser):
        errors["is_superuser"] = ["Only a superuser can grant superuser status."]
    editor_groups = set(editor.groups.all())
    editor_rights = user_rights(editor)
    group_problems = [
        f"You cannot grant the group “{group.name}”: you do not hold it."
        for group in sorted(added_groups - editor_groups, key=lambda g: g.name)
    ]
    for group in sorted(added_groups & editor_groups, key=lambda g: g.name):
        if _dotted(group.permissions.select_related("content_type")) & APPROVAL_PERMISSIONS:
            group_problems.append(
                f"Only a superuser can grant the group “{group.name}”: it approves others' work."
            )
    if group_problems:
        errors["groups"] = group_problems
    permission_problems = []
    for dotted in sorted(_dotted(added_permissions)):
        if dotted in APPROVAL_PERMISSIONS:
            permission_problems.append(f"Only a superuser can grant “{dotted}”.")
        elif dotted not in editor_rights:
            permission_problems.append(f"You cannot grant “{dotted}”: you do not hold it.")
    if permission_problems:
        errors["user_permissions"] = permission_problems
    if errors:
        raise ValidationError(errors)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(
    *, user: AbstractUser, name: str, lifetime: timedelta | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it and its secret, which is never stored or shown again."""
    days = settings.SENTINEL_API_TOKEN_DAYS
    lifetime = lifetime if lifetime is not None else timedelta(days=days)
    if lifetime <= timedelta(0):
        raise ValidationError({"expires_at": ["A token must live for some time."]})
    now = timezone.now()
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        prefix=secret[:TOKEN_PREFIX_LENGTH],
        digest=_digest(secret),
        created_at=now,
        expires_at=now + lifetime,
    )
    token.full_clean()
    token.save()
    return token, secret


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop the token working at once; revoking twice keeps the first time."""
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    token.refresh_from_db()
    return token


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token with this secret (and its user, if active), noting when it was used.

    Looked up by digest, so no comparison leaks timing about stored secrets.
    """
    token = (
        ApiToken.objects.live()
        .select_related("user")
        .filter(digest=_digest(secret), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # At most one write a minute per token: a busy script should not write on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
