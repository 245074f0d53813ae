"""The pipeline: from an accepted transaction to its decision, alerts, case and notifications.

This is the one place that reads top to bottom like the list of stages (stages.py):

    claim → profile → network → features → rules → decision → alerts → cases → notify

- A partner's transactions are accepted (``transactions_accept``) and queued (queue.py).
- A worker drains a shard of the queue (``profiling_shard_drain``), a partner at a time, and
  runs every stage on each batch in one database transaction (``transactions_process``): a
  decision, its alerts and its case exist together or not at all. What leaves the system
  (webhooks, email, live pushes) goes after the commit, so a failure there never undoes it.
- ``?wait=true`` runs claim-free features → rules → decision in the request
  (``transaction_decide_now``) and hands the transaction on; the worker then does the rest,
  including the rules the request could not run (``stages.late_rules``).
- A batch that fails is split in two and each half retried, down to the one transaction that
  fails, which becomes a dead letter (``DeadLetter``) while the rest go on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db import transaction as db_transaction
from django.utils import timezone
from redis.exceptions import LockError

from rules import engine
from rules.engine import Evaluation
from rules.selectors import decision_get, decision_payload
from sentinel import metrics, tracing
from sentinel.redis import get_redis, redis_key
from transactions import profile_cache
from transactions.models import PartnerBank, Transaction
from transactions.services import IngestResult, transactions_ingest

from . import stages
from .models import DeadLetter
from .queue import (
    QueuedTransaction,
    drain_schedule,
    drain_scheduled_key,
    queue_has_work,
    queue_partners,
    queue_pop,
    queue_push,
    queue_trace_contexts,
    queue_trace_contexts_forget,
)
from .selectors import transactions_to_sweep

logger = logging.getLogger(__name__)


# --- Accepting -----------------------------------------------------------------------------


def transactions_accept(*, partner: PartnerBank, payloads: Sequence[object]) -> list[IngestResult]:
    """Store the payloads (``transactions_ingest``) and queue the new ones for the pipeline
    once they are committed. A failure to queue loses nothing: the sweep finds them."""
    results = transactions_ingest(partner=partner, payloads=payloads)
    parent = tracing.traceparent()
    created = [QueuedTransaction.of(r.row, parent) for r in results if r.status == "created"]
    if created:
        db_transaction.on_commit(lambda: transactions_hand_over(created), robust=True)
    return results


def transactions_hand_over(transactions: Sequence[QueuedTransaction]) -> None:
    """Queue accepted transactions; if Redis or the broker is unreachable the sweep covers."""
    try:
        queue_push(transactions=transactions)
    except Exception:  # noqa: BLE001  any failure here is covered by the sweep
        logger.warning(
            "Could not queue %d transactions; the sweep will pick them up.",
            len(transactions),
            exc_info=True,
        )


# --- One batch, every stage -------------------------------------------------------------------


def transactions_process(*, transaction_ids: Sequence) -> int:
    """Run the pipeline on the transactions among these ids not processed yet; how many.

    Idempotent and safe to run concurrently: rows already processed, or claimed by another
    worker, are skipped. Traced (sentinel.tracing), the batch is a span linked to the
    requests that accepted its transactions, and each stage's timer a child span.
    """
    requests = queue_trace_contexts(transaction_ids=transaction_ids)
    with tracing.batch_span(len(transaction_ids), requests), db_transaction.atomic():
        with metrics.stage_timer("claim", len(transaction_ids)):
            batch = stages.claim(transaction_ids)
            todo, decided_earlier = stages.undecided(batch)  # a read: timed with the claim
        if not batch:
            return 0
        with metrics.stage_timer("profile", len(batch)):
            profiles = stages.profile(batch)
        with metrics.stage_timer("network", len(batch)):
            stages.network(batch)
        ruleset = engine.current_ruleset()
        with metrics.stage_timer("features", len(todo)):
            values = stages.features(todo, profiles, ruleset, in_request=False)
        with metrics.stage_timer("rules", len(todo)):
            evaluations = stages.rules(todo, values, ruleset)
            decided_earlier = stages.late_rules(decided_earlier, profiles, ruleset)
        with metrics.stage_timer("decision", len(evaluations)):
            stored = stages.decision(evaluations)
            stages.snapshots(todo, values, stored)
            decided = [*stored, *decided_earlier]
        with metrics.stage_timer("alerts", len(decided)):
            changes = stages.alerts(decided)
        with metrics.stage_timer("cases", len(changes.alerts)):
            stages.cases(changes)
        with metrics.stage_timer("notify", len(decided)):
            stages.notify(decided, changes)
        DeadLetter.objects.waiting().filter(transaction__in=batch).update(
            resolved_at=timezone.now()
        )
        tracing.annotate(lambda: _batch_attributes(batch, decided, changes.alerts))
        if requests:
            db_transaction.on_commit(  # robust: left to expire if Redis is away
                lambda: queue_trace_contexts_forget(transaction_ids=transaction_ids), robust=True
            )
    return len(batch)


def _batch_attributes(
    batch: Sequence[Transaction], decided: Sequence[Evaluation], alerts: Sequence
) -> dict:
    outcomes = Counter(str(evaluation.outcome) for evaluation in decided)
    return {
        "sentinel.batch.claimed": len(batch),
        "sentinel.partner.ids": sorted({tx.partner_id for tx in batch}),
        "sentinel.decisions": len(decided),
        **{f"sentinel.decisions.{outcome}": count for outcome, count in outcomes.items()},
        "sentinel.alerts": len(alerts),
    }


# --- In the request (?wait=true) ---------------------------------------------------------------


def transaction_decide_now(
    *, partner: PartnerBank, payload: object
) -> tuple[IngestResult, dict | None]:
    """Accept one transaction and decide it before answering (``?wait=true``): the
    features, rules and decision stages run here, with the account's cached profile and the
    providers allowed in a request; the worker does the rest once it is handed over.

    If deciding fails (Redis down...) the transaction stays accepted, the worker decides it
    later, and the decision is None ("pending"): a payment is never refused because
    monitoring had a hiccup. A new transaction reaches the worker only after its decision is
    stored, so the two never race for it.
    """
    result = transactions_ingest(partner=partner, payloads=[payload])[0]
    if result.status not in ("created", "duplicate"):
        return result, None
    new = result.status == "created"
    try:
        decision = _decision_now(result.transaction, new=new)
    except Exception:
        logger.exception("Deciding %s in the request failed; the worker will", result.id)
        decision = None
    finally:
        if new:
            queued = QueuedTransaction.of(result.transaction, tracing.traceparent())
            transactions_hand_over([queued])
    return result, decision


def _decision_now(tx: Transaction, *, new: bool) -> dict:
    """The contract's decision object; a stored decision is answered as it is."""
    if not new and (stored := decision_get(transaction_id=tx.pk)):
        return decision_payload(stored)
    key = (tx.partner_id, tx.account_external_id)
    profiles = {key: profile_cache.cached_profile(*key)}
    ruleset = engine.current_ruleset()
    values = stages.features([tx], profiles, ruleset, in_request=True)
    (evaluation,) = stages.rules([tx], values, ruleset)
    stored = _store_in_request(evaluation, values)
    if stored:
        return evaluation.payload()
    return decision_payload(decision_get(transaction_id=tx.pk))


