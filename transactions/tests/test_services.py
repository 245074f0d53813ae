"""Ingest and profiling services: idempotency under concurrency, profiles in PostgreSQL, Redis."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from sentinel.redis import get_redis, redis_key
from transactions import keyring, selectors, services
from transactions.models import Account, AccountProfile, Customer, Transaction
from transactions.profile_cache import cached_profile
from transactions.tasks import sweep_unprofiled_transactions

from .factories import PartnerBankFactory, transaction_payload


def _broker_down():
    """Publishing the profiling task fails, as when the broker is unreachable."""
    from unittest import mock

    return mock.patch(
        "transactions.tasks.profile_queued_transactions.apply_async",
        side_effect=ConnectionError("broker down"),
    )


def _run_concurrently(count: int, work) -> list:
    """Start `count` threads that call `work()` at the same instant; return their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_submissions_store_exactly_one_row():
    partner = PartnerBankFactory()
    payload = transaction_payload()

    results = _run_concurrently(
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

    results = _run_concurrently(6, submit)

    assert sorted(r.status for r in results) == ["conflict"] * 5 + ["created"]
    assert Transaction.objects.filter(partner=partner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_accepted_transactions_are_profiled_after_commit():
    partner = PartnerBankFactory()
    services.transaction_ingest(partner=partner, payload=transaction_payload(amount="100.00"))
    services.transaction_ingest(
        partner=partner,
        payload=transaction_payload(
            amount="50.25", beneficiary={"account_id": "X", "country": "DE"}
        ),
    )
    services.transaction_ingest(
        partner=partner, payload=transaction_payload(amount="7.00", status="failed")
    )

    profile = AccountProfile.objects.get(account__partner=partner, account__external_id="A1")
    assert profile.transaction_count == 3
    assert profile.activity == {"outbound:transfer:USD": {"count": 2, "sum": "150.2500"}}
    assert profile.status_counts == {"approved": 2, "failed": 1}
    assert profile.countries == {"SG": 2, "DE": 1}
    assert profile.devices == {"d-77": 3}
    assert profile.account.customer.external_id == "C1"
    assert not Transaction.objects.unprofiled().exists()
    cached = cached_profile(partner.pk, "A1")
    assert cached["transaction_count"] == 3
    assert cached["customer_id"] == "C1"


@pytest.mark.django_db
def test_profiling_is_idempotent():
    partner = PartnerBankFactory()
    result = services.transaction_ingest(partner=partner, payload=transaction_payload())
    ids = [result.transaction.id]

    first = services.account_profiles_refresh(transaction_ids=ids)
    second = services.account_profiles_refresh(transaction_ids=ids)

    assert (first, second) == (1, 0)
    assert AccountProfile.objects.get().transaction_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_profiling_counts_each_transaction_once():
    partner = PartnerBankFactory()
    with_no_task = [transaction_payload(external_id=f"t{n}") for n in range(20)]
    from unittest import mock

    with mock.patch("transactions.services.transactions_hand_over"):
        results = services.transactions_ingest(partner=partner, payloads=with_no_task)
    ids = [r.transaction.id for r in results]

    folded = _run_concurrently(4, lambda: services.account_profiles_refresh(transaction_ids=ids))

    assert sum(folded) == 20
    assert AccountProfile.objects.get().transaction_count == 20


@pytest.mark.django_db
def test_inbound_transactions_profile_the_beneficiary():
    partner = PartnerBankFactory()
    result = services.transaction_ingest(
        partner=partner,
        payload=transaction_payload(
            type="cash_deposit",
            direction="inbound",
            beneficiary={"account_id": "SAV-1", "customer_id": "C9"},
            originator={"country": "MX"},
        ),
    )
    services.account_profiles_refresh(transaction_ids=[result.transaction.id])

    account = Account.objects.get(partner=partner)
    assert account.external_id == "SAV-1"
    assert account.customer.external_id == "C9"
    assert account.profile.activity == {
        "inbound:cash_deposit:USD": {"count": 1, "sum": "1500.0000"}
    }
    assert account.profile.countries == {"MX": 1}


@pytest.mark.django_db
def test_customer_keeps_the_latest_name_whatever_the_arrival_order():
    partner = PartnerBankFactory()
    now = timezone.now()
    newer = transaction_payload(
        occurred_at=now.isoformat(),
        originator={"account_id": "A1", "customer_id": "C1", "name": "Ana Lima Souza"},
    )
    older = transaction_payload(
        occurred_at=(now - timedelta(days=3)).isoformat(),
        originator={"account_id": "A1", "customer_id": "C1", "name": "Ana Lima"},
    )
    for payload in (newer, older):
        result = services.transaction_ingest(partner=partner, payload=payload)
        services.account_profiles_refresh(transaction_ids=[result.transaction.id])

    customer = Customer.objects.get(partner=partner)
    assert customer.name == "Ana Lima Souza"
    assert customer.first_seen_at < customer.last_seen_at


@pytest.mark.django_db
def test_sweep_profiles_transactions_whose_task_was_lost():
    partner = PartnerBankFactory()
    from unittest import mock

    with mock.patch("transactions.services.transactions_hand_over"):  # the broker lost the task
        result = services.transaction_ingest(partner=partner, payload=transaction_payload())
    fresh_result_id = result.transaction.id
    Transaction.objects.filter(pk=fresh_result_id).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )

    swept = sweep_unprofiled_transactions()

    assert swept == 1
    assert Transaction.objects.get(pk=fresh_result_id).profiled_at is not None


@pytest.mark.django_db
def test_sweep_leaves_just_received_transactions_to_their_task():
    partner = PartnerBankFactory()
    from unittest import mock

    with mock.patch("transactions.services.transactions_hand_over"):
        services.transaction_ingest(partner=partner, payload=transaction_payload())

    assert sweep_unprofiled_transactions() == 0


@pytest.mark.django_db(transaction=True)
def test_ingest_survives_an_unreachable_broker():
    partner = PartnerBankFactory()

    with _broker_down():
        result = services.transaction_ingest(partner=partner, payload=transaction_payload())

    assert result.status == "created"
    assert Transaction.objects.unprofiled().count() == 1


@pytest.mark.django_db(transaction=True)
def test_staff_profile_edit_invalidates_the_cached_copy():
    partner = PartnerBankFactory()
    services.transaction_ingest(partner=partner, payload=transaction_payload())
    assert cached_profile(partner.pk, "A1")["risk_rating"] == "low"
    profile = AccountProfile.objects.get()

    services.account_profile_update(
        profile=profile,
        risk_rating="high",
        single_transaction_limit=Decimal("5000"),
        daily_limit=None,
        limit_currency="USD",
    )

    assert cached_profile(partner.pk, "A1") is None
    fresh = selectors.account_profile_get(partner_id=partner.pk, account_external_id="A1")
    assert fresh["risk_rating"] == "high"
    assert fresh["single_transaction_limit"] == "5000.0000"
    assert cached_profile(partner.pk, "A1")["risk_rating"] == "high"


@pytest.mark.django_db
def test_limits_without_a_currency_are_refused():
    from django.core.exceptions import ValidationError

    partner = PartnerBankFactory()
    result = services.transaction_ingest(partner=partner, payload=transaction_payload())
    services.account_profiles_refresh(transaction_ids=[result.transaction.id])

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


@pytest.mark.django_db(transaction=True)
def test_after_a_failed_publish_the_next_transaction_drains_the_queue():
    partner = PartnerBankFactory()
    with _broker_down():
        services.transaction_ingest(partner=partner, payload=transaction_payload())

    services.transaction_ingest(partner=partner, payload=transaction_payload())

    assert not Transaction.objects.unprofiled().exists()
    assert AccountProfile.objects.get().transaction_count == 2


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


# --- Profiling queue shards --------------------------------------------------------------------


def _queued(shard: int) -> list[str]:
    return [pk.decode() for pk in get_redis().lrange(services.profile_queue_key(shard), 0, -1)]


@pytest.fixture
def queue_without_draining(django_capture_on_commit_callbacks):
    """Ingest `count` transactions of a new partner into the queue, with no drain task run."""

    def queue(count: int) -> None:
        payloads = [transaction_payload(external_id=f"t{n}") for n in range(count)]
        with (
            mock.patch("transactions.tasks.profile_queued_transactions.apply_async"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.transactions_ingest(partner=PartnerBankFactory(), payloads=payloads)

    return queue


@pytest.mark.django_db
def test_hand_over_queues_each_transaction_in_its_accounts_shard(
    settings, django_capture_on_commit_callbacks
):
    settings.SENTINEL_PROFILE_SHARDS = 4
    partner = PartnerBankFactory()
    payloads = [
        transaction_payload(external_id=f"t{n}", originator={"account_id": f"A{n % 10}"})
        for n in range(40)
    ]
    with (
        mock.patch("transactions.tasks.profile_queued_transactions.apply_async") as schedule,
        django_capture_on_commit_callbacks(execute=True),
    ):
        results = services.transactions_ingest(partner=partner, payloads=payloads)

    shard_of = {
        str(r.transaction.id): services.profile_shard(partner.pk, r.transaction.account_external_id)
        for r in results
    }
    queued = {shard: _queued(shard) for shard in range(4)}
    assert sorted(pk for ids in queued.values() for pk in ids) == sorted(shard_of)
    assert all(shard_of[pk] == shard for shard, ids in queued.items() for pk in ids)
    assert len([ids for ids in queued.values() if ids]) > 1  # ten accounts spread out
    # One drain task per shard that got work, each told its shard.
    assert sorted(call.kwargs["args"] for call in schedule.call_args_list) == [
        (shard,) for shard in range(4) if queued[shard]
    ]
    # The same account lands in the same shard in every process: crc32, not the salted hash()
    assert (services.profile_shard(7, "ACC00001"), services.profile_shard(7, "ACC00002")) == (0, 2)


@pytest.mark.django_db
def test_a_drain_leaves_a_shard_being_drained_to_its_drain(settings, queue_without_draining):
    settings.SENTINEL_PROFILE_SHARDS = 1
    queue_without_draining(1)
    holder = get_redis().lock(redis_key("profiling", "draining", "0"), 30)
    assert holder.acquire(blocking=False)

    assert services.profile_queue_drain(shard=0) == 0
    assert len(_queued(0)) == 1  # still there for the drain that holds the shard

    holder.release()
    assert services.profile_queue_drain(shard=0) == 1
    assert _queued(0) == []
    assert not Transaction.objects.unprofiled().exists()


@pytest.mark.django_db
def test_a_drain_past_its_budget_hands_the_rest_to_a_successor(
    settings, monkeypatch, queue_without_draining
):
    settings.SENTINEL_PROFILE_SHARDS = 1
    monkeypatch.setattr(services, "PROFILE_DRAIN_BATCH", 2)
    monkeypatch.setattr(services, "PROFILE_DRAIN_BUDGET_SECONDS", 0)
    queue_without_draining(5)

    with mock.patch("transactions.tasks.profile_queued_transactions.apply_async") as successor:
        folded = services.profile_queue_drain(shard=0)

    assert folded == 2  # one batch, then the budget was spent
    assert len(_queued(0)) == 3
    successor.assert_called_once_with(args=(0,), countdown=services.PROFILE_DRAIN_DELAY_SECONDS)
    monkeypatch.setattr(services, "PROFILE_DRAIN_BUDGET_SECONDS", 20)
    assert services.profile_queues_drain() == 3
    assert Transaction.objects.unprofiled().count() == 0


@pytest.mark.django_db
def test_a_drain_whose_lock_expires_mid_batch_stops_and_leaves_the_rest_to_a_successor(
    settings, monkeypatch, queue_without_draining
):
    settings.SENTINEL_PROFILE_SHARDS = 1
    monkeypatch.setattr(services, "PROFILE_DRAIN_BATCH", 2)
    queue_without_draining(5)
    refresh = services.account_profiles_refresh

    def slow_batch(**options):  # outlasts the lock: it expires while the batch runs
        get_redis().delete(redis_key("profiling", "draining", "0"))
        return refresh(**options)

    monkeypatch.setattr(services, "account_profiles_refresh", slow_batch)
    with mock.patch("transactions.tasks.profile_queued_transactions.apply_async") as successor:
        folded = services.profile_queue_drain(shard=0)

    assert folded == 2  # the batch that ran is kept; the drain stopped there
    assert len(_queued(0)) == 3
    successor.assert_called_once()


@pytest.mark.django_db(transaction=True)
def test_ingest_schedules_a_drain_per_shard_that_runs_to_the_end(settings):
    settings.SENTINEL_PROFILE_SHARDS = 3
    partner = PartnerBankFactory()
    payloads = [
        transaction_payload(external_id=f"t{n}", originator={"account_id": f"A{n}"})
        for n in range(12)
    ]

    services.transactions_ingest(partner=partner, payloads=payloads)  # tasks run eagerly

    assert not Transaction.objects.unprofiled().exists()
    assert services.profile_queue_length() == 0
    assert AccountProfile.objects.filter(account__partner=partner).count() == 12
