"""Saved views of the alert queue: a person names the filters they use and finds them again."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.http import QueryDict

from ..models import AlertQueueView
from .permissions import require

VIEW_PERMISSION = "alerts.view_alert"
# Positions and one-off parameters are not part of a view: it always opens on the first page.
NOT_SAVED = ("cursor", "page_size")


def alert_queue_view_save(*, user, name: str, query: str) -> AlertQueueView:
    """Save (or, under a name the user already has, replace) the queue's query string."""
    require(user, VIEW_PERMISSION, "see alerts")
    name = (name or "").strip()
    parameters = QueryDict(query.lstrip("?"), mutable=True)
    for key in NOT_SAVED:
        parameters.pop(key, None)
    view = AlertQueueView(user=user, name=name, query=parameters.urlencode())
    view.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    with db_transaction.atomic():
        try:
            view, _ = AlertQueueView.objects.update_or_create(
                user=user, name=name, defaults={"query": view.query}
            )
        except IntegrityError:  # a concurrent save of the same name
            raise ValidationError({"name": ["A view of that name was just saved."]}) from None
    return view


def alert_queue_view_delete(*, view: AlertQueueView, user) -> None:
    """Only its owner deletes a saved view."""
    if view.user_id != getattr(user, "pk", None):
        raise PermissionDenied("This saved view is not yours.")
    view.delete()