def _store_in_request(evaluation: Evaluation, values) -> bool:
    """The decision with its hits and its snapshot, together."""
    with db_transaction.atomic():
        stored = stages.decision([evaluation])
        stages.snapshots([evaluation.transaction], values, stored)
    return bool(stored)


# --- Draining the queue ----------------------------------------------------------------------

# A partner's batch starts at this size and adapts: halved after a slow batch, doubled back
# after a quick one, so a hot account's expensive batches shrink instead of timing out.
BATCH_MAX, BATCH_MIN = 1000, 10
BATCH_SLOW_SECONDS = 2.0
# One drain task spends at most this long before handing the rest to a successor, so that a
# sustained stream never runs into the task's time limit and other tasks get their turn.
DRAIN_BUDGET_SECONDS = 20
# The lock that keeps a shard to one drain at a time outlives a crashed holder by this much.
DRAIN_LOCK_SECONDS = 30

_batch_sizes: dict[int, int] = {}  # partner id -> its next batch size, in this process


def profiling_shard_drain(*, shard: int) -> int:
    """Run the pipeline on what is queued in one shard, partners taking turns; how many
    transactions were processed.

    One drain per shard at a time: a second task for a shard being drained returns at once,
    since the running drain takes what was queued. Whatever is left when it stops (its budget
    spent, or pushed as it released the shard) gets a successor task.
    """
    redis = get_redis()
    redis.delete(drain_scheduled_key(shard))
    lock = redis.lock(redis_key("profiling", "draining", shard), DRAIN_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        return 0
    processed = 0
    deadline = time.monotonic() + DRAIN_BUDGET_SECONDS
    try:
        while partners := queue_partners(shard):
            for partner_id in partners:
                ids = queue_pop(shard=shard, partner_id=partner_id, count=_batch_size(partner_id))
                if ids:
                    processed += _process_timed(partner_id, ids)
                    lock.reacquire()
            if time.monotonic() > deadline:
                break
    except LockError:  # a batch outlasted the lock; another drain may hold the shard now
        logger.warning("Profiling shard %d: the drain lock expired during a batch.", shard)
    finally:
        try:
            lock.release()
        except LockError:
            pass
    if queue_has_work(shard) and redis.set(drain_scheduled_key(shard), 1, nx=True, ex=10):
        drain_schedule(shard)
    return processed


def transactions_queued_process() -> int:
    """Run the pipeline here and now on everything queued in every shard, then on whatever
    the queue lost (commands, benchmarks, tests); how many were processed."""
    processed = sum(
        profiling_shard_drain(shard=shard) for shard in range(settings.SENTINEL_PROFILE_SHARDS)
    )
    while ids := transactions_to_sweep(older_than_seconds=0, limit=BATCH_MAX):
        done = transactions_process_resilient(transaction_ids=ids)
        processed += done
        if done == 0:  # the rest are claimed by a worker right now, or set aside
            break
    return processed


def _batch_size(partner_id: int) -> int:
    return _batch_sizes.get(partner_id, BATCH_MAX)


def _process_timed(partner_id: int, ids: list[str]) -> int:
    started = time.monotonic()
    processed = transactions_process_resilient(transaction_ids=ids)
    took = time.monotonic() - started
    size = _batch_size(partner_id)
    if took > BATCH_SLOW_SECONDS:
        _batch_sizes[partner_id] = max(BATCH_MIN, size // 2)
    elif took < BATCH_SLOW_SECONDS / 4 and len(ids) == size:
        _batch_sizes[partner_id] = min(BATCH_MAX, size * 2)
    return processed


# The database itself is unreachable: nothing to set aside, the task's retry and the sweep
# take the batch again later.
_OUTAGES = (OperationalError, InterfaceError)


def transactions_process_resilient(*, transaction_ids: Sequence) -> int:
    """``transactions_process``, splitting a failing batch in halves down to the transaction
    that fails, which becomes a dead letter; the others are processed."""
    try:
        return transactions_process(transaction_ids=transaction_ids)
    except _OUTAGES:
        raise
    except Exception as error:
        if len(transaction_ids) == 1:
            dead_letter_record(transaction_id=transaction_ids[0], error=error)
            return 0
        logger.warning("A batch of %d failed; splitting it.", len(transaction_ids), exc_info=True)
        middle = len(transaction_ids) // 2
        return transactions_process_resilient(
            transaction_ids=transaction_ids[:middle]
        ) + transactions_process_resilient(transaction_ids=transaction_ids[middle:])


def dead_letter_record(*, transaction_id, error: Exception) -> DeadLetter | None:
    """Set a transaction aside with what went wrong (again: one more attempt counted)."""
    logger.error("Transaction %s set aside as a dead letter: %r", transaction_id, error)
    tx = Transaction.objects.filter(pk=transaction_id).only("id", "partner_id").first()
    if tx is None:
        return None
    now = timezone.now()
    message = f"{type(error).__name__}: {error}"[:2000]
    letter, created = DeadLetter.objects.get_or_create(
        transaction=tx,
        defaults={
            "partner_id": tx.partner_id,
            "error": message,
            "first_failed_at": now,
            "last_failed_at": now,
        },
    )
    if not created:
        letter.error, letter.last_failed_at, letter.resolved_at = message, now, None
        letter.attempts += 1
        letter.save(update_fields=["error", "last_failed_at", "resolved_at", "attempts"])
    metrics.count_dead_letter()
    return letter


def dead_letters_retry(*, transaction_ids: Sequence) -> int:
    """Run the pipeline again on set-aside transactions (admin action, ``pipeline_retry``);
    how many went through. Those that fail again stay, with one more attempt counted."""
    done = 0
    for transaction_id in transaction_ids:
        try:
            done += transactions_process(transaction_ids=[transaction_id])
        except _OUTAGES:
            raise
        except Exception as error:  # noqa: BLE001  recorded on the letter, shown in the admin
            dead_letter_record(transaction_id=transaction_id, error=error)
    return done
