"""The alert queue's bulk actions: one alert service per selected alert, each in its own
transaction, so one alert that cannot take the action never holds back the others. What
applies to all of them (permission, reason, comment) is checked first and refuses the lot."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..models import MAX_DISMISS_REASON, MAX_SNOOZE_DAYS, SNOOZE_WITHOUT_APPROVAL_DAYS, Alert
from .actions import CHANGE_PERMISSION, alert_acknowledge, alert_dismiss
from .permissions import require
from .snoozes import ADD_PERMISSION, snooze_create, snooze_problems

MAX_BULK = 500


@dataclass
class BulkResult:
    """The alerts the action applied to, and why it did not apply to the others (by id)."""

    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    awaiting_approval: bool = False  # snoozes over 30 days: in force once approved


def alerts_bulk_acknowledge(*, alert_ids: Iterable[int], actor) -> BulkResult:
    require(actor, CHANGE_PERMISSION, "change alerts")
    return _each(alert_ids, lambda alert: alert_acknowledge(alert=alert, actor=actor))


def alerts_bulk_dismiss(*, alert_ids: Iterable[int], actor, reason: str) -> BulkResult:
    require(actor, CHANGE_PERMISSION, "change alerts")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["A reason is required to dismiss alerts."]})
    if len(reason) > MAX_DISMISS_REASON:
        raise ValidationError(
            {"reason": [f"The reason is at most {MAX_DISMISS_REASON} characters."]}
        )
    return _each(alert_ids, lambda alert: alert_dismiss(alert=alert, actor=actor, reason=reason))


def alerts_bulk_snooze(*, alert_ids: Iterable[int], actor, days: int, comment: str) -> BulkResult:
    """Snooze each selected alert's rule on its subject; alerts sharing a subject share one
    snooze. Over 30 days each snooze waits for a second person's approval."""
    require(actor, ADD_PERMISSION, "snooze rules")
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise ValidationError({"days": [f"A snooze lasts 1 to {MAX_SNOOZE_DAYS} days."]})
    now = timezone.now()
    ends_at = now + timedelta(days=days)
    errors = snooze_problems(now=now, ends_at=ends_at, comment=(comment or "").strip())
    if errors:
        raise ValidationError(errors)
    snoozed: dict[tuple, int] = {}

    def snooze(alert: Alert) -> None:
        subject = (alert.rule_id, alert.partner_id, alert.account_external_id)
        if subject not in snoozed:  # a second alert of the subject rides the first's snooze
            made = snooze_create(
                rule=alert.rule,
                partner=alert.partner,
                account_external_id=alert.account_external_id,
                ends_at=ends_at,
                comment=comment,
                actor=actor,
            )
            snoozed[subject] = made.pk

    result = _each(alert_ids, snooze)
    result.awaiting_approval = bool(result.done) and days > SNOOZE_WITHOUT_APPROVAL_DAYS
    return result


def _each(alert_ids: Iterable[int], action: Callable[[Alert], object]) -> BulkResult:
    ids = sorted(set(alert_ids))
    if len(ids) > MAX_BULK:
        raise ValidationError({"alerts": [f"Select at most {MAX_BULK} alerts at a time."]})
    alerts = Alert.objects.select_related("rule", "partner").in_bulk(ids)
    result = BulkResult()
    for pk in ids:
        if pk not in alerts:
            result.failed[pk] = f"Alert #{pk} does not exist."
            continue
        try:
            action(alerts[pk])
        except ValidationError as error:
            result.failed[pk] = " ".join(error.messages)
        else:
            result.done.append(pk)
    return result
