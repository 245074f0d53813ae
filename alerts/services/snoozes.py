"""Snoozes: an investigator silences one rule for one subject, for a bounded, audited time.

Up to 30 days a snooze takes effect at once; a longer one switches detection off for long
enough to matter, so it waits until a second person approves it (four eyes; never its author).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone

from rules.models import Rule
from transactions.models import PartnerBank

from ..models import MAX_SNOOZE_COMMENT, MAX_SNOOZE_DAYS, Snooze
from .permissions import require

ADD_PERMISSION, LIFT_PERMISSION = "alerts.add_snooze", "alerts.change_snooze"
APPROVE_PERMISSION = "alerts.approve_snooze"


class SnoozeStateError(ValidationError):
    """The snooze is already over, or the subject is already snoozed (the API answers 409)."""


def snooze_create(
    *,
    rule: Rule,
    partner: PartnerBank,
    account_external_id: str,
    ends_at: datetime,
    comment: str,
    actor,
) -> Snooze:
    """Silence ``rule`` on the subject until ``ends_at`` (at most 180 days from now; over 30
    days, only once another person approves it: ``snooze_approve``)."""
    require(actor, ADD_PERMISSION, "snooze rules")
    now = timezone.now()
    comment = (comment or "").strip()
    errors = snooze_problems(now=now, ends_at=ends_at, comment=comment)
    if errors:
        raise ValidationError(errors)
    with db_transaction.atomic():
        # One snooze in force per rule and subject: serialise creators on the rule's row.
        Rule.objects.select_for_update().filter(pk=rule.pk).exists()
        subject = Snooze.objects.filter(
            rule=rule, partner=partner, account_external_id=account_external_id
        )
        current = subject.active(now).first() or subject.awaiting_approval(now).first()
        if current is not None:
            waiting = " (awaiting approval)" if current.is_awaiting_approval else ""
            raise SnoozeStateError(
                f"{rule.code} is already snoozed on {account_external_id} until "
                f"{current.ends_at:%Y-%m-%d %H:%M} UTC (snooze #{current.pk}{waiting}); "
                "lift it first.",
                code="already_snoozed",
            )
        snooze = Snooze(
            rule=rule,
            partner=partner,
            account_external_id=account_external_id,
            comment=comment,
            created_by=actor,
            created_at=now,
            ends_at=ends_at,
        )
        snooze.full_clean(exclude=["rule", "partner", "created_by"])
        snooze.save(force_insert=True)
    return snooze


def snooze_lift(*, snooze: Snooze, actor, comment: str = "") -> Snooze:
    """End a snooze early: the rule alerts on the subject again from now on."""
    require(actor, LIFT_PERMISSION, "lift snoozes")
    comment = (comment or "").strip()
    if len(comment) > MAX_SNOOZE_COMMENT:
        raise ValidationError({"comment": [f"At most {MAX_SNOOZE_COMMENT} characters."]})
    with db_transaction.atomic():
        snooze = Snooze.objects.select_for_update().get(pk=snooze.pk)
        if not (snooze.is_active or snooze.is_awaiting_approval):  # lifting a request withdraws it
            state = "lifted" if snooze.lifted_at else "over"
            raise SnoozeStateError(f"Snooze #{snooze.pk} is already {state}.", code=state)
        snooze.lifted_at, snooze.lifted_by, snooze.lift_comment = timezone.now(), actor, comment
        snooze.save(update_fields=["lifted_at", "lifted_by", "lift_comment"])
    return snooze


def snooze_approve(*, snooze: Snooze, actor) -> Snooze:
    """A second person puts a snooze of over 30 days into force (never the one who asked)."""
    require(actor, APPROVE_PERMISSION, "approve long snoozes")
    with db_transaction.atomic():
        snooze = Snooze.objects.select_for_update().get(pk=snooze.pk)
        if not snooze.is_awaiting_approval:
            raise SnoozeStateError(
                f"Snooze #{snooze.pk} is not awaiting approval (it is {_state_text(snooze)}).",
                code="not_awaiting_approval",
            )
        if snooze.created_by_id == actor.pk:
            raise PermissionDenied(
                f"You asked for snooze #{snooze.pk}: another senior investigator or compliance "
                "officer must approve it."
            )
        snooze.approved_by, snooze.approved_at = actor, timezone.now()
        snooze.save(update_fields=["approved_by", "approved_at"])
    return snooze


def _state_text(snooze: Snooze) -> str:
    return {
        "in_force": "in force",
        "lifted": "lifted",
        "over": "over",
        "awaiting_approval": "awaiting approval",
    }[snooze.state]


def snooze_problems(*, now: datetime, ends_at: datetime, comment: str) -> dict[str, list[str]]:
    """What is wrong with a snooze's end and comment, by field (empty: nothing); bulk snoozing
    checks it before touching any alert."""
    errors: dict[str, list[str]] = {}
    if not comment:
        errors["comment"] = ["A comment is required: say why these hits are expected."]
    elif len(comment) > MAX_SNOOZE_COMMENT:
        errors["comment"] = [f"At most {MAX_SNOOZE_COMMENT} characters."]
    if timezone.is_naive(ends_at):
        errors["ends_at"] = ["Give a time zone (e.g. 2026-12-31T00:00:00Z)."]
    elif ends_at <= now:
        errors["ends_at"] = ["The end must be in the future."]
    elif ends_at > now + timedelta(days=MAX_SNOOZE_DAYS):
        errors["ends_at"] = [f"A snooze lasts at most {MAX_SNOOZE_DAYS} days."]
    return errors
