"""Four eyes on the network detectors' parameters: a compliance officer drafts a version and
asks for it to be put in force (or for an earlier one back: a rollback); a second officer
approves. Follows rules.services.changes and riskmodel.services.governance: one pending request
at a time, the request pins the version in force when it was made, the database refuses an
approval by the asker, and the approver may not be the version's author either.

Every write here is in the audit trail through the tables' triggers (sentinel.audit).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import Max

from sentinel.four_eyes import actor_require, request_decide
from transactions.models import PartnerBank

from . import runtime, selectors
from .choices import ParameterAction, ParameterChangeState
from .models import (
    BOUNDS,
    ParameterBacktest,
    ParameterChange,
    ParametersInForce,
    ParameterVersion,
)
from .tasks import run_parameter_backtest

DRAFT_PERMISSION = "network.add_parameterversion"
REQUEST_PERMISSION = "network.add_parameterchange"
APPROVE_PERMISSION = "network.approve_parameterchange"
# Who drafts a version back-tests it (any version, before asking for it or after).
BACKTEST_PERMISSION = DRAFT_PERMISSION
_ONE_PENDING = (
    "Another parameter change is awaiting approval; approve, reject or withdraw it first."
)


def parameter_version_create(*, author, comment: str, **values: object) -> ParameterVersion:
    """A new draft version: every parameter given (``BOUNDS`` names them), checked in full;
    nothing changes in the detectors until a second officer approves it in force."""
    actor_require(author, DRAFT_PERMISSION, "Only compliance officers draft detector parameters.")
    if missing := sorted(set(BOUNDS) - set(values)):
        raise ValidationError(f"Every parameter needs a value; missing: {', '.join(missing)}.")
    if unknown := sorted(set(values) - set(BOUNDS)):
        raise ValidationError(f"Unknown parameters: {', '.join(unknown)}.")
    with db_transaction.atomic():
        current = _in_force_row()  # locked: two drafts at once take turns for their number
        last = ParameterVersion.objects.aggregate(last=Max("number"))["last"] or 0
        version = ParameterVersion(
            number=last + 1,
            author=author,
            comment=comment.strip(),
            based_on_id=current.version_id if current else None,
            **values,
        )
        version.full_clean()
        version.save()
    return version


def parameter_backtest_request(
    *,
    version: ParameterVersion,
    partner: PartnerBank,
    occurred_after: datetime,
    occurred_before: datetime,
    actor,
) -> ParameterBacktest:
    """Queue a back-test of ``version`` over the partner's graph for the period, beside the
    version in force now; the Celery task runs it (backtests.py) and records its progress.
    Refused, with nothing written, when the period is reversed, longer than the graph keeps,
    or holds none of the partner's transfers."""
    actor_require(
        actor, BACKTEST_PERMISSION, "Only compliance officers back-test detector parameters."
    )
    if occurred_before <= occurred_after:
        raise ValidationError("The end of the period must come after its start.")
    kept = settings.SENTINEL_NETWORK_RETENTION_DAYS
    if occurred_before - occurred_after > timedelta(days=kept):
        raise ValidationError(
            f"A back-test covers at most {kept} days: the graph keeps no more "
            "(SENTINEL_NETWORK_RETENTION_DAYS)."
        )
    if not selectors.transfers_any(
        partner_id=partner.pk, after=occurred_after, before=occurred_before
    ):
        raise ValidationError(
            f"{partner.name} has no transfers in the graph from "
            f"{occurred_after:%Y-%m-%d %H:%M} to {occurred_before:%Y-%m-%d %H:%M} UTC: nothing "
            f"to replay (the graph keeps the last {kept} days)."
        )
    current = selectors.parameters_in_force()
    if current is None:
        raise ValidationError("No parameter version is in force to compare with.")
    backtest = ParameterBacktest.objects.create(
        version=version,
        baseline=current.version,
        partner=partner,
        occurred_after=occurred_after,
        occurred_before=occurred_before,
        requested_by=actor,
    )
    db_transaction.on_commit(lambda: run_parameter_backtest.delay(backtest.pk))
    return backtest


