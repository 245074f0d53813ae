"""Rules and their versions, and the four-eyes changes that put them in effect.

Every change to what runs ends with ``engine.rules_changed()``, so all processes reload the
running rules within a second of the commit.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction as db_transaction
from django.db.models import Max
from django.utils import timezone

from transactions.models import PartnerBank

from .. import engine
from ..choices import ChangeState, RuleStatus
from ..expressions import ExpressionError, compile_expression
from ..models import DecisionThresholds, Rule, RuleChange, RuleList, RuleVersion

# The fields of a version a compliance officer edits; everything else is bookkeeping.
VERSION_CONTENT = (
    "name",
    "description",
    "typologies",
    "expression",
    "severity",
    "score",
    "outcome",
    "transaction_types",
    "suppression_seconds",
)
APPROVE_PERMISSION = "rules.approve_rulechange"


# --- Rules and versions ------------------------------------------------------------------------


def expression_validate(expression: str) -> None:
    """ValidationError with the compiler's positioned message; nothing is ever run."""
    try:
        compiled = compile_expression(expression)
    except ExpressionError as error:
        raise ValidationError({"expression": str(error)}) from None
    known = set(RuleList.objects.filter(name__in=compiled.lists).values_list("name", flat=True))
    if missing := sorted(compiled.lists - known):
        raise ValidationError(
            {"expression": f"unknown list {missing[0]!r}: create it under Lists first"}
        )


@db_transaction.atomic
def rule_create(
    *, code: str, author, partners: Iterable[PartnerBank] = (), comment: str = "", **content
) -> Rule:
    """A new rule, as a draft, with its first version in effect."""
    rule = Rule(code=code, created_by=author)
    rule.full_clean(exclude=["version"])
    rule.save()
    version = _version_new(rule=rule, author=author, partners=partners, comment=comment, **content)
    rule.version = version
    rule.save(update_fields=["version", "updated_at"])
    return rule


@db_transaction.atomic
def rule_version_create(
    *,
    rule: Rule,
    author,
    partners: Iterable[PartnerBank] = (),
    comment: str = "",
    restored_from: RuleVersion | None = None,
    **content,
) -> RuleVersion:
    """Save a change as a new version. On a live rule it waits for a second officer's approval;
    otherwise it is in effect at once (drafts, shadow and paused rules decide nothing)."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    version = _version_new(
        rule=rule,
        author=author,
        partners=partners,
        comment=comment,
        restored_from=restored_from,
        **content,
    )
    if rule.status == RuleStatus.LIVE:
        _change_request(
            rule=rule, version=version, target_status=RuleStatus.LIVE, actor=author, comment=comment
        )
    else:
        rule.version = version
        rule.save(update_fields=["version", "updated_at"])
        if rule.status in (RuleStatus.SHADOW,):
            engine.rules_changed()
    return version


def rule_version_restore(
    *, rule: Rule, version: RuleVersion, author, comment: str = ""
) -> RuleVersion:
    """Bring an earlier version back as a new one, so history only ever grows."""
    if version.rule_id != rule.pk:
        raise ValidationError("That version belongs to another rule.")
    content = {name: getattr(version, name) for name in VERSION_CONTENT}
    return rule_version_create(
        rule=rule,
        author=author,
        partners=list(version.partners.all()),
        comment=comment or f"Restored version {version.number}.",
        restored_from=version,
        **content,
    )


def _version_new(
    *,
    rule: Rule,
    author,
    partners: Iterable[PartnerBank],
    comment: str,
    restored_from=None,
    **content,
) -> RuleVersion:
    unknown = set(content) - set(VERSION_CONTENT)
    if unknown:
        raise TypeError(f"Unknown rule fields: {', '.join(sorted(unknown))}")
    expression_validate(content.get("expression", ""))
    previous = rule.versions.order_by("-number").first()
    number = (rule.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = RuleVersion(
        rule=rule,
        number=number,
        author=author,
        comment=comment,
        restored_from=restored_from,
        **content,
    )
    version.full_clean(exclude=["rule", "diff"])
    partners = list(partners)
    version.diff = _diff(previous, version, partners) if previous else ""
    version.save()
    version.partners.set(partners)
    return version


def version_text(version: RuleVersion, partners: Sequence[PartnerBank] | None = None) -> list[str]:
    """A version as lines of "field: value", what the diff compares."""
    if partners is None:
        partners = list(version.partners.all())
    lines = [
        f"{name}: {getattr(version, name)}" for name in VERSION_CONTENT if name != "expression"
    ]
    lines.append("partners: " + (", ".join(sorted(p.slug for p in partners)) or "all"))
    lines.append("expression:")
    lines.extend(f"    {line}" for line in version.expression.splitlines())
    return lines


def _diff(previous: RuleVersion, version: RuleVersion, partners: Sequence[PartnerBank]) -> str:
    return "\n".join(
        difflib.unified_diff(
            version_text(previous),
            version_text(version, partners),
            f"version {previous.number}",
            f"version {version.number}",
            lineterm="",
        )
    )


# --- Status changes and four eyes --------------------------------------------------------------

# Moves that take effect at once: they never make a rule decide more than before.
_IMMEDIATE = {
    RuleStatus.DRAFT: {RuleStatus.SHADOW},
    RuleStatus.SHADOW: {RuleStatus.DRAFT, RuleStatus.PAUSED},
    RuleStatus.LIVE: {RuleStatus.PAUSED, RuleStatus.SHADOW},
    RuleStatus.PAUSED: {RuleStatus.SHADOW, RuleStatus.DRAFT},
}


@db_transaction.atomic
def rule_status_change(*, rule: Rule, target_status: str, actor, comment: str = "") -> RuleChange:
    """Pause, shadow or draft a rule at once; going live waits for a second officer."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if target_status == rule.status:
        raise ValidationError(f"The rule is already {rule.get_status_display().lower()}.")
    if target_status == RuleStatus.LIVE:
        return _change_request(
            rule=rule, version=None, target_status=target_status, actor=actor, comment=comment
        )
    if target_status not in _IMMEDIATE[rule.status]:
        raise ValidationError(f"A {rule.status} rule cannot become {target_status}.")
    change = RuleChange.objects.create(
        rule=rule,
        target_status=target_status,
        state=ChangeState.APPROVED,
        requested_by=actor,
        comment=comment,
        decided_at=timezone.now(),
        decision_comment="Takes effect without approval.",
    )
    rule.status = target_status
    rule.save(update_fields=["status", "updated_at"])
    engine.rules_changed()
    return change


