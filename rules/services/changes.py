"""Four eyes on detection: change requests, and the one way they are approved.

Whatever makes Sentinel detect less waits for a second compliance officer: a rule going live
(or changing while live), a live rule paused or sent to shadow, entries removed from a list,
thresholds raised. Each is a ``RuleChange`` that pins exactly what it is about; approving it
re-checks that nothing moved since, and that the approver is neither the requester, nor (for a
rule going live) the author of the version nor anyone who edited the rule since it was last
live. Changes that make Sentinel detect more take effect at once and are recorded as approved.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone

from sentinel.four_eyes import request_decide
from transactions.signals import flagged_accounts_announce

from .. import engine, selectors
from ..choices import ChangeKind, ChangeState, ListKind, RuleStatus
from ..models import DecisionThresholds, ListEntry, Rule, RuleChange, RuleList, RuleVersion

APPROVE_PERMISSION = "rules.approve_rulechange"
AT_ONCE = "Takes effect without approval."


def change_request(
    *,
    actor,
    kind: str = ChangeKind.RULE,
    rule: Rule | None = None,
    version: RuleVersion | None = None,
    target_status: str = "",
    rule_list: RuleList | None = None,
    payload: dict | None = None,
    comment: str = "",
) -> RuleChange:
    """A pending request; the caller holds the lock on what it is about. One at a time."""
    if actor is None or not getattr(actor, "pk", None):
        raise ValidationError("A change that needs approval must be asked for by an officer.")
    if selectors.change_pending(rule=rule, rule_list=rule_list, kind=kind) is not None:
        raise ValidationError(
            "Another change is awaiting approval; approve, reject or withdraw it first."
        )
    return RuleChange.objects.create(
        kind=kind,
        rule=rule,
        version=version,
        base_version=rule.version if rule is not None else None,
        target_status=target_status,
        rule_list=rule_list,
        payload=payload or {},
        requested_by=actor,
        comment=comment,
    )


def change_record(*, actor, **fields) -> RuleChange | None:
    """History of a change that took effect at once (nothing is recorded without an actor:
    installs and demo data)."""
    if actor is None:
        return None
    return RuleChange.objects.create(
        **fields,
        state=ChangeState.APPROVED,
        requested_by=actor,
        decided_at=timezone.now(),
        decision_comment=AT_ONCE,
    )


def rule_change_refusal(*, change: RuleChange, approver) -> str | None:
    """Why this person may not approve this change, or None. Checked again under lock."""
    if not approver.has_perm(APPROVE_PERMISSION):
        return "Only compliance officers approve changes."
    if approver.pk == change.requested_by_id:
        return "A change must be approved by another compliance officer than the one who asked."
    if change.kind == ChangeKind.RULE and change.target_status == RuleStatus.LIVE:
        if change.version.author_id == approver.pk:
            return "You wrote the version this change puts live; another officer must approve it."
        if approver.pk in selectors.rule_editors_since_live(rule=change.rule):
            return (
                "You edited this rule since it was last live; an officer who did not must "
                "approve it."
            )
    return None


@db_transaction.atomic
def rule_change_approve(*, change: RuleChange, approver, comment: str = "") -> RuleChange:
    """Apply a pending change, if it still is what was asked and the approver is a second
    officer with nothing of their own in it."""
    change = _pending(change)
    if reason := rule_change_refusal(change=change, approver=approver):
        raise PermissionDenied(reason)
    {
        ChangeKind.RULE: _apply_rule,
        ChangeKind.LIST: _apply_list,
        ChangeKind.THRESHOLDS: _apply_thresholds,
    }[change.kind](change)
    request_decide(change, ChangeState.APPROVED, approver, comment)
    engine.rules_changed()
    return change


@db_transaction.atomic
def rule_change_reject(*, change: RuleChange, approver, comment: str) -> RuleChange:
    change = _pending(change)
    if not approver.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Only compliance officers approve changes.")
    if approver.pk == change.requested_by_id:
        raise PermissionDenied("Withdraw your own request instead of rejecting it.")
    if not comment.strip():
        raise ValidationError({"comment": "Say why the change is rejected."})
    return request_decide(change, ChangeState.REJECTED, approver, comment)


@db_transaction.atomic
def rule_change_withdraw(*, change: RuleChange, actor) -> RuleChange:
    change = _pending(change)
    if actor.pk != change.requested_by_id:
        raise PermissionDenied("Only the officer who asked for a change can withdraw it.")
    return request_decide(change, ChangeState.WITHDRAWN, None, "Withdrawn by its author.")


def _pending(change: RuleChange) -> RuleChange:
    change = (
        RuleChange.objects.select_for_update(of=("self",))
        .select_related("rule", "version", "rule_list")
        .get(pk=change.pk)
    )
    if change.state != ChangeState.PENDING:
        raise ValidationError(f"This change was already {change.state}.")
    return change


def _apply_rule(change: RuleChange) -> None:
    rule = Rule.objects.select_for_update().get(pk=change.rule_id)
    if rule.version_id != change.base_version_id:
        raise ValidationError(
            "The rule changed since this request was made: its version in effect is not the "
            "one the request was made on. Reject it and ask again."
        )
    if rule.versions.filter(number__gt=change.version.number).exists():
        raise ValidationError(
            f"The rule has a version newer than version {change.version.number}, which this "
            "request is about. Reject it and ask again."
        )
    rule.version = change.version
    rule.status = change.target_status
    rule.full_clean(exclude=["code"])
    rule.save(update_fields=["version", "status", "updated_at"])


def _apply_list(change: RuleChange) -> None:
    rule_list = RuleList.objects.select_for_update().get(pk=change.rule_list_id)
    normalized = [entry["normalized"] for entry in change.payload.get("remove", [])]
    ListEntry.objects.filter(rule_list=rule_list, normalized__in=normalized).delete()
    existing = set(rule_list.entries.values_list("normalized", flat=True))
    added = ListEntry.objects.bulk_create(
        ListEntry(rule_list=rule_list, **entry)
        for entry in change.payload.get("add", [])
        if entry["normalized"] not in existing
    )
    rule_list.save(update_fields=["updated_at"])
    if rule_list.kind == ListKind.ACCOUNT:  # may be a watch list (proximity): removals unflag
        flagged_accounts_announce(
            partner_id=None, accounts=[] if normalized else [e.normalized for e in added]
        )


def _apply_thresholds(change: RuleChange) -> None:
    thresholds = DecisionThresholds.objects.select_for_update().filter(pk=1).first()
    current = selectors.thresholds_scores(thresholds)
    if current != change.payload["from"]:
        raise ValidationError(
            "The thresholds changed since this request was made. Reject it and ask again."
        )
    thresholds = thresholds or DecisionThresholds(pk=1)
    thresholds.review_score = change.payload["to"]["review_score"]
    thresholds.block_score = change.payload["to"]["block_score"]
    thresholds.full_clean()
    thresholds.save()
