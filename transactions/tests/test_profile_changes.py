"""Staff changes to an account profile: those that weaken detection (a lower risk rating, a
limit raised or removed) wait for a second person's approval; the others apply at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied, ValidationError

from sentinel.pipeline.orchestrator import transactions_accept
from sentinel.roles import COMPLIANCE_OFFICER, SENIOR_INVESTIGATOR
from transactions import services
from transactions.models import AccountProfile

from .factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db(transaction=True)


def _person(name: str, group: str | None = None) -> User:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    else:
        user.user_permissions.add(Permission.objects.get(codename="change_accountprofile"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def profile() -> AccountProfile:
    """A scored account's profile, rated high with a 5,000 USD single-transaction limit."""
    partner = PartnerBankFactory()
    transactions_accept(partner=partner, payloads=[transaction_payload()])
    stored = AccountProfile.objects.get()
    return services.account_profile_update(
        profile=stored,
        risk_rating="high",
        single_transaction_limit=Decimal("5000"),
        daily_limit=None,
        limit_currency="USD",
    )


def _change(profile, actor=None, **changes) -> AccountProfile:
    values = {
        "risk_rating": profile.risk_rating,
        "single_transaction_limit": profile.single_transaction_limit,
        "daily_limit": profile.daily_limit,
        "limit_currency": profile.limit_currency,
        **changes,
    }
    return services.account_profile_update(profile=profile, actor=actor, **values)


def test_strengthening_changes_apply_at_once(profile):
    stronger = _change(
        profile, single_transaction_limit=Decimal("1000"), daily_limit=Decimal("9000")
    )
    assert (stronger.single_transaction_limit, stronger.daily_limit) == (1000, 9000)
    assert stronger.pending_change is None


@pytest.mark.parametrize(
    ("changes", "weakens"),
    [
        ({"risk_rating": "low"}, ["lowers the risk rating"]),
        (
            {"single_transaction_limit": Decimal("5000.01")},
            ["raises or removes the single-transaction limit"],
        ),
        (
            {"single_transaction_limit": None, "limit_currency": ""},
            ["raises or removes the single-transaction limit", "changes the limits' currency"],
        ),
        ({"limit_currency": "JPY"}, ["changes the limits' currency"]),
    ],
)
def test_a_weakening_change_waits_and_scoring_keeps_the_old_values(profile, changes, weakens):
    asker = _person("sam", SENIOR_INVESTIGATOR)

    stored = _change(profile, asker, **changes)

    assert stored.pending_change["weakens"] == weakens
    assert (stored.risk_rating, stored.single_transaction_limit) == ("high", Decimal("5000"))
    fresh = AccountProfile.objects.get()
    assert (fresh.risk_rating, fresh.single_transaction_limit, fresh.limit_currency) == (
        "high",
        Decimal("5000"),
        "USD",
    )
    with pytest.raises(PermissionDenied):
        _change(AccountProfile.objects.get(), None, **changes)  # no one asked: refused


def test_only_another_approver_applies_it(profile):
    asker = _person("sam", SENIOR_INVESTIGATOR)
    pending = _change(profile, asker, risk_rating="low")

    with pytest.raises(PermissionDenied, match="another senior investigator"):
        services.account_profile_change_approve(profile=pending, actor=asker)
    with pytest.raises(PermissionDenied, match="permission"):
        services.account_profile_change_approve(profile=pending, actor=_person("ed"))
    assert AccountProfile.objects.get().risk_rating == "high"

    approved = services.account_profile_change_approve(
        profile=pending, actor=_person("olga", COMPLIANCE_OFFICER)
    )

    assert (approved.risk_rating, approved.pending_change) == ("low", None)
    assert AccountProfile.objects.get().risk_rating == "low"
    with pytest.raises(ValidationError, match="No change"):
        services.account_profile_change_approve(
            profile=approved, actor=_person("oz", COMPLIANCE_OFFICER)
        )


def test_a_change_asked_for_on_values_that_moved_since_cannot_be_approved(profile):
    pending = _change(profile, _person("sam", SENIOR_INVESTIGATOR), risk_rating="medium")
    with pytest.raises(ValidationError, match="already awaits approval"):
        _change(pending, _person("sue", SENIOR_INVESTIGATOR), risk_rating="low")
    _change(pending, single_transaction_limit=Decimal("100"))  # stronger: applies at once

    with pytest.raises(ValidationError, match="changed since"):
        services.account_profile_change_approve(
            profile=pending, actor=_person("olga", COMPLIANCE_OFFICER)
        )
    assert AccountProfile.objects.get().risk_rating == "high"


def test_the_asker_withdraws_and_a_stranger_cannot_reject(profile):
    asker = _person("sam", SENIOR_INVESTIGATOR)
    pending = _change(profile, asker, risk_rating="low")
    with pytest.raises(PermissionDenied):
        services.account_profile_change_reject(profile=pending, actor=_person("ed"))

    services.account_profile_change_reject(profile=pending, actor=asker)

    stored = AccountProfile.objects.get()
    assert (stored.risk_rating, stored.pending_change, stored.pending_change_by) == (
        "high",
        None,
        None,
    )


def test_the_admin_holds_a_lower_rating_until_another_officer_approves_it(client, profile):
    asker, approver = _person("sam", SENIOR_INVESTIGATOR), _person("olga", COMPLIANCE_OFFICER)
    form = {
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-account": profile.account_id,
        "profile-0-risk_rating": "low",
        "profile-0-single_transaction_limit": "5000",
        "profile-0-daily_limit": "",
        "profile-0-limit_currency": "USD",
    }
    url = f"/admin/transactions/account/{profile.account_id}/change/"
    client.force_login(asker)
    saved = client.post(url, form, follow=True)
    assert "takes effect once another" in saved.content.decode()
    assert AccountProfile.objects.get().risk_rating == "high"
    own = client.post(
        "/admin/transactions/account/",
        {"action": "approve_profile_changes", "_selected_action": [profile.account_id]},
        follow=True,
    )
    assert "another senior investigator" in own.content.decode()
    assert AccountProfile.objects.get().risk_rating == "high"

    client.force_login(approver)
    client.post(
        "/admin/transactions/account/",
        {"action": "approve_profile_changes", "_selected_action": [profile.account_id]},
    )
    assert AccountProfile.objects.get().risk_rating == "low"
