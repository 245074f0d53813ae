"""The one check every alert service makes before changing anything."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


def require(actor, permission: str, what: str) -> None:
    """PermissionDenied("You do not have permission to <what>.") unless the actor holds it."""
    if actor is None or not actor.has_perm(permission):
        raise PermissionDenied(f"You do not have permission to {what}.")
