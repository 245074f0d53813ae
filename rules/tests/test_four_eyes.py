"""Four eyes that insiders cannot get round (services): a request pins what it asks about, the
rule is frozen while it waits, and nobody approves what they asked for, wrote or edited.
Whatever makes Sentinel detect less (pausing or shadowing a live rule, removing list entries,
raising thresholds) waits for the same approval."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from rules import services
from rules.choices import ChangeKind, ChangeState, RuleStatus
from rules.models import DecisionThresholds, ListEntry, RuleChange, RuleList, RuleVersion
from rules.tests import factories

pytestmark = pytest.mark.django_db

CONTENT = {"name": "Large transfer", "severity": "high", "score": 40, "outcome": "review"}


@pytest.fixture
def officers():
    return [factories.officer(name) for name in ("alice", "bob", "mallory", "carol")]


def _edit(rule, author, expression):
    return services.rule_version_create(rule=rule, author=author, expression=expression, **CONTENT)


def _values(rule_list: RuleList) -> list[str]:
    return sorted(rule_list.entries.values_list("normalized", flat=True))


# --- Going live --------------------------------------------------------------------------------


def test_a_go_live_request_pins_the_version_in_effect(officers):
    alice = officers[0]
    rule = factories.rule(status=RuleStatus.SHADOW, author=alice)
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    assert (change.version, change.base_version) == (rule.version, rule.version)


def test_the_rule_cannot_be_edited_while_a_request_waits(officers):
    # Given Alice asked for a shadow rule to go live
    alice, bob, mallory, _ = officers
    rule = factories.rule(status=RuleStatus.SHADOW, expression="amount >= 10000")
    first = rule.version
    services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)

    # When Mallory saves a new version, restores an old one, or moves the rule
    with pytest.raises(ValidationError, match="awaiting approval"):
        _edit(rule, mallory, "amount >= 999999999")
    with pytest.raises(ValidationError, match="awaiting approval"):
        services.rule_version_restore(rule=rule, version=first, author=mallory)
    with pytest.raises(ValidationError, match="awaiting approval"):
        services.rule_status_change(rule=rule, target_status=RuleStatus.DRAFT, actor=mallory)

    # Then nothing changed, and Bob approves exactly what Alice asked for
    rule.refresh_from_db()
    assert (rule.version, rule.versions.count(), rule.status) == (first, 1, RuleStatus.SHADOW)
    services.rule_change_approve(change=rule.changes.get(state="pending"), approver=bob)
    rule.refresh_from_db()
    assert (rule.version, rule.status) == (first, RuleStatus.LIVE)


def test_the_requester_cannot_approve(officers):
    alice = officers[0]
    rule = factories.rule(status=RuleStatus.SHADOW)
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    with pytest.raises(PermissionDenied, match="another compliance officer"):
        services.rule_change_approve(change=change, approver=alice)
    with pytest.raises(PermissionDenied):
        services.rule_change_reject(change=change, approver=alice, comment="no")
    rule.refresh_from_db()
    assert rule.status == RuleStatus.SHADOW


def test_the_author_cannot_approve_a_version_someone_else_asked_to_put_live(officers):
    # Given Mallory wrote version 2 of a shadow rule and Alice pressed "request go-live"
    alice, bob, mallory, _ = officers
    rule = factories.rule(status=RuleStatus.SHADOW)
    _edit(rule, mallory, "amount >= 1")
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)

    # When Mallory approves, she is refused; Bob may
    with pytest.raises(PermissionDenied, match="You wrote the version"):
        services.rule_change_approve(change=change, approver=mallory)
    rule.refresh_from_db()
    assert rule.status == RuleStatus.SHADOW
    services.rule_change_approve(change=change, approver=bob)
    rule.refresh_from_db()
    assert (rule.status, rule.version.number) == (RuleStatus.LIVE, 2)


def test_the_author_of_an_edit_to_a_live_rule_cannot_approve_it(officers):
    alice, bob, mallory, _ = officers
    rule = factories.rule(expression="amount >= 10000")
    _edit(rule, mallory, "amount >= 99999999")
    change = rule.changes.get(state=ChangeState.PENDING)
    with pytest.raises(PermissionDenied):
        services.rule_change_approve(change=change, approver=mallory)
    RuleChange.objects.filter(pk=change.pk).update(requested_by=alice)  # asked by another
    with pytest.raises(PermissionDenied, match="You wrote the version"):
        services.rule_change_approve(change=change, approver=mallory)
    services.rule_change_approve(change=change, approver=bob)


def test_nobody_who_edited_the_rule_since_it_was_last_live_may_approve(officers):
    # Given a rule put live by Alice and Bob, then paused (approved), then edited by Mallory
    # and by Carol, and Alice asks for it to go live again with Carol's version
    alice, bob, mallory, carol = officers
    rule = factories.rule(status=RuleStatus.SHADOW)
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    services.rule_change_approve(change=change, approver=bob)
    pause = services.rule_status_change(rule=rule, target_status=RuleStatus.PAUSED, actor=alice)
    services.rule_change_approve(change=pause, approver=bob)
    _edit(rule, mallory, "amount >= 5")
    _edit(rule, carol, "amount >= 6")
    again = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)

    # Then Mallory (who edited since it was live) and Carol (the author) are refused
    with pytest.raises(PermissionDenied, match="edited this rule since"):
        services.rule_change_approve(change=again, approver=mallory)
    with pytest.raises(PermissionDenied, match="You wrote the version"):
        services.rule_change_approve(change=again, approver=carol)
    # And Bob, who edited nothing, may
    services.rule_change_approve(change=again, approver=bob)
    rule.refresh_from_db()
    assert (rule.status, rule.version.expression) == (RuleStatus.LIVE, "amount >= 6")


def test_editors_of_a_never_live_rule_may_not_approve_its_first_go_live(officers):
    alice, bob, mallory, _ = officers
    rule = factories.rule(status=RuleStatus.DRAFT, author=alice)
    _edit(rule, mallory, "amount >= 5")
    _edit(rule, alice, "amount >= 6")
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    with pytest.raises(PermissionDenied, match="edited this rule since"):
        services.rule_change_approve(change=change, approver=mallory)
    services.rule_change_approve(change=change, approver=bob)


def test_approval_is_refused_when_the_version_in_effect_was_swapped_after_the_request(officers):
    # Given a request on version 2, and version 1 put back in effect behind the service's back
    alice, bob, _, _ = officers
    rule = factories.rule(status=RuleStatus.SHADOW, expression="amount >= 10000")
    _edit(rule, alice, "amount >= 20000")
    rule.refresh_from_db()
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    type(rule).objects.filter(pk=rule.pk).update(version=rule.versions.get(number=1))

    # When Bob approves, it is refused and the rule stays in shadow
    with pytest.raises(ValidationError, match="changed since this request"):
        services.rule_change_approve(change=change, approver=bob)
    rule.refresh_from_db()
    change.refresh_from_db()
    assert rule.status == RuleStatus.SHADOW
    assert change.state == ChangeState.PENDING


def test_approval_is_refused_when_a_newer_version_appeared_after_the_request(officers):
    alice, bob, mallory, _ = officers
    rule = factories.rule(status=RuleStatus.SHADOW)
    change = services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    RuleVersion.objects.create(
        rule=rule, number=2, author=mallory, expression="amount > 0", **CONTENT
    )
    with pytest.raises(ValidationError, match="newer than version 1"):
        services.rule_change_approve(change=change, approver=bob)
    rule.refresh_from_db()
    assert (rule.status, rule.version.number) == (RuleStatus.SHADOW, 1)


def test_the_database_refuses_a_second_pending_request_and_an_unpinned_one(officers):
    alice = officers[0]
    rule = factories.rule(status=RuleStatus.SHADOW)
    services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleChange.objects.create(
            rule=rule,
            version=rule.version,
            base_version=rule.version,
            target_status="live",
            requested_by=alice,
        )
    other = factories.rule(status=RuleStatus.SHADOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleChange.objects.create(rule=other, target_status="live", requested_by=alice)


# --- Pausing and shadowing a live rule ---------------------------------------------------------


@pytest.mark.parametrize("target", [RuleStatus.PAUSED, RuleStatus.SHADOW])
def test_a_live_rule_stops_deciding_only_when_a_second_officer_approves(officers, target):
    alice, bob, _, _ = officers
    rule = factories.rule()
    change = services.rule_status_change(rule=rule, target_status=target, actor=alice)
    rule.refresh_from_db()
    assert (change.state, rule.status) == (ChangeState.PENDING, RuleStatus.LIVE)
    with pytest.raises(PermissionDenied):
        services.rule_change_approve(change=change, approver=alice)
    rule.refresh_from_db()
    assert rule.status == RuleStatus.LIVE

    services.rule_change_approve(change=change, approver=bob, comment="agreed")
    rule.refresh_from_db()
    change.refresh_from_db()
    assert rule.status == target
    assert (change.state, change.decided_by) == (ChangeState.APPROVED, bob)


def test_an_investigator_cannot_approve_a_pause(officers):
    alice = officers[0]
    rule = factories.rule()
    change = services.rule_status_change(rule=rule, target_status="paused", actor=alice)
    with pytest.raises(PermissionDenied, match="Only compliance officers"):
        services.rule_change_approve(change=change, approver=factories.investigator())


# --- Lists ---------------------------------------------------------------------------------------


def test_adding_entries_is_immediate_and_recorded(officers):
    alice = officers[0]
    rule_list = factories.rule_list("sanctions_x", "name", ["Acme Ltd"])
    result = services.list_entries_import(
        rule_list=rule_list, csv_text="Evil Corp\n", actor=alice, comment="OFAC update"
    )
    assert (result.added, result.change) == (1, None)
    assert _values(rule_list) == ["acme ltd", "corp evil"]
    (record,) = rule_list.changes.all()
    assert (record.state, record.requested_by) == (ChangeState.APPROVED, alice)
    assert record.summary == "add 1 entries: Evil Corp"


def test_deleting_entries_waits_for_a_second_officer(officers):
    # Given a sanctions list and Alice deleting one entry
    alice, bob, _, _ = officers
    rule_list = factories.rule_list("sanctions_x", "name", ["Acme Ltd", "Evil Corp"])
    evil = rule_list.entries.get(normalized="corp evil")
    change = services.list_entries_edit(rule_list=rule_list, actor=alice, removed=[evil])

    # Then the entry still matches, and Alice cannot approve her own removal
    assert _values(rule_list) == ["acme ltd", "corp evil"]
    assert change.summary == "remove 1 entries: Evil Corp"
    with pytest.raises(PermissionDenied):
        services.rule_change_approve(change=change, approver=alice)
    assert _values(rule_list) == ["acme ltd", "corp evil"]

    # When Bob approves, it is gone
    services.rule_change_approve(change=change, approver=bob)
    assert _values(rule_list) == ["acme ltd"]


def test_replacing_a_list_adds_at_once_and_removes_on_approval(officers):
    alice, bob, _, _ = officers
    rule_list = factories.rule_list("ctry_x", "country", ["IR", "KP"])
    result = services.list_entries_import(
        rule_list=rule_list, csv_text="KP\nMM\n", replace=True, actor=alice
    )
    assert _values(rule_list) == ["IR", "KP", "MM"]
    assert [entry["value"] for entry in result.change.payload["remove"]] == ["IR"]
    with pytest.raises(PermissionDenied):
        services.rule_change_approve(change=result.change, approver=alice)
    services.rule_change_approve(change=result.change, approver=bob)
    assert _values(rule_list) == ["KP", "MM"]


def test_a_replacing_import_without_an_officer_or_while_a_removal_waits_changes_nothing(officers):
    alice = officers[0]
    rule_list = factories.rule_list("ctry_x", "country", ["IR", "KP"])
    with pytest.raises(ValidationError, match="asked for by an officer"):
        services.list_entries_import(rule_list=rule_list, csv_text="MM\n", replace=True)
    assert _values(rule_list) == ["IR", "KP"]
    services.list_entries_import(rule_list=rule_list, csv_text="KP\n", replace=True, actor=alice)
    with pytest.raises(ValidationError, match="awaiting approval"):
        services.list_entries_import(
            rule_list=rule_list, csv_text="IR\n", replace=True, actor=alice
        )
    assert _values(rule_list) == ["IR", "KP"]


def test_entries_of_another_list_cannot_be_removed_through_this_one(officers):
    alice = officers[0]
    mine = factories.rule_list("mine", "country", ["IR"])
    theirs = factories.rule_list("theirs", "country", ["KP"])
    with pytest.raises(ValidationError, match="not on this list"):
        services.list_entries_edit(rule_list=mine, actor=alice, removed=[theirs.entries.get()])
    assert not RuleChange.objects.filter(kind=ChangeKind.LIST, state="pending").exists()


# --- Thresholds ----------------------------------------------------------------------------------


def _scores() -> tuple[int, int]:
    thresholds = DecisionThresholds.objects.get()
    return thresholds.review_score, thresholds.block_score


def test_lowering_thresholds_is_immediate(officers):
    alice = officers[0]
    record = services.decision_thresholds_update(review_score=80, block_score=250, actor=alice)
    assert _scores() == (80, 250)
    assert record.state == ChangeState.APPROVED and record.kind == ChangeKind.THRESHOLDS


@pytest.mark.parametrize(("review", "block"), [(150, 300), (100, 500), (50, 400)])
def test_raising_a_threshold_waits_for_a_second_officer(officers, review, block):
    alice, bob, _, _ = officers
    before = _scores()
    change = services.decision_thresholds_update(
        review_score=review, block_score=block, actor=alice
    )
    assert change.state == ChangeState.PENDING
    assert _scores() == before
    with pytest.raises(PermissionDenied):
        services.rule_change_approve(change=change, approver=alice)
    assert _scores() == before
    services.rule_change_approve(change=change, approver=bob)
    assert _scores() == (review, block)


def test_thresholds_cannot_change_while_a_raise_waits_and_a_stale_raise_is_refused(officers):
    alice, bob, _, _ = officers
    change = services.decision_thresholds_update(review_score=150, block_score=300, actor=alice)
    with pytest.raises(ValidationError, match="awaiting approval"):
        services.decision_thresholds_update(review_score=10, block_score=20, actor=bob)
    DecisionThresholds.objects.update(review_score=90)  # behind the service's back
    with pytest.raises(ValidationError, match="changed since"):
        services.rule_change_approve(change=change, approver=bob)
    assert _scores() == (90, 300)


def test_a_raise_without_an_officer_is_refused(officers):
    with pytest.raises(ValidationError, match="asked for by an officer"):
        services.decision_thresholds_update(review_score=500, block_score=900)
    assert _scores() == (100, 300)


# --- Exemption lists: adding to them makes rules hit less ---------------------------------------


def _exempting_rule(status=RuleStatus.LIVE):
    factories.rule_list("trusted_accounts", "account", ["ACC-1"])
    return factories.rule(
        status=status,
        code="big_untrusted",
        expression='amount > 100 and customer.account_id not in list("trusted_accounts")',
    )


def test_adding_to_a_list_a_live_rule_reads_as_exemptions_waits_for_a_second_officer(officers):
    # Given a live rule that skips accounts on the trusted list
    alice, bob, _, _ = officers
    _exempting_rule()
    trusted = RuleList.objects.get(name="trusted_accounts")

    # When Alice adds her accomplice's account, by import or on the page
    result = services.list_entries_import(rule_list=trusted, csv_text="ACC-MULE\n", actor=alice)

    # Then it is not exempt yet: it waits, naming the rule it would weaken
    assert _values(trusted) == ["ACC-1"]
    assert (result.added, result.awaiting_addition) == (0, 1)
    assert "big_untrusted" in result.change.summary
    with pytest.raises(PermissionDenied):
        services.rule_change_approve(change=result.change, approver=alice)
    assert _values(trusted) == ["ACC-1"]
    services.rule_change_approve(change=result.change, approver=bob)
    assert _values(trusted) == ["ACC-1", "ACC-MULE"]


def test_adding_through_the_page_service_to_an_exemption_list_waits_too(officers):
    alice = officers[0]
    _exempting_rule()
    trusted = RuleList.objects.get(name="trusted_accounts")
    change = services.list_entries_edit(
        rule_list=trusted, actor=alice, added=[ListEntry(value="ACC-MULE")]
    )
    assert change.state == ChangeState.PENDING
    assert _values(trusted) == ["ACC-1"]


def test_a_list_only_draft_rules_read_as_exemptions_grows_at_once(officers):
    alice = officers[0]
    _exempting_rule(status=RuleStatus.DRAFT)
    trusted = RuleList.objects.get(name="trusted_accounts")
    result = services.list_entries_import(rule_list=trusted, csv_text="ACC-2\n", actor=alice)
    assert (result.added, result.change) == (1, None)
    assert _values(trusted) == ["ACC-1", "ACC-2"]


def test_a_pending_go_live_of_an_exempting_rule_counts(officers):
    alice = officers[0]
    rule = _exempting_rule(status=RuleStatus.SHADOW)
    services.rule_status_change(rule=rule, target_status=RuleStatus.LIVE, actor=alice)
    trusted = RuleList.objects.get(name="trusted_accounts")
    result = services.list_entries_import(rule_list=trusted, csv_text="ACC-2\n", actor=alice)
    assert result.change is not None and result.added == 0
