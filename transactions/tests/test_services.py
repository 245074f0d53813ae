"""Ingest and profiling services: idempotency under concurrency, profiles in PostgreSQL, Redis."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import transaction

from sentinel.testing import run_concurrently
from transactions import keyring, services
from transactions.models import AccountProfile, Transaction

from .factories import PartnerBankFactory, transaction_payload


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_submissions_store_exactly_one_row():
    partner = PartnerBankFactory()
    payload = transaction_payload()

    results = run_concurrently(
        8, lambda: services.transaction_ingest(partner=partner, payload=payload)
    )

    statuses = sorted(result.status for result in results)
    assert statuses == ["created"] + ["duplicate"] * 7
    assert Transaction.objects.filter(partner=partner).count() == 1
    assert len({result.transaction.id for result in results}) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_conflicting_submissions_keep_the_first_and_refuse_the_rest():
    partner = PartnerBankFactory()
    payloads = [transaction_payload(external_id="same", amount=f"{n}.00") for n in range(1, 7)]
    feed = iter(payloads)
    lock = threading.Lock()

    def submit():
        with lock:
            payload = next(feed)
        return services.transaction_ingest(partner=partner, payload=payload)

    results = run_concurrently(6, submit)

    assert sorted(r.status for r in results) == ["conflict"] * 5 + ["created"]
    assert Transaction.objects.filter(partner=partner).count() == 1


@pytest.mark.django_db
def test_limits_without_a_currency_are_refused():
    from django.core.exceptions import ValidationError

    partner = PartnerBankFactory()
    result = services.transaction_ingest(partner=partner, payload=transaction_payload())
    with transaction.atomic():
        services.account_profiles_fold(
            transactions=services.transactions_claim_unprofiled(
                transaction_ids=[result.transaction.id]
            )
        )

    with pytest.raises(ValidationError):
        services.account_profile_update(
            profile=AccountProfile.objects.get(),
            risk_rating="medium",
            single_transaction_limit=Decimal("100"),
            daily_limit=None,
            limit_currency="",
        )
    assert AccountProfile.objects.get().risk_rating == "low"


@pytest.mark.django_db
def test_revoked_keys_stay_for_the_audit_trail():
    partner = PartnerBankFactory()
    api_key, secret = services.api_key_create(partner=partner)
    assert keyring.decrypt_secret(api_key) == secret
    assert secret not in api_key.encrypted_secret

    services.api_key_revoke(api_key=api_key)

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert not partner.api_keys.live().exists()


@pytest.mark.django_db
def test_partner_slugs_stay_unique():
    first = services.partner_create(name="Acme Bank")
    second = services.partner_create(name="Acme  Bank!")
    assert (first.slug, second.slug) == ("acme-bank", "acme-bank-2")


@pytest.mark.django_db
def test_every_field_is_stored_as_sent():
    partner = PartnerBankFactory()
    payload = transaction_payload(
        metadata={"channel_ref": "abc", "score": 0.5, "tags": ["x"]},
        ip_address="2001:db8::1",
        mcc="5812",
        occurred_at="2026-03-01T10:00:00+02:00",
    )

    result = services.transaction_ingest(partner=partner, payload=payload)

    stored = Transaction.objects.get(pk=result.transaction.pk)
    assert stored.metadata == {"channel_ref": "abc", "score": 0.5, "tags": ["x"]}
    assert stored.ip_address == "2001:db8::1"
    assert stored.amount == Decimal("1500.00")
    assert stored.occurred_at.isoformat() == "2026-03-01T08:00:00+00:00"
    assert stored.party("beneficiary") == payload["beneficiary"]
    assert (stored.mcc, stored.device_id, stored.latency_ms) == ("5812", "d-77", 182)
