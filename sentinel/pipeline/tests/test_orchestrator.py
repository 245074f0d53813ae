"""The orchestrator: every stage on a batch, faults set aside one transaction at a time, and
partners taking turns in a shard."""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from alerts.models import Alert, WebhookDelivery, WebhookEndpoint
from cases.models import Case
from rules.models import Decision
from rules.tests import factories as rule_factories
from sentinel import metrics
from sentinel.pipeline import orchestrator, queue, stages
from sentinel.pipeline.models import DeadLetter
from sentinel.pipeline.selectors import transactions_to_sweep
from transactions.models import Transaction
from transactions.services import transactions_ingest
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db


def _stored(partner, *payloads) -> list:
    return [r.id for r in transactions_ingest(partner=partner, payloads=list(payloads))]


def test_one_batch_goes_from_accepted_to_decision_alert_case_and_webhook():
    partner = PartnerBankFactory()
    WebhookEndpoint.objects.create(partner=partner, url="https://hooks.example.com/sentinel")
    rule_factories.only_these_rules(
        rule_factories.rule(code="big", expression="amount >= 10000", outcome="review")
    )
    ids = _stored(partner, transaction_payload(amount="12000.00"), transaction_payload())

    assert orchestrator.transactions_process(transaction_ids=ids) == 2

    assert not Transaction.objects.filter(pk__in=ids, profiled_at=None).exists()
    outcomes = dict(Decision.objects.filter(pk__in=ids).values_list("pk", "outcome"))
    assert sorted(outcomes.values()) == ["allow", "review"]
    alert = Alert.objects.get()
    assert alert.rule.code == "big"
    assert Case.objects.get().alert_links.get().alert == alert
    assert WebhookDelivery.objects.get().event == "decision.review"
    assert orchestrator.transactions_process(transaction_ids=ids) == 0  # idempotent


def test_every_stage_the_orchestrator_runs_is_timed_under_its_name_in_metrics_stages(
    monkeypatch,
):
    """A stage added to the orchestrator without a timer, or with a name the metrics (and
    dashboards) do not know, fails here: the stage list is read from a real run, not
    written down a second time."""
    partner = PartnerBankFactory()
    WebhookEndpoint.objects.create(partner=partner, url="https://hooks.example.com/sentinel")
    rule_factories.only_these_rules(
        rule_factories.rule(code="big", expression="amount >= 10000", outcome="review")
    )
    ids = _stored(partner, transaction_payload(amount="12000.00"))
    timed: list[str] = []  # stage timers, in the order they opened
    calls: list[tuple[str, str | None]] = []  # (stage function, the timer open around it)
    open_timers: list[str] = []
    stage_timer = metrics.stage_timer

    @contextmanager
    def watched_timer(stage: str, batch_size: int):
        timed.append(stage)
        open_timers.append(stage)
        try:
            with stage_timer(stage, batch_size):
                yield
        finally:
            open_timers.pop()

    def watched(name, function):
        def call(*args, **kwargs):
            calls.append((name, open_timers[-1] if open_timers else None))
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(metrics, "stage_timer", watched_timer)
    for name, function in inspect.getmembers(stages, inspect.isfunction):
        if function.__module__ == stages.__name__:
            monkeypatch.setattr(stages, name, watched(name, function))

    assert orchestrator.transactions_process(transaction_ids=ids) == 1

    assert Alert.objects.count() == 1  # the run went through every stage, alerts included
    assert timed == list(metrics.STAGES)
    assert [name for name, timer in calls if timer is None] == []  # nothing runs untimed
    assert [name for name, timer in calls if name == timer] == list(metrics.STAGES)


def test_a_transaction_decided_in_the_request_still_gets_its_alert_and_case_from_the_worker(
    partner_client,
):
    rule_factories.only_these_rules(rule_factories.rule(code="big", expression="amount >= 10000"))
    client = partner_client()
    with mock.patch("sentinel.pipeline.orchestrator.transactions_hand_over") as hand_over:
        body = client.post(
            "/api/v1/transactions/?wait=true", transaction_payload(amount="12000.00")
        ).json()
    assert body["decision"]["hits"][0]["rule"] == "big"
    assert not Alert.objects.exists()  # the request stops at the decision
    hand_over.assert_called_once()

    orchestrator.transactions_process(transaction_ids=[body["id"]])

    alert = Alert.objects.get()
    assert [str(link.transaction_id) for link in alert.links.all()] == [body["id"]]
    assert Case.objects.get().alert_links.get().alert == alert
    assert Decision.objects.filter(pk=body["id"]).count() == 1


def _poisoned(monkeypatch, external_id: str) -> None:
    """The profile stage fails for any batch holding this transaction (a fault in its data)."""
    profile = stages.profile

    def failing(batch):
        if any(tx.external_id == external_id for tx in batch):
            raise ValueError(f"cannot fold {external_id}")
        return profile(batch)

    monkeypatch.setattr(stages, "profile", failing)