def _change_request(
    *, rule: Rule, version: RuleVersion | None, target_status: str, actor, comment: str
) -> RuleChange:
    if rule.changes.filter(state=ChangeState.PENDING).exists():
        raise ValidationError(
            "Another change to this rule is awaiting approval; approve, reject or withdraw it "
            "first."
        )
    return RuleChange.objects.create(
        rule=rule,
        version=version,
        target_status=target_status,
        requested_by=actor,
        comment=comment,
    )


@db_transaction.atomic
def rule_change_approve(*, change: RuleChange, approver, comment: str = "") -> Rule:
    """Apply a pending change; only a compliance officer other than its author may."""
    change = _pending(change)
    _check_second_officer(change, approver)
    rule = Rule.objects.select_for_update().get(pk=change.rule_id)
    if change.version_id:
        rule.version = change.version
    rule.status = change.target_status
    rule.full_clean(exclude=["code"])
    rule.save(update_fields=["version", "status", "updated_at"])
    _decide(change, ChangeState.APPROVED, approver, comment)
    engine.rules_changed()
    return rule


@db_transaction.atomic
def rule_change_reject(*, change: RuleChange, approver, comment: str) -> RuleChange:
    change = _pending(change)
    _check_second_officer(change, approver)
    if not comment.strip():
        raise ValidationError({"comment": "Say why the change is rejected."})
    return _decide(change, ChangeState.REJECTED, approver, comment)


@db_transaction.atomic
def rule_change_withdraw(*, change: RuleChange, actor) -> RuleChange:
    change = _pending(change)
    if actor.pk != change.requested_by_id:
        raise PermissionDenied("Only the officer who asked for a change can withdraw it.")
    return _decide(change, ChangeState.WITHDRAWN, None, "Withdrawn by its author.")


def _pending(change: RuleChange) -> RuleChange:
    change = RuleChange.objects.select_for_update().get(pk=change.pk)
    if change.state != ChangeState.PENDING:
        raise ValidationError(f"This change was already {change.state}.")
    return change


def _check_second_officer(change: RuleChange, approver) -> None:
    if approver.pk == change.requested_by_id:
        raise PermissionDenied("A change must be approved by another compliance officer.")
    if not approver.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Only compliance officers approve rule changes.")


def _decide(change: RuleChange, state: str, decided_by, comment: str) -> RuleChange:
    change.state = state
    change.decided_by = decided_by
    change.decided_at = timezone.now()
    change.decision_comment = comment
    change.save(update_fields=["state", "decided_by", "decided_at", "decision_comment"])
    return change


@db_transaction.atomic
def decision_thresholds_update(*, review_score: int, block_score: int) -> DecisionThresholds:
    thresholds = DecisionThresholds.objects.select_for_update().filter(pk=1).first()
    thresholds = thresholds or DecisionThresholds(pk=1)
    thresholds.review_score, thresholds.block_score = review_score, block_score
    thresholds.full_clean()
    if block_score < review_score:
        raise ValidationError("The block score cannot be below the review score.")
    thresholds.save()
    engine.rules_changed()
    return thresholds
