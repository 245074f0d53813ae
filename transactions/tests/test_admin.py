"""The admin pages staff use for partners, keys and account profiles."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from sentinel.pipeline.orchestrator import transactions_accept
from transactions import keyring, services
from transactions.models import AccountProfile, ApiKey
from transactions.profile_cache import cached_profile

from .factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db


def _log_in_staff(client, django_user_model, username: str, group: str):
    user = django_user_model.objects.create_user(username, password="pw-long-enough", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


@pytest.fixture
def administrator(client, django_user_model):
    return _log_in_staff(client, django_user_model, "ada", "Administrator")


@pytest.fixture
def investigator_client(client, django_user_model):
    _log_in_staff(client, django_user_model, "ivy", "Investigator")
    return client


def test_creating_a_key_shows_its_secret_once_and_stores_it_encrypted(client, administrator):
    partner = PartnerBankFactory()
    url = f"/admin/transactions/partnerbank/{partner.pk}/create-key/"

    page = client.post(url, {"label": "production", "allowed_networks": "10.0.0.0/8\n"})

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    secret = re.search(r'<code id="secret">([^<]+)</code>', page.content.decode()).group(1)
    api_key = ApiKey.objects.get(partner=partner)
    assert api_key.allowed_networks == ["10.0.0.0/8"]
    assert keyring.decrypt_secret(api_key) == secret
    assert secret not in api_key.encrypted_secret
    detail = client.get(f"/admin/transactions/apikey/{api_key.pk}/change/")
    assert secret not in detail.content.decode()


def test_an_invalid_allow_list_creates_no_key(client, administrator):
    partner = PartnerBankFactory()
    page = client.post(
        f"/admin/transactions/partnerbank/{partner.pk}/create-key/",
        {"allowed_networks": "not-an-ip"},
    )
    assert page.status_code == 200
    assert "is not an IP address or CIDR network" in page.content.decode()
    assert not ApiKey.objects.exists()


def test_investigators_cannot_create_keys(investigator_client):
    partner = PartnerBankFactory()
    investigator_client.post(f"/admin/transactions/partnerbank/{partner.pk}/create-key/", {})
    assert not ApiKey.objects.exists()


def test_revoke_action_revokes_selected_keys(client, administrator):
    partner = PartnerBankFactory()
    keep, _ = services.api_key_create(partner=partner, label="keep")
    drop, _ = services.api_key_create(partner=partner, label="drop")

    client.post(
        "/admin/transactions/apikey/",
        {"action": "revoke", "_selected_action": [drop.pk]},
    )

    drop.refresh_from_db()
    keep.refresh_from_db()
    assert drop.revoked_at is not None and drop.revoked_by == administrator
    assert keep.revoked_at is None


@pytest.mark.django_db(transaction=True)
def test_profile_edit_in_the_admin_drops_the_cached_copy(client, administrator):
    partner = PartnerBankFactory()
    transactions_accept(partner=partner, payloads=[transaction_payload()])
    profile = AccountProfile.objects.get()
    assert cached_profile(partner.pk, "A1") is not None
    prefix = "profile-0-"  # noqa: S105

    response = client.post(
        f"/admin/transactions/account/{profile.account_id}/change/",
        {
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            f"{prefix}account": profile.account_id,
            f"{prefix}risk_rating": "high",
            f"{prefix}single_transaction_limit": "2500",
            f"{prefix}daily_limit": "",
            f"{prefix}limit_currency": "USD",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.risk_rating == "high"
    assert profile.single_transaction_limit == Decimal("2500")
    assert cached_profile(partner.pk, "A1") is None


def test_transactions_are_read_only_in_the_admin(client, administrator):
    partner = PartnerBankFactory()
    result = services.transaction_ingest(partner=partner, payload=transaction_payload())

    listing = client.get("/admin/transactions/transaction/")
    detail = client.get(f"/admin/transactions/transaction/{result.transaction.pk}/change/")

    assert listing.status_code == 200
    assert "1,500.00 USD" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="amount"' not in detail.content.decode()