def parameter_change_request(
    *, version: ParameterVersion, actor, comment: str = ""
) -> ParameterChange:
    """Ask for ``version`` to be put in force; an earlier version than the one in force is a
    rollback. Waits for a second officer."""
    actor_require(
        actor, REQUEST_PERMISSION, "Only compliance officers ask for detector parameters."
    )
    with db_transaction.atomic():
        current = _in_force_row()
        if current is not None and current.version_id == version.pk:
            raise ValidationError(f"Version {version.number} is in force already.")
        if selectors.parameter_change_pending() is not None:
            raise ValidationError(_ONE_PENDING)
        rollback = current is not None and version.number < current.version.number
        try:
            # Two officers asking at once both pass the check above: the database's
            # one-pending constraint decides, and the loser hears why.
            with db_transaction.atomic():
                return ParameterChange.objects.create(
                    version=version,
                    base_version_id=current.version_id if current else None,
                    action=ParameterAction.ROLLBACK if rollback else ParameterAction.PUT_IN_FORCE,
                    requested_by=actor,
                    comment=comment,
                )
        except IntegrityError as error:
            if "parameter_change_one_pending" not in str(error):
                raise
            raise ValidationError(_ONE_PENDING) from error


def parameter_rollback_request(*, actor, comment: str = "") -> ParameterChange:
    """Ask for the latest version in force before the current one (an earlier number) to be
    put back, four eyes too. Repeated, it walks back through what was in force."""
    current = _in_force_row(lock=False)
    previous = selectors.parameter_version_before(current.version) if current else None
    if previous is None:
        raise ValidationError(
            "Nothing to roll back to: no earlier version was in force before this one."
        )
    return parameter_change_request(version=previous, actor=actor, comment=comment)


def parameter_change_refusal(*, change: ParameterChange, approver) -> str | None:
    """Why this person may not approve this change, or None. Checked again under lock."""
    if not approver.has_perm(APPROVE_PERMISSION):
        return "Only compliance officers approve detector parameters."
    if approver.pk == change.requested_by_id:
        return "A change must be approved by another compliance officer than the one who asked."
    if approver.pk == change.version.author_id:
        return f"You drafted version {change.version.number}; another officer must approve it."
    return None


def parameter_change_approve(
    *, change: ParameterChange, approver, comment: str = ""
) -> ParametersInForce:
    """Put the change's version in force, if the version in force is still the one the
    request was made on; every process runs with it within half a second of the commit."""
    with db_transaction.atomic():
        change = _pending(change)
        if refusal := parameter_change_refusal(change=change, approver=approver):
            raise PermissionDenied(refusal)
        current = _in_force_row()
        if (current.version_id if current else None) != change.base_version_id:
            raise ValidationError(
                "The parameters in force changed since this request was made. Reject it and "
                "ask again."
            )
        current = current or ParametersInForce(pk=1)
        current.version, current.change = change.version, change
        current.save()
        request_decide(change, ParameterChangeState.APPROVED, approver, comment)
        runtime.parameters_changed()
    return current


def parameter_change_reject(*, change: ParameterChange, approver, comment: str) -> ParameterChange:
    with db_transaction.atomic():
        change = _pending(change)
        if approver.pk == change.requested_by_id:
            raise PermissionDenied("Withdraw your own request instead of rejecting it.")
        actor_require(approver, APPROVE_PERMISSION, "Only compliance officers reject parameters.")
        if not comment.strip():
            raise ValidationError({"comment": "Say why the change is rejected."})
        return request_decide(change, ParameterChangeState.REJECTED, approver, comment)


def parameter_change_withdraw(*, change: ParameterChange, actor) -> ParameterChange:
    with db_transaction.atomic():
        change = _pending(change)
        if actor.pk != change.requested_by_id:
            raise PermissionDenied("Only the officer who asked for a change can withdraw it.")
        return request_decide(
            change, ParameterChangeState.WITHDRAWN, None, "Withdrawn by its author."
        )


def _in_force_row(*, lock: bool = True) -> ParametersInForce | None:
    rows = ParametersInForce.objects.select_related("version")
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(pk=1).first()


def _pending(change: ParameterChange) -> ParameterChange:
    change = (
        ParameterChange.objects.select_for_update(of=("self",))
        .select_related("version")
        .get(pk=change.pk)
    )
    if change.state != ParameterChangeState.PENDING:
        raise ValidationError(f"This change was {change.get_state_display().lower()} already.")
    return change
