"""Rule versions and the four-eyes flow: what compliance officers can and cannot do."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rules import services
from rules.choices import ChangeState, RuleStatus
from rules.models import DecisionThresholds, RuleChange, RuleVersion
from rules.tests import factories
from sentinel.roles import INVESTIGATOR

pytestmark = pytest.mark.django_db

CONTENT = {"name": "Large transfer", "severity": "high", "score": 40, "outcome": "review"}


def _create(author, expression="amount >= 10000", **extra):
    return services.rule_create(
        code="large_transfer", author=author, expression=expression, **{**CONTENT, **extra}
    )


def test_a_new_rule_is_a_draft_with_its_first_version_in_effect():
    alice = factories.officer()
    rule = _create(alice)
    assert rule.status == RuleStatus.DRAFT
    assert rule.version.number == 1
    assert rule.version.author == alice


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("amount >=", "line 1"),
        ("amout >= 10", "amout"),
        ("__import__('os').system('ls')", "__import__"),
        ("10**10**10 > 1", "**"),
        ('counterparty.country in list("no_such_list")', "no_such_list"),
    ],
)
def test_a_bad_expression_is_refused_with_a_message_and_nothing_is_saved(expression, problem):
    with pytest.raises(ValidationError) as error:
        _create(factories.officer(), expression=expression)
    assert problem in " ".join(error.value.message_dict["expression"])
    assert not RuleVersion.objects.filter(rule__code="large_transfer").exists()


def test_editing_a_draft_takes_effect_at_once_and_records_a_diff():
    alice = factories.officer()
    rule = _create(alice)
    version = services.rule_version_create(
        rule=rule, author=alice, expression="amount >= 15000", comment="Tuning", **CONTENT
    )
    rule.refresh_from_db()
    assert rule.version == version
    assert version.number == 2
    assert "-    amount >= 10000" in version.diff
    assert "+    amount >= 15000" in version.diff


def test_going_live_needs_a_second_compliance_officer():
    alice, bob = factories.officer(), factories.officer()
    rule = _create(alice)
    services.rule_status_change(rule=rule, target_status=RuleStatus.SHADOW, actor=alice)
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    rule.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert rule.status == RuleStatus.SHADOW

    with pytest.raises(PermissionDenied):
        services.rule_change_approve(change=change, approver=alice)
    services.rule_change_approve(change=change, approver=bob, comment="Looks right")

    rule.refresh_from_db()
    change.refresh_from_db()
    assert rule.status == RuleStatus.LIVE
    assert (change.state, change.decided_by) == (ChangeState.APPROVED, bob)


def test_the_database_refuses_an_approval_by_the_requester():
    alice = factories.officer()
    rule = _create(alice)
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleChange.objects.filter(pk=change.pk).update(
            state=ChangeState.APPROVED, decided_by=alice, decided_at=timezone.now()
        )


def test_an_investigator_cannot_approve():
    alice = factories.officer()
    investigator = User.objects.create_user("ivan", is_staff=True)
    investigator.groups.add(Group.objects.get(name=INVESTIGATOR))
    rule = _create(alice)
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    with pytest.raises(PermissionDenied):
        services.rule_change_approve(change=change, approver=User.objects.get(pk=investigator.pk))


def test_a_change_to_a_live_rule_waits_for_approval_and_the_old_version_keeps_running():
    alice, bob = factories.officer(), factories.officer()
    rule = factories.rule(author=alice, expression="amount >= 10000")
    first = rule.version

    new = services.rule_version_create(
        rule=rule, author=alice, expression="amount >= 5000", **CONTENT
    )
    rule.refresh_from_db()
    assert rule.version == first
    change = rule.changes.get(state=ChangeState.PENDING)
    assert change.version == new

    services.rule_change_approve(change=change, approver=bob)
    rule.refresh_from_db()
    assert rule.version == new
    assert rule.status == RuleStatus.LIVE


def test_only_one_change_waits_at_a_time():
    alice = factories.officer()
    rule = factories.rule(author=alice)
    services.rule_version_create(rule=rule, author=alice, expression="amount > 1", **CONTENT)
    with pytest.raises(ValidationError, match="awaiting approval"):
        services.rule_version_create(rule=rule, author=alice, expression="amount > 2", **CONTENT)


def test_a_rejection_needs_a_reason_and_a_withdrawal_its_author():
    alice, bob = factories.officer(), factories.officer()
    rule = _create(alice)
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    with pytest.raises(ValidationError):
        services.rule_change_reject(change=change, approver=bob, comment=" ")
    with pytest.raises(PermissionDenied):
        services.rule_change_withdraw(change=change, actor=bob)
    services.rule_change_withdraw(change=change, actor=alice)
    change.refresh_from_db()
    assert change.state == ChangeState.WITHDRAWN
    with pytest.raises(ValidationError, match="already"):
        services.rule_change_approve(change=change, approver=bob)


def test_pausing_a_shadow_rule_is_immediate_and_recorded():
    alice = factories.officer()
    rule = factories.rule(author=alice, status=RuleStatus.SHADOW)
    change = services.rule_status_change(
        rule=rule, target_status=RuleStatus.PAUSED, actor=alice, comment="Too noisy"
    )
    rule.refresh_from_db()
    assert rule.status == RuleStatus.PAUSED
    assert change.state == ChangeState.APPROVED
    assert change.decided_by is None


def test_restoring_an_old_version_adds_a_new_version_with_its_content():
    alice, bob = factories.officer(), factories.officer()
    rule = _create(alice)
    services.rule_version_create(rule=rule, author=alice, expression="amount >= 1", **CONTENT)
    rule.refresh_from_db()

    restored = services.rule_version_restore(
        rule=rule, version=rule.versions.get(number=1), author=bob
    )

    rule.refresh_from_db()
    assert restored.number == 3
    assert restored.expression == "amount >= 10000"
    assert restored.restored_from.number == 1
    assert rule.version == restored


def test_versions_are_kept_in_order_and_never_rewritten():
    alice = factories.officer()
    rule = _create(alice)
    for threshold in (2, 3, 4):
        services.rule_version_create(
            rule=rule, author=alice, expression=f"amount >= {threshold}", **CONTENT
        )
    numbers = list(rule.versions.order_by("number").values_list("number", "expression"))
    assert numbers == [
        (1, "amount >= 10000"),
        (2, "amount >= 2"),
        (3, "amount >= 3"),
        (4, "amount >= 4"),
    ]


def test_decision_thresholds_must_be_ordered():
    alice = factories.officer()
    with pytest.raises(ValidationError):
        services.decision_thresholds_update(review_score=200, block_score=100, actor=alice)
    services.decision_thresholds_update(review_score=50, block_score=150, actor=alice)
    thresholds = DecisionThresholds.objects.get()
    assert (thresholds.review_score, thresholds.block_score) == (50, 150)
