"""Four eyes on the learned score: a version goes live only when a second compliance officer
approves; a rollback is one click (it restores the version approved before, or none).

Follows rules.services.changes: one pending change at a time, the request pins its version,
the database refuses an approval by the asker, and the approver may not be who trained it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from sentinel.four_eyes import actor_require, request_decide

from .. import scoring, selectors
from ..choices import ModelChangeAction, ModelChangeState, ModelStatus
from ..models import ModelChange, ModelVersion

APPROVE_PERMISSION = "riskmodel.approve_modelchange"
REQUEST_PERMISSION = "riskmodel.change_modelversion"
AT_ONCE = "Takes effect without approval: restores the version approved before."
_ONE_PENDING = "Another model change is awaiting approval; approve, reject or withdraw it first."


def model_live_request(*, version: ModelVersion, actor, comment: str = "") -> ModelChange:
    """Ask for a shadow (or retired) version to go live; waits for a second officer."""
    actor_require(actor, REQUEST_PERMISSION, "Only compliance officers ask for a model to go live.")
    with db_transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.status == ModelStatus.LIVE:
            raise ValidationError(f"Model v{version.number} is live already.")
        if selectors.change_pending() is not None:
            raise ValidationError(_ONE_PENDING)
        try:
            # Two officers asking at once for two versions both pass the check above: the
            # database's one-pending constraint decides, and the loser hears why.
            with db_transaction.atomic():
                return ModelChange.objects.create(
                    model_version=version,
                    action=ModelChangeAction.GO_LIVE,
                    requested_by=actor,
                    comment=comment,
                )
        except IntegrityError as error:
            if "model_change_one_pending" not in str(error):
                raise
            raise ValidationError(_ONE_PENDING) from error


def model_change_refusal(*, change: ModelChange, approver) -> str | None:
    """Why this person may not approve this change, or None."""
    if not approver.has_perm(APPROVE_PERMISSION):
        return "Only compliance officers approve model changes."
    if approver.pk == change.requested_by_id:
        return "A change must be approved by another compliance officer than the one who asked."
    if approver.pk == change.model_version.trained_by_id:
        return "You trained this model version; another officer must approve it."
    return None


def model_change_approve(*, change: ModelChange, approver, comment: str = "") -> ModelVersion:
    """Put the change's version live: the live one before it is retired and remembered as
    what a rollback restores."""
    with db_transaction.atomic():
        change = (
            ModelChange.objects.select_for_update()
            .select_related("model_version")
            .get(pk=change.pk)
        )
        if change.state != ModelChangeState.PENDING:
            raise ValidationError("This change was decided already.")
        if refusal := model_change_refusal(change=change, approver=approver):
            raise PermissionDenied(refusal)
        version = change.model_version
        previous = ModelVersion.objects.select_for_update().filter(status=ModelStatus.LIVE).first()
        if previous is not None:
            previous.status = ModelStatus.RETIRED
            previous.save(update_fields=["status"])
        version.status, version.replaced = ModelStatus.LIVE, previous
        version.went_live_at = timezone.now()
        version.save(update_fields=["status", "replaced", "went_live_at"])
        request_decide(change, ModelChangeState.APPROVED, approver, comment)
        scoring.models_changed()
    return version


def model_change_reject(*, change: ModelChange, approver, comment: str = "") -> ModelChange:
    with db_transaction.atomic():
        change = ModelChange.objects.select_for_update().get(pk=change.pk)
        if change.state != ModelChangeState.PENDING:
            raise ValidationError("This change was decided already.")
        if approver.pk == change.requested_by_id:
            raise PermissionDenied("Withdraw your own request instead of rejecting it.")
        actor_require(
            approver, APPROVE_PERMISSION, "Only compliance officers reject model changes."
        )
        return request_decide(change, ModelChangeState.REJECTED, approver, comment)


def model_change_withdraw(*, change: ModelChange, actor) -> ModelChange:
    with db_transaction.atomic():
        change = ModelChange.objects.select_for_update().get(pk=change.pk)
        if change.state != ModelChangeState.PENDING or change.requested_by_id != actor.pk:
            raise ValidationError("Only a pending change's requester may withdraw it.")
        change.state, change.decided_at = ModelChangeState.WITHDRAWN, timezone.now()
        change.save(update_fields=["state", "decided_at"])
        return change


def model_rollback(*, actor, comment: str = "") -> ModelVersion | None:
    """One click: retire the live version and put back the one it replaced (approved when it
    went live); with none before it, no model is live and ``model.score`` is null. Returns
    the version live now."""
    actor_require(actor, REQUEST_PERMISSION, "Only compliance officers roll a model back.")
    with db_transaction.atomic():
        live = ModelVersion.objects.select_for_update().filter(status=ModelStatus.LIVE).first()
        if live is None:
            raise ValidationError("No model is live: nothing to roll back.")
        live.status = ModelStatus.RETIRED
        live.save(update_fields=["status"])
        restored = live.replaced
        if restored is not None:
            restored = ModelVersion.objects.select_for_update().get(pk=restored.pk)
            restored.status = ModelStatus.LIVE
            restored.save(update_fields=["status"])
        ModelChange.objects.create(
            model_version=live,
            action=ModelChangeAction.ROLLBACK,
            state=ModelChangeState.APPROVED,
            requested_by=actor,
            comment=comment,
            decided_at=timezone.now(),
            decision_comment=AT_ONCE,
        )
        scoring.models_changed()
    return restored
