"""Four eyes, the parts every approval shares: who asked and who decided (RuleChange,
ModelChange, ParameterChange inherit ``FourEyesRequest``), the database's refusal of an
approval by the asker, and the small writes of deciding a request and checking an actor.

Each app keeps its own request model (what it is about, its state's choices) and its own
rules of who may approve beyond "not the asker" (a rule's editors, a model's trainer, a
parameter version's author).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class RequestState(models.TextChoices):
    """Where a four-eyes request stands (rules' ChangeState, riskmodel's ModelChangeState and
    network's ParameterChangeState are this)."""

    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


PENDING = RequestState.PENDING


class FourEyesRequest(models.Model):
    """A request that a second person decides: asked by ``requested_by``, approved, rejected
    or withdrawn at ``decided_at`` (by ``decided_by``, never the asker)."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    class Meta:
        abstract = True


def four_eyes_constraints(prefix: str) -> list[models.CheckConstraint]:
    """The database refuses an approval by the asker, and a decision without its time."""
    return [
        models.CheckConstraint(
            condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
            name=f"{prefix}_four_eyes",
        ),
        models.CheckConstraint(
            condition=Q(state=PENDING) | Q(decided_at__isnull=False),
            name=f"{prefix}_decided_has_time",
        ),
    ]


def request_decide(request: FourEyesRequest, state: str, decided_by, comment: str):
    """Record the decision on a pending request (the caller holds its lock)."""
    request.state, request.decided_by, request.decided_at = state, decided_by, timezone.now()
    request.decision_comment = comment
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_comment"])
    return request


def actor_require(actor, permission: str, message: str) -> None:
    """PermissionDenied(message) unless ``actor`` is a stored user holding ``permission``."""
    if actor is None or not getattr(actor, "pk", None) or not actor.has_perm(permission):
        raise PermissionDenied(message)
