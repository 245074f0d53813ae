"""Four eyes on the detector parameters: who may ask, approve, reject, withdraw and roll back,
and what each step leaves in force."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from rules.tests.factories import investigator, officer
from sentinel.network import governance, runtime
from sentinel.network.choices import ParameterAction, ParameterChangeState
from sentinel.network.models import ParameterChange, ParametersInForce
from sentinel.network.tests.factories import parameter_version, parameters_in_force

pytestmark = pytest.mark.django_db


def _in_force() -> int:
    return ParametersInForce.objects.get(pk=1).version.number


def _asked(**overrides) -> ParameterChange:
    return governance.parameter_change_request(
        version=parameter_version(**overrides), actor=officer(), comment="More hops"
    )


def test_a_second_officer_puts_the_version_in_force():
    change = _asked(max_hops=6)
    approver = officer()

    governance.parameter_change_approve(change=change, approver=approver, comment="Seen")

    change.refresh_from_db()
    row = ParametersInForce.objects.get(pk=1)
    assert (row.version.number, row.change) == (2, change)
    assert (change.state, change.decided_by, change.action) == (
        ParameterChangeState.APPROVED,
        approver,
        ParameterAction.PUT_IN_FORCE,
    )


def test_the_officer_who_asked_may_not_approve():
    change = _asked(max_hops=6)

    with pytest.raises(PermissionDenied, match="another compliance officer than the one who"):
        governance.parameter_change_approve(change=change, approver=change.requested_by)
    change.refresh_from_db()
    assert (_in_force(), change.state) == (1, ParameterChangeState.PENDING)


def test_staff_without_the_permission_may_not_approve_nor_reject():
    change = _asked(max_hops=6)

    with pytest.raises(PermissionDenied, match="Only compliance officers approve"):
        governance.parameter_change_approve(change=change, approver=investigator())
    with pytest.raises(PermissionDenied, match="Only compliance officers reject"):
        governance.parameter_change_reject(change=change, approver=investigator(), comment="no")
    with pytest.raises(PermissionDenied, match="Only compliance officers ask"):
        governance.parameter_change_request(version=change.version, actor=investigator())
    assert _in_force() == 1


def test_a_superuser_who_drafted_the_version_may_not_approve_it():
    # Given a superuser who drafts a version, and an officer who asks for it
    root = User.objects.create_superuser("root", password="pw")
    version = parameter_version(author=root, max_hops=6)
    change = governance.parameter_change_request(version=version, actor=officer())

    # When the superuser approves it: refused, every permission notwithstanding
    with pytest.raises(PermissionDenied, match="You drafted version 2"):
        governance.parameter_change_approve(change=change, approver=root)
    assert _in_force() == 1


def test_a_superuser_who_asked_may_not_approve_either():
    root = User.objects.create_superuser("root", password="pw")
    change = governance.parameter_change_request(version=parameter_version(max_hops=6), actor=root)

    with pytest.raises(PermissionDenied, match="another compliance officer"):
        governance.parameter_change_approve(change=change, approver=root)
    assert _in_force() == 1


def test_the_database_refuses_an_approval_by_the_asker():
    change = _asked(max_hops=6)

    with pytest.raises(IntegrityError, match="parameter_change_four_eyes"):
        with db_transaction.atomic():
            ParameterChange.objects.filter(pk=change.pk).update(
                state=ParameterChangeState.APPROVED,
                decided_by=change.requested_by,
                decided_at=timezone.now(),
            )


def test_one_request_at_a_time_and_a_decided_one_stays_decided():
    change = _asked(max_hops=6)
    with pytest.raises(ValidationError, match="Another parameter change is awaiting"):
        _asked(max_hops=8)

    governance.parameter_change_approve(change=change, approver=officer())

    with pytest.raises(ValidationError, match="approved already"):
        governance.parameter_change_approve(change=change, approver=officer())
    with pytest.raises(ValidationError, match="Version 2 is in force already"):
        governance.parameter_change_request(version=change.version, actor=officer())


def test_a_request_made_on_another_version_in_force_is_not_approved():
    # Given a request made while v1 was in force, then the row in force moved under it (as by
    # a concurrent approval)
    stale = _asked(max_hops=6)
    row = ParametersInForce.objects.get(pk=1)
    row.version = parameter_version(max_hops=8)
    row.save()

    with pytest.raises(ValidationError, match="changed since this request was made"):
        governance.parameter_change_approve(change=stale, approver=officer())
    assert _in_force() == 3


def test_a_rejection_needs_a_reason_and_a_withdrawal_the_asker():
    change = _asked(max_hops=6)

    with pytest.raises(ValidationError, match="Say why"):
        governance.parameter_change_reject(change=change, approver=officer(), comment=" ")
    with pytest.raises(PermissionDenied, match="Withdraw your own request"):
        governance.parameter_change_reject(
            change=change, approver=change.requested_by, comment="no"
        )
    with pytest.raises(PermissionDenied, match="Only the officer who asked"):
        governance.parameter_change_withdraw(change=change, actor=officer())

    governance.parameter_change_withdraw(change=change, actor=change.requested_by)
    change.refresh_from_db()
    assert (change.state, _in_force()) == (ParameterChangeState.WITHDRAWN, 1)

    again = governance.parameter_change_request(version=change.version, actor=officer())
    governance.parameter_change_reject(change=again, approver=officer(), comment="Too short")
    again.refresh_from_db()
    assert (again.state, again.decision_comment, _in_force()) == ("rejected", "Too short", 1)


def test_a_rollback_puts_back_the_version_before_under_four_eyes_too():
    # Given version 2 put in force over the installed one
    parameters_in_force(max_hops=6)
    asker = officer()

    # When an officer asks to roll back
    change = governance.parameter_rollback_request(actor=asker, comment="Too many alerts")

    # Then it is a pending rollback to version 1, which the asker cannot approve
    assert (change.action, change.version.number, _in_force()) == ("rollback", 1, 2)
    with pytest.raises(PermissionDenied):
        governance.parameter_change_approve(change=change, approver=asker)
    governance.parameter_change_approve(change=change, approver=officer())
    assert _in_force() == 1
    # and with the installed version in force again, there is nothing before it
    with pytest.raises(ValidationError, match="Nothing to roll back to"):
        governance.parameter_rollback_request(actor=officer())


def test_rollbacks_walk_back_through_what_was_in_force():
    parameters_in_force(max_hops=6)
    parameter_version(max_hops=7)  # a draft never in force is not rolled back to
    parameters_in_force(max_hops=8)

    for expected in (2, 1):
        change = governance.parameter_rollback_request(actor=officer())
        governance.parameter_change_approve(change=change, approver=officer())
        assert _in_force() == expected


def test_an_earlier_version_asked_for_again_is_a_rollback():
    parameters_in_force(max_hops=6)
    parameters_in_force(max_hops=8)
    (second,) = [c.version for c in ParameterChange.objects.filter(version__number=2)]

    change = governance.parameter_change_request(version=second, actor=officer())

    assert change.action == ParameterAction.ROLLBACK
    assert change.summary == "roll back to network parameters v2"


def test_approval_reaches_every_process_after_commit(django_capture_on_commit_callbacks):
    # Given this process running with version 1
    assert runtime.in_force().number == 1
    change = _asked(max_hops=6)

    # When another officer approves, the generation moves only once the approval commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        governance.parameter_change_approve(change=change, approver=officer())
    assert len(callbacks) == 1

    # Then the next read loads version 2
    assert runtime.in_force().number == 2
    assert runtime.in_force().searches.max_hops == 6
