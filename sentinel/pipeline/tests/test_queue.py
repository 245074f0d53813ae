"""The pipeline's queue, drain and sweep: accepted transactions are processed exactly once,
whatever is lost, concurrent or slow on the way."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from celery.signals import worker_ready
from django.utils import timezone

from rules.models import Decision
from sentinel.pipeline import orchestrator, queue
from sentinel.pipeline.tasks import sweep_unprocessed_transactions
from sentinel.redis import get_redis, redis_key
from sentinel.testing import run_concurrently
from transactions import selectors
from transactions.models import Account, AccountProfile, Customer, Transaction
from transactions.profile_cache import cached_profile
from transactions.services import account_profile_update
from transactions.tests.factories import PartnerBankFactory, transaction_payload


def _broker_down():
    """Publishing the profiling task fails, as when the broker is unreachable."""
    from unittest import mock

    return mock.patch(
        "sentinel.pipeline.tasks.drain_profiling_shard.apply_async",
        side_effect=ConnectionError("broker down"),
    )


def _queued(shard: int) -> list[str]:
    redis = get_redis()
    return [
        pk.decode()
        for partner_id in queue.queue_partners(shard)
        for pk in redis.lrange(queue.partner_queue_key(shard, partner_id), 0, -1)
    ]


def _accept(*, partner, payload):
    return orchestrator.transactions_accept(partner=partner, payloads=[payload])[0]


@pytest.mark.django_db(transaction=True)
def test_accepted_transactions_are_profiled_after_commit():
    partner = PartnerBankFactory()
    _accept(partner=partner, payload=transaction_payload(amount="100.00"))
    _accept(
        partner=partner,
        payload=transaction_payload(
            amount="50.25", beneficiary={"account_id": "X", "country": "DE"}
        ),
    )
    _accept(partner=partner, payload=transaction_payload(amount="7.00", status="failed"))

    profile = AccountProfile.objects.get(account__partner=partner, account__external_id="A1")
    assert profile.transaction_count == 3
    assert profile.activity == {
        "outbound:transfer:USD": {
            "count": 2,
            "sum": "150.2500",
            "min": "50.2500",
            "max": "100.0000",
        }
    }
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
    result = _accept(partner=partner, payload=transaction_payload())
    ids = [result.transaction.id]

    first = orchestrator.transactions_process(transaction_ids=ids)
    second = orchestrator.transactions_process(transaction_ids=ids)

    assert (first, second) == (1, 0)
    assert AccountProfile.objects.get().transaction_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_profiling_counts_each_transaction_once():
    partner = PartnerBankFactory()
    with_no_task = [transaction_payload(external_id=f"t{n}") for n in range(20)]
    from unittest import mock

    with mock.patch("sentinel.pipeline.orchestrator.transactions_hand_over"):
        results = orchestrator.transactions_accept(partner=partner, payloads=with_no_task)
    ids = [r.transaction.id for r in results]

    folded = run_concurrently(4, lambda: orchestrator.transactions_process(transaction_ids=ids))

    assert sum(folded) == 20
    assert AccountProfile.objects.get().transaction_count == 20


@pytest.mark.django_db
def test_inbound_transactions_profile_the_beneficiary():
    partner = PartnerBankFactory()
    result = _accept(
        partner=partner,
        payload=transaction_payload(
            type="cash_deposit",
            direction="inbound",
            beneficiary={"account_id": "SAV-1", "customer_id": "C9"},
            originator={"country": "MX"},
        ),
    )
    orchestrator.transactions_process(transaction_ids=[result.transaction.id])

    account = Account.objects.get(partner=partner)
    assert account.external_id == "SAV-1"
    assert account.customer.external_id == "C9"
    assert account.profile.activity == {
        "inbound:cash_deposit:USD": {
            "count": 1,
            "sum": "1500.0000",
            "min": "1500.0000",
            "max": "1500.0000",
        }
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
        result = _accept(partner=partner, payload=payload)
        orchestrator.transactions_process(transaction_ids=[result.transaction.id])

    customer = Customer.objects.get(partner=partner)
    assert customer.name == "Ana Lima Souza"
    assert customer.first_seen_at < customer.last_seen_at


@pytest.mark.django_db
def test_sweep_profiles_transactions_whose_task_was_lost():
    partner = PartnerBankFactory()
    from unittest import mock

    with mock.patch(
        "sentinel.pipeline.orchestrator.transactions_hand_over"
    ):  # the broker lost the task
        result = _accept(partner=partner, payload=transaction_payload())
    fresh_result_id = result.transaction.id
    Transaction.objects.filter(pk=fresh_result_id).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )

    swept = sweep_unprocessed_transactions()

    assert swept == 1
    assert Transaction.objects.get(pk=fresh_result_id).profiled_at is not None


@pytest.mark.django_db
def test_sweep_leaves_just_received_transactions_to_their_task():
    partner = PartnerBankFactory()
    from unittest import mock

    with mock.patch("sentinel.pipeline.orchestrator.transactions_hand_over"):
        _accept(partner=partner, payload=transaction_payload())

    assert sweep_unprocessed_transactions() == 0


@pytest.mark.django_db(transaction=True)
def test_ingest_survives_an_unreachable_broker():
    partner = PartnerBankFactory()

    with _broker_down():
        result = _accept(partner=partner, payload=transaction_payload())

    assert result.status == "created"
    assert Transaction.objects.unprofiled().count() == 1


@pytest.mark.django_db(transaction=True)
def test_staff_profile_edit_invalidates_the_cached_copy():
    partner = PartnerBankFactory()
    _accept(partner=partner, payload=transaction_payload())
    assert cached_profile(partner.pk, "A1")["risk_rating"] == "low"
    profile = AccountProfile.objects.get()

    account_profile_update(
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


@pytest.mark.django_db(transaction=True)
def test_after_a_failed_publish_the_next_transaction_drains_the_queue():
    partner = PartnerBankFactory()
    with _broker_down():
        _accept(partner=partner, payload=transaction_payload())

    _accept(partner=partner, payload=transaction_payload())

    assert not Transaction.objects.unprofiled().exists()
    assert AccountProfile.objects.get().transaction_count == 2


@pytest.fixture
def queue_without_draining(django_capture_on_commit_callbacks):
    """Ingest `count` transactions of a new partner into the queue, with no drain task run."""

    def queue(count: int) -> None:
        payloads = [transaction_payload(external_id=f"t{n}") for n in range(count)]
        with (
            mock.patch("sentinel.pipeline.tasks.drain_profiling_shard.apply_async"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            orchestrator.transactions_accept(partner=PartnerBankFactory(), payloads=payloads)

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
        mock.patch("sentinel.pipeline.tasks.drain_profiling_shard.apply_async") as schedule,
        django_capture_on_commit_callbacks(execute=True),
    ):
        results = orchestrator.transactions_accept(partner=partner, payloads=payloads)

    shard_of = {
        str(r.transaction.id): queue.queue_shard(partner.pk, r.transaction.account_external_id)
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
    assert (queue.queue_shard(7, "ACC00001"), queue.queue_shard(7, "ACC00002")) == (0, 2)


@pytest.mark.django_db
def test_a_drain_leaves_a_shard_being_drained_to_its_drain(settings, queue_without_draining):
    settings.SENTINEL_PROFILE_SHARDS = 1
    queue_without_draining(1)
    holder = get_redis().lock(redis_key("profiling", "draining", "0"), 30)
    assert holder.acquire(blocking=False)

    assert orchestrator.profiling_shard_drain(shard=0) == 0
    assert len(_queued(0)) == 1  # still there for the drain that holds the shard

    holder.release()
    assert orchestrator.profiling_shard_drain(shard=0) == 1
    assert _queued(0) == []
    assert not Transaction.objects.unprofiled().exists()


@pytest.mark.django_db
def test_a_drain_past_its_budget_hands_the_rest_to_a_successor(
    settings, monkeypatch, queue_without_draining
):
    settings.SENTINEL_PROFILE_SHARDS = 1
    monkeypatch.setattr(orchestrator, "BATCH_MAX", 2)
    monkeypatch.setattr(orchestrator, "DRAIN_BUDGET_SECONDS", 0)
    queue_without_draining(5)

    with mock.patch("sentinel.pipeline.tasks.drain_profiling_shard.apply_async") as successor:
        folded = orchestrator.profiling_shard_drain(shard=0)

    assert folded == 2  # one batch, then the budget was spent
    assert len(_queued(0)) == 3
    successor.assert_called_once_with(args=(0,), countdown=queue.DRAIN_DELAY_SECONDS)
    monkeypatch.setattr(orchestrator, "DRAIN_BUDGET_SECONDS", 20)
    assert orchestrator.transactions_queued_process() == 3
    assert Transaction.objects.unprofiled().count() == 0


@pytest.mark.django_db
def test_a_drain_whose_lock_expires_mid_batch_stops_and_leaves_the_rest_to_a_successor(
    settings, monkeypatch, queue_without_draining
):
    settings.SENTINEL_PROFILE_SHARDS = 1
    monkeypatch.setattr(orchestrator, "BATCH_MAX", 2)
    queue_without_draining(5)
    process = orchestrator.transactions_process_resilient

    def slow_batch(**options):  # outlasts the lock: it expires while the batch runs
        get_redis().delete(redis_key("profiling", "draining", "0"))
        return process(**options)

    monkeypatch.setattr(orchestrator, "transactions_process_resilient", slow_batch)
    with mock.patch("sentinel.pipeline.tasks.drain_profiling_shard.apply_async") as successor:
        folded = orchestrator.profiling_shard_drain(shard=0)

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

    orchestrator.transactions_accept(partner=partner, payloads=payloads)  # tasks run eagerly

    assert not Transaction.objects.unprofiled().exists()
    assert queue.queue_length() == 0
    assert AccountProfile.objects.filter(account__partner=partner).count() == 12


@pytest.mark.django_db
def test_a_starting_worker_drains_what_a_dead_worker_left_queued(settings, queue_without_draining):
    # Given transactions queued in two shards whose drains were scheduled, then died with
    # their worker (kill -9): the "scheduled" flags are still set, so a push adds no drain
    settings.SENTINEL_PROFILE_SHARDS = 2
    queue_without_draining(6)
    for shard in range(2):
        get_redis().set(queue.drain_scheduled_key(shard), 1, ex=10)
    assert sum(len(_queued(shard)) for shard in range(2)) == 6

    # When a worker starts
    worker_ready.send(sender=None)

    # Then each shard with work got a drain (run eagerly here) and nothing is left undecided
    assert [_queued(shard) for shard in range(2)] == [[], []]
    assert not Transaction.objects.unprofiled().exists()
    assert Decision.objects.count() == 6
