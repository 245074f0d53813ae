"""The user admin as an insider would try it: granting oneself or others more than one holds."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from sentinel.accounts.services import user_access_check
from sentinel.roles import ADMINISTRATOR, COMPLIANCE_OFFICER, INVESTIGATOR, SENIOR_INVESTIGATOR

from . import factories as f

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)  # password and second factor passed (see conftest.py)
    return client


def _form(user: User, **changes) -> dict:
    """What the admin's change form posts for `user`, with `changes` applied."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [p.pk for p in user.user_permissions.all()],
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _change(client: Client, user: User, **changes):
    return client.post(f"/admin/auth/user/{user.pk}/change/", _form(user, **changes))


def test_an_administrator_cannot_make_themselves_superuser_or_officer():
    # Given an administrator
    admin = f.administrator("adam")

    # When she posts her own change form with superuser status and the officer group
    _change(
        _client(admin),
        admin,
        is_superuser="on",
        groups=[f.group(ADMINISTRATOR).pk, f.group(COMPLIANCE_OFFICER).pk],
        user_permissions=[f.permission("rules.approve_rulechange").pk],
    )

    # Then her account is exactly as it was
    admin.refresh_from_db()
    assert not admin.is_superuser
    assert [g.name for g in admin.groups.all()] == [ADMINISTRATOR]
    assert not admin.user_permissions.exists()
    assert not User.objects.get(pk=admin.pk).has_perm("rules.approve_rulechange")


def test_nobody_changes_their_own_rights_even_a_superuser():
    root = f.superuser()
    with pytest.raises(ValidationError) as refused:
        user_access_check(
            editor=root,
            user=root,
            groups=[f.group(COMPLIANCE_OFFICER)],
            permissions=[],
            is_staff=True,
            is_superuser=True,
            is_active=True,
        )
    assert refused.value.message_dict == {
        "groups": ["You cannot change the rights of your own account."]
    }


def test_an_administrator_cannot_create_a_second_compliance_officer():
    # Given an administrator and a fresh account
    admin, newcomer = f.administrator(), f.staff(username="puppet")

    # When she gives the account the officer group
    response = _change(_client(admin), newcomer, groups=[f.group(COMPLIANCE_OFFICER).pk])

    # Then the form says why not, and nothing changed
    assert response.status_code == 200
    assert "You cannot grant the group “Compliance officer”: you do not hold it." in (
        response.content.decode()
    )
    assert not newcomer.groups.exists()


def test_an_administrator_who_is_also_an_officer_still_cannot_make_another_officer():
    # Given someone in both groups (they could otherwise approve their own rule via a puppet)
    both = f.staff(ADMINISTRATOR, COMPLIANCE_OFFICER)
    newcomer = f.staff(username="puppet")

    response = _change(_client(both), newcomer, groups=[f.group(COMPLIANCE_OFFICER).pk])

    assert "Only a superuser can grant the group “Compliance officer”" in (
        response.content.decode()
    )
    assert not newcomer.groups.exists()


def test_granting_a_permission_one_lacks_is_refused():
    admin, newcomer = f.administrator(), f.staff()

    response = _change(
        _client(admin),
        newcomer,
        user_permissions=[f.permission("cases.work_case").pk],
    )

    assert "You cannot grant “cases.work_case”: you do not hold it." in response.content.decode()
    assert not newcomer.user_permissions.exists()


def test_approval_rights_come_only_from_a_superuser():
    admin, newcomer = f.administrator(), f.staff()
    with pytest.raises(ValidationError) as refused:
        user_access_check(
            editor=admin,
            user=newcomer,
            groups=[],
            permissions=[f.permission("cases.approve_case")],
            is_staff=True,
            is_superuser=False,
            is_active=True,
        )
    assert refused.value.message_dict == {
        "user_permissions": ["Only a superuser can grant “cases.approve_case”."]
    }


def test_superuser_status_is_granted_only_by_a_superuser():
    admin, newcomer = f.administrator(), f.staff()
    with pytest.raises(ValidationError) as refused:
        user_access_check(
            editor=admin,
            user=newcomer,
            groups=[],
            permissions=[],
            is_staff=True,
            is_superuser=True,
            is_active=True,
        )
    assert refused.value.message_dict == {
        "is_superuser": ["Only a superuser can grant superuser status."]
    }


def test_an_administrator_cannot_open_a_superuser_or_an_officer_nor_reset_their_password():
    admin, root, officer = f.administrator(), f.superuser(), f.officer()
    client = _client(admin)

    for target in (root, officer):
        assert client.get(f"/admin/auth/user/{target.pk}/password/").status_code == 403
        response = client.post(
            f"/admin/auth/user/{target.pk}/password/",
            {"password1": "taken-over-1234", "password2": "taken-over-1234"},
        )
        assert response.status_code == 403
        target.refresh_from_db()
        assert target.check_password(f.PASSWORD)
        assert _change(client, target, is_active=None).status_code == 403
        target.refresh_from_db()
        assert target.is_active


def test_an_administrator_may_deactivate_and_grant_what_she_holds():
    # Given an administrator and another administrator's account
    admin, colleague = f.administrator(), f.staff()

    # When she grants the group she holds, then deactivates the account
    client = _client(admin)
    assert _change(client, colleague, groups=[f.group(ADMINISTRATOR).pk]).status_code == 302
    colleague.refresh_from_db()
    assert _change(client, colleague, is_active=None).status_code == 302

    # Then both took effect
    colleague.refresh_from_db()
    assert [g.name for g in colleague.groups.all()] == [ADMINISTRATOR]
    assert not colleague.is_active


def test_a_superuser_makes_officers_and_seniors():
    root, newcomer = f.superuser(), f.staff()

    response = _change(
        _client(root),
        newcomer,
        groups=[f.group(COMPLIANCE_OFFICER).pk, f.group(SENIOR_INVESTIGATOR).pk],
    )

    assert response.status_code == 302
    assert {g.name for g in newcomer.groups.all()} == {COMPLIANCE_OFFICER, SENIOR_INVESTIGATOR}


def test_an_administrator_cannot_grant_the_investigator_group_she_lacks():
    admin, newcomer = f.administrator(), f.staff()
    response = _change(_client(admin), newcomer, groups=[f.group(INVESTIGATOR).pk])
    assert "You cannot grant the group “Investigator”: you do not hold it." in (
        response.content.decode()
    )


def test_a_posted_superuser_flag_for_someone_else_is_ignored_for_an_administrator():
    admin, colleague = f.administrator(), f.staff()

    response = _change(_client(admin), colleague, is_superuser="on")

    assert response.status_code == 302
    colleague.refresh_from_db()
    assert not colleague.is_superuser


def test_an_officer_account_is_beyond_an_administrators_reach_in_the_service_too():
    both, officer = f.staff(ADMINISTRATOR, COMPLIANCE_OFFICER), f.officer()
    with pytest.raises(ValidationError, match="only a superuser can change it"):
        user_access_check(
            editor=both,
            user=officer,
            groups=[],
            permissions=[],
            is_staff=True,
            is_superuser=False,
            is_active=False,
        )
