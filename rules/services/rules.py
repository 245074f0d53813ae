"""Rules, their versions and status moves (the four-eyes requests are in services.changes).

Every change to what runs ends with ``engine.rules_changed()``, so all processes reload the
running rules within a second of the commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.db.models import Max

from transactions.models import PartnerBank

from .. import engine
from ..choices import RuleStatus
from ..expressions import ExpressionError, compile_expression
from ..models import Rule, RuleChange, RuleList, RuleVersion
from ..selectors import change_pending
from ..versions import VERSION_CONTENT, version_diff
from .changes import change_record, change_request

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
    otherwise it is in effect at once (drafts, shadow and paused rules decide nothing). Refused
    while a request about the rule awaits approval."""
    rule = _locked_without_pending(rule)
    version = _version_new(
        rule=rule,
        author=author,
        partners=partners,
        comment=comment,
        restored_from=restored_from,
        **content,
    )
    if rule.status == RuleStatus.LIVE:
        change_request(
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
    version.diff = version_diff(previous, version, partners) if previous else ""
    version.save()
    version.partners.set(partners)
    return version


# --- Status changes ------------------------------------------------------------------------------

# Moves of a rule that is not live take effect at once: none of them makes it decide anything.
# Every move of a live rule, and every move to live, is a change request (services.changes).
_IMMEDIATE = {
    RuleStatus.DRAFT: {RuleStatus.SHADOW},
    RuleStatus.SHADOW: {RuleStatus.DRAFT, RuleStatus.PAUSED},
    RuleStatus.LIVE: set(),
    RuleStatus.PAUSED: {RuleStatus.SHADOW, RuleStatus.DRAFT},
}


@db_transaction.atomic
def rule_status_change(*, rule: Rule, target_status: str, actor, comment: str = "") -> RuleChange:
    """Shadow, pause or draft a rule that is not live at once; going live, and pausing or
    shadowing a live rule, wait for a second officer. The request pins the version in effect."""
    rule = _locked_without_pending(rule)
    if target_status not in RuleStatus.values:
        raise ValidationError(f"Unknown status {target_status!r}.")
    if target_status == rule.status:
        raise ValidationError(f"The rule is already {rule.get_status_display().lower()}.")
    if target_status == RuleStatus.LIVE or rule.status == RuleStatus.LIVE:
        return change_request(
            rule=rule,
            version=rule.version,
            target_status=target_status,
            actor=actor,
            comment=comment,
        )
    if target_status not in _IMMEDIATE[rule.status]:
        raise ValidationError(f"A {rule.status} rule cannot become {target_status}.")
    change = change_record(
        actor=actor, rule=rule, version=rule.version, target_status=target_status, comment=comment
    )
    rule.status = target_status
    rule.save(update_fields=["status", "updated_at"])
    engine.rules_changed()
    return change


def _locked_without_pending(rule: Rule) -> Rule:
    """The rule, locked, refusing any change while a request about it awaits approval: what the
    approver sees must be what goes live."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if change_pending(rule=rule) is not None:
        raise ValidationError(
            "A change to this rule is awaiting approval; nothing about it can change until "
            "that request is approved, rejected or withdrawn."
        )
    return rule
