"""What investigators do to an alert: acknowledge it, dismiss it with a reason."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from transactions.choices import LabelOutcome, LabelSource, LabelWeight
from transactions.services import transaction_labels_record

from .. import live
from ..choices import OPEN_STATUSES, AlertEventType, AlertStatus
from ..models import MAX_DISMISS_REASON, Alert, AlertEvent
from .permissions import require

CHANGE_PERMISSION = "alerts.change_alert"


class AlertStateError(ValidationError):
    """The action does not apply to the alert's current status (the API answers 409)."""


def alert_acknowledge(*, alert: Alert, actor) -> Alert:
    """An investigator has seen a new alert and is looking into it."""
    require(actor, CHANGE_PERMISSION, "change alerts")
    with db_transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status != AlertStatus.NEW:
            raise AlertStateError(
                f"Only a new alert can be acknowledged; this one is {alert.status}.",
                code="invalid_status",
            )
        alert.status, alert.triaged_at = AlertStatus.ACKNOWLEDGED, timezone.now()
        _alert_save(alert, actor, AlertEventType.ACKNOWLEDGED, {})
    return alert


def alert_dismiss(*, alert: Alert, actor, reason: str) -> Alert:
    """Close a new or acknowledged alert as not suspicious; the reason is required."""
    require(actor, CHANGE_PERMISSION, "change alerts")
    reason = (reason or "").strip()
    with db_transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if not alert.is_open:
            raise AlertStateError(
                f"Only a new or acknowledged alert can be dismissed; this one is {alert.status}.",
                code="invalid_status",
            )
        if not reason:
            raise ValidationError({"reason": ["A reason is required to dismiss an alert."]})
        if len(reason) > MAX_DISMISS_REASON:
            raise ValidationError(
                {"reason": [f"The reason is at most {MAX_DISMISS_REASON} characters."]}
            )
        alert.status, alert.dismiss_reason = AlertStatus.DISMISSED, reason
        alert.triaged_at = alert.triaged_at or timezone.now()
        _alert_save(alert, actor, AlertEventType.DISMISSED, {"reason": reason})
        transaction_labels_record(
            transaction_ids=alert.links.values_list("transaction_id", flat=True),
            source=LabelSource.ALERT_DISMISSAL,
            outcome=LabelOutcome.LEGITIMATE,
            weight=LabelWeight.ALERT_DISMISSED,
            reason=reason,
            actor=actor,
            reference=f"alert #{alert.pk}",
        )
    return alert


def _alert_save(alert: Alert, actor, kind: str, parameters: dict) -> None:
    alert.full_clean(exclude=["rule", "rule_version", "partner"])  # FKs: unchanged, spare queries
    alert.save(update_fields=["status", "dismiss_reason", "triaged_at", "updated_at"])
    AlertEvent.objects.create(alert=alert, actor=actor, type=kind, parameters=parameters)
    live.alerts_announce(updated=[alert])


def alerts_move_into_case(*, alerts: Sequence[Alert], case_id: int, actor) -> list[Alert]:
    """The open ones among these (locked) alerts are now worked in case ``case_id``: status
    ``in_case``, an event each by ``actor`` (None: the system), announced after the commit.
    Called by the cases app when an investigation starts or an alert joins one under way;
    returns the alerts it moved."""
    moved = [alert for alert in alerts if alert.status in OPEN_STATUSES]
    if not moved:
        return []
    AlertEvent.objects.bulk_create(
        AlertEvent(
            alert=alert,
            actor=actor,
            type=AlertEventType.UPDATED,
            parameters={
                "status": {"from": alert.status, "to": AlertStatus.IN_CASE},
                "case_id": case_id,
            },
        )
        for alert in moved
    )
    now = timezone.now()
    Alert.objects.filter(pk__in=[alert.pk for alert in moved]).update(
        status=AlertStatus.IN_CASE, updated_at=now, triaged_at=Coalesce("triaged_at", Value(now))
    )
    for alert in moved:
        alert.status, alert.triaged_at = AlertStatus.IN_CASE, alert.triaged_at or now
    live.alerts_announce(updated=moved)
    return moved
