"""Factories for rules, staff users and lists."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group, User

from rules import engine, services
from rules.choices import RuleStatus
from rules.default_pack import (
    NETWORK_PACK,
    NETWORK_PROXIMITY_PACK,
    NETWORK_RING_PACK,
    NETWORK_VALUE_PACK,
)
from rules.models import Rule, RuleList
from sentinel.roles import COMPLIANCE_OFFICER, INVESTIGATOR

_numbers = itertools.count(1)


def officer(username: str | None = None) -> User:
    """A compliance officer (may edit rules and approve other officers' changes)."""
    user = User.objects.create_user(
        username or f"officer{next(_numbers)}", password="pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=COMPLIANCE_OFFICER))
    return User.objects.get(pk=user.pk)  # fresh permission cache


def investigator(username: str | None = None) -> User:
    """Staff who may look at rules and decisions but change nothing."""
    user = User.objects.create_user(
        username or f"investigator{next(_numbers)}", password="pw", is_staff=True
    )
    user.groups.add(Group.objects.get(name=INVESTIGATOR))
    return User.objects.get(pk=user.pk)


def rule(
    *,
    expression: str = "amount >= 10000",
    status: str = RuleStatus.LIVE,
    code: str | None = None,
    author: User | None = None,
    **content,
) -> Rule:
    """A rule in the given status, set directly (tests of the four-eyes flow use the services)."""
    defaults = {
        "name": "Test rule",
        "severity": "high",
        "score": 50,
        "outcome": "alert",
    }
    created = services.rule_create(
        code=code or f"test_rule_{next(_numbers)}",
        author=author,
        expression=expression,
        **{**defaults, **content},
    )
    Rule.objects.filter(pk=created.pk).update(status=status)
    created.refresh_from_db()
    return created


def only_these_rules(*keep: Rule) -> None:
    """Pause every other rule (the default pack is installed by migration)."""
    Rule.objects.exclude(pk__in=[r.pk for r in keep]).update(status=RuleStatus.PAUSED)


def network_rules_live() -> None:
    """Put the default pack's network rules (ring rules included) live: they ship as drafts,
    since network analytics is off by default (test settings turn it on)."""
    codes = [
        pack_rule.code
        for pack_rule in (
            *NETWORK_PACK,
            *NETWORK_RING_PACK,
            *NETWORK_PROXIMITY_PACK,
            *NETWORK_VALUE_PACK,
        )
    ]
    Rule.objects.filter(code__in=codes).update(status=RuleStatus.LIVE)
    engine.forget()


def rule_list(name: str, kind: str, values: list[str]) -> RuleList:
    created = RuleList.objects.create(name=name, kind=kind)
    services.list_entries_import(rule_list=created, csv_text="\n".join(values))
    return created