def test_a_failing_transaction_is_set_aside_and_the_rest_of_its_batch_goes_on(monkeypatch):
    partner = PartnerBankFactory()
    payloads = [transaction_payload(external_id=f"ok-{n}") for n in range(7)]
    payloads.insert(3, transaction_payload(external_id="poison"))
    ids = _stored(partner, *payloads)
    _poisoned(monkeypatch, "poison")

    processed = orchestrator.transactions_process_resilient(transaction_ids=ids)

    assert processed == 7
    letter = DeadLetter.objects.get()
    assert letter.transaction.external_id == "poison"
    assert letter.error == "ValueError: cannot fold poison"
    assert (letter.attempts, letter.resolved_at) == (1, None)
    assert Decision.objects.count() == 7
    assert transactions_to_sweep(older_than_seconds=0, limit=100) == []  # the sweep leaves it


def test_a_dead_letter_fails_again_until_mended_then_a_retry_resolves_it(monkeypatch):
    partner = PartnerBankFactory()
    (tx_id,) = _stored(partner, transaction_payload(external_id="poison"))
    _poisoned(monkeypatch, "poison")
    orchestrator.transactions_process_resilient(transaction_ids=[tx_id])

    assert orchestrator.dead_letters_retry(transaction_ids=[tx_id]) == 0
    assert DeadLetter.objects.get().attempts == 2

    monkeypatch.undo()
    call_command("pipeline_retry", "--all")

    letter = DeadLetter.objects.get()
    assert letter.resolved_at is not None
    assert Decision.objects.filter(pk=tx_id).exists()


def test_pipeline_retry_refuses_ids_that_are_not_waiting():
    with pytest.raises(CommandError, match="No waiting dead letter"):
        call_command("pipeline_retry", "0190d6a4-0000-7000-8000-000000000000")
    with pytest.raises(CommandError, match="not both"):
        call_command("pipeline_retry")


def test_a_database_outage_is_not_mistaken_for_a_bad_transaction(monkeypatch):
    from django.db import OperationalError

    partner = PartnerBankFactory()
    ids = _stored(partner, transaction_payload(), transaction_payload())
    monkeypatch.setattr(stages, "profile", mock.Mock(side_effect=OperationalError("gone")))

    with pytest.raises(OperationalError):
        orchestrator.transactions_process_resilient(transaction_ids=ids)
    assert not DeadLetter.objects.exists()


@pytest.fixture
def one_shard(settings, django_capture_on_commit_callbacks):
    """One queue shard; accepting queues without running the drain task."""
    settings.SENTINEL_PROFILE_SHARDS = 1

    def accept(partner, count: int, prefix: str) -> None:
        payloads = [
            transaction_payload(external_id=f"{prefix}{n}", originator={"account_id": f"A{n}"})
            for n in range(count)
        ]
        with (
            mock.patch("sentinel.pipeline.tasks.drain_profiling_shard.apply_async"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            orchestrator.transactions_accept(partner=partner, payloads=payloads)

    return accept


def test_partners_take_turns_so_a_flood_from_one_does_not_hold_up_another(monkeypatch, one_shard):
    flood, quiet = PartnerBankFactory(), PartnerBankFactory()
    one_shard(flood, 30, "f")
    one_shard(quiet, 3, "q")
    monkeypatch.setattr(orchestrator, "BATCH_MAX", 5)
    batches: list[set[int]] = []
    process = orchestrator.transactions_process_resilient

    def recording(*, transaction_ids):
        partners = Transaction.objects.filter(pk__in=transaction_ids).values_list(
            "partner_id", flat=True
        )
        batches.append(set(partners))
        return process(transaction_ids=transaction_ids)

    monkeypatch.setattr(orchestrator, "transactions_process_resilient", recording)

    assert orchestrator.profiling_shard_drain(shard=0) == 33

    assert batches[:2] == [{flood.pk}, {quiet.pk}]  # the quiet partner's turn comes second
    assert len(batches) == 7  # 6 of the flood's, 1 of the quiet partner's
    assert queue.queue_length() == 0


def test_a_slow_batch_halves_that_partners_next_batch_and_a_quick_one_grows_it_back(
    monkeypatch, one_shard
):
    partner = PartnerBankFactory()
    one_shard(partner, 12, "s")
    monkeypatch.setattr(orchestrator, "BATCH_MAX", 8)
    monkeypatch.setattr(orchestrator, "BATCH_MIN", 1)
    monkeypatch.setattr(orchestrator, "_batch_sizes", {})
    monkeypatch.setattr(orchestrator, "BATCH_SLOW_SECONDS", 0)  # every batch counts as slow

    orchestrator.profiling_shard_drain(shard=0)

    # Batches of 8, then 4 (all 12 done), each slow: the next one will be of 2.
    assert orchestrator._batch_sizes[partner.pk] == 2

    monkeypatch.setattr(orchestrator, "BATCH_SLOW_SECONDS", 3600)
    one_shard(partner, 6, "t")
    orchestrator.profiling_shard_drain(shard=0)
    assert orchestrator._batch_sizes[partner.pk] == 8  # 2, then 4, each quick: back to 8


def test_the_sweep_reads_the_unprofiled_oldest_first_and_leaves_the_planner_as_it_was():
    partner = PartnerBankFactory()
    first, second = _stored(partner, transaction_payload(), transaction_payload())
    orchestrator.transactions_process(transaction_ids=[first])
    later = _stored(partner, transaction_payload())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = on")

        swept = transactions_to_sweep(older_than_seconds=0, limit=100)

        cursor.execute("SHOW enable_bitmapscan")
        assert cursor.fetchone() == ("on",)  # off only for the sweep's own statement
    assert swept == [second, *later]
