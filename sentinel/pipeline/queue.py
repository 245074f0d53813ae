"""The profiling queue: accepted transactions waiting for the pipeline, kept in Redis.

Accepted ids go to Redis lists, sharded by account, and one Celery task at a time drains each
shard in bulk (a task per transaction would cost a broker publish per request and a database
transaction per row). Sharding by account lets several worker processes run the pipeline at
once without waiting on each other: two drains never lock the same account, profile or alert
row. Within a shard each partner has a list of its own and the drain takes the partners in
turn, so one partner's flood or hot accounts slow that partner, never another.

The "drain scheduled" flag keeps one task queued per shard: the task clears it before
draining, so anything pushed later schedules the next one. Whatever never reaches a list
(Redis or the broker down) is found by the sweep (``tasks.sweep_unprocessed_transactions``).

With tracing on (sentinel.tracing) each queued id has its request's W3C ``traceparent`` kept
beside it, under a key of its own until its batch commits, so the batch span links to every
request it merges whichever path (drain, split retry, sweep) processes it.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from redis.exceptions import RedisError

from sentinel import tracing
from sentinel.ids import uuid7_time
from sentinel.redis import get_redis, redis_key
from transactions.models import Transaction, customer_side

logger = logging.getLogger(__name__)

# Waiting a moment before draining lets a burst collect into one batch (cheaper per row) while
# keeping decisions well within two seconds of the transaction.
DRAIN_DELAY_SECONDS = 0.5
DRAIN_TASK = "sentinel.pipeline.tasks.drain_profiling_shard"
# A backstop: a trace context is forgotten when its batch commits; one whose transaction never
# gets there (a dead letter) goes after this long.
TRACE_CONTEXT_SECONDS = 15 * 60


@dataclass(frozen=True)
class QueuedTransaction:
    """What the queue needs of an accepted transaction: its id, the account that shards it
    (with its partner, whose turn it waits for) and, tracing, the request that accepted it."""

    id: uuid.UUID
    partner_id: int
    account_external_id: str
    traceparent: str | None = None

    @classmethod
    def of(cls, row: Transaction | Mapping, traceparent: str | None = None) -> QueuedTransaction:
        if isinstance(row, Transaction):
            return cls(row.id, row.partner_id, row.account_external_id, traceparent)
        side = customer_side(row["direction"])
        return cls(row["id"], row["partner_id"], row[f"{side}_account_id"], traceparent)

    @property
    def shard(self) -> int:
        return queue_shard(self.partner_id, self.account_external_id)


def queue_shard(partner_id: int, account_external_id: str) -> int:
    """The queue shard of an account: stable across processes (crc32, not ``hash``)."""
    key = f"{partner_id}:{account_external_id}".encode()
    return zlib.crc32(key) % settings.SENTINEL_PROFILE_SHARDS


def partner_queue_key(shard: int, partner_id: int) -> str:
    return redis_key("profiling", "queue", shard, partner_id)


def shard_partners_key(shard: int) -> str:
    """The partners with transactions waiting in a shard."""
    return redis_key("profiling", "partners", shard)


def drain_scheduled_key(shard: int) -> str:
    return redis_key("profiling", "scheduled", shard)


def trace_context_key(transaction_id: object) -> str:
    return redis_key("profiling", "trace", str(transaction_id))


def queue_push(*, transactions: Sequence[QueuedTransaction]) -> None:
    """Queue accepted transactions and make sure each shard they fall in has a drain coming."""
    pipe = get_redis().pipeline(transaction=False)
    by_list: dict[tuple[int, int], list[str]] = {}
    for item in transactions:
        by_list.setdefault((item.shard, item.partner_id), []).append(str(item.id))
        if item.traceparent:
            pipe.set(trace_context_key(item.id), item.traceparent, ex=TRACE_CONTEXT_SECONDS)
    shards = sorted({shard for shard, _ in by_list})
    for (shard, partner_id), ids in sorted(by_list.items()):
        pipe.rpush(partner_queue_key(shard, partner_id), *ids)
        pipe.sadd(shard_partners_key(shard), partner_id)
    for shard in shards:
        pipe.set(drain_scheduled_key(shard), 1, nx=True, ex=10)
    answers = pipe.execute()
    for shard, scheduled in zip(shards, answers[-len(shards) :], strict=True):
        if scheduled:
            drain_schedule(shard)


def drain_schedule(shard: int) -> None:
    """Queue the shard's drain task (its "scheduled" flag is already set)."""
    try:
        current_app.tasks[DRAIN_TASK].apply_async(args=(shard,), countdown=DRAIN_DELAY_SECONDS)
    except Exception:
        get_redis().delete(drain_scheduled_key(shard))  # let the next push try again
        raise


def queue_resume() -> int:
    """Give every shard with work a drain, and forget the other shards' "scheduled" flags;
    how many drains were queued.

    Run when a worker starts: a worker that died (kill -9, out of memory) may have taken the
    drains it had reserved with it, and their flags would keep pushes from scheduling new ones
    until they expire. A drain too many costs nothing (the shard's lock turns it away).
    """
    redis = get_redis()
    scheduled = 0
    for shard in range(settings.SENTINEL_PROFILE_SHARDS):
        redis.delete(drain_scheduled_key(shard))
        if queue_has_work(shard) and redis.set(drain_scheduled_key(shard), 1, nx=True, ex=10):
            drain_schedule(shard)
            scheduled += 1
    return scheduled


def queue_partners(shard: int) -> list[int]:
    return sorted(int(member) for member in get_redis().smembers(shard_partners_key(shard)))


def queue_pop(*, shard: int, partner_id: int, count: int) -> list[str]:
    """Up to ``count`` ids of one partner's turn; a partner with nothing left leaves the turn
    (and comes back if a push raced the check)."""
    redis = get_redis()
    key = partner_queue_key(shard, partner_id)
    ids = redis.lpop(key, count)
    if ids:
        return [pk.decode() for pk in ids]
    redis.srem(shard_partners_key(shard), partner_id)
    if redis.llen(key):
        redis.sadd(shard_partners_key(shard), partner_id)
    return []


def queue_trace_contexts(*, transaction_ids: Sequence) -> list[str]:
    """The ``traceparent`` of the requests that accepted these transactions, as far as they
    are known; nothing (and no Redis call) with tracing off."""
    if not tracing.enabled() or not transaction_ids:
        return []
    try:
        found = get_redis().mget([trace_context_key(pk) for pk in transaction_ids])
    except RedisError:  # tracing never stops a batch: it goes on, unlinked
        logger.warning("Could not read the batch's trace contexts.", exc_info=True)
        return []
    return [parent.decode() for parent in found if parent]


def queue_trace_contexts_forget(*, transaction_ids: Sequence) -> None:
    get_redis().delete(*(trace_context_key(pk) for pk in transaction_ids))


def queue_has_work(shard: int) -> bool:
    return any(
        get_redis().llen(partner_queue_key(shard, partner_id))
        for partner_id in queue_partners(shard)
    )


@dataclass(frozen=True)
class ShardBacklog:
    shard: int
    waiting: int
    oldest_age_seconds: float  # of the oldest id at the head of a partner's list; 0 when empty


def queue_backlog() -> list[ShardBacklog]:
    """Per shard: how many ids wait, and how long the oldest has (ids are uuid7: their time
    is when they were accepted). For /metrics and the bench."""
    redis = get_redis()
    backlog = []
    now = time.time()
    for shard in range(settings.SENTINEL_PROFILE_SHARDS):
        partners = queue_partners(shard)
        pipe = redis.pipeline(transaction=False)
        for partner_id in partners:
            pipe.llen(partner_queue_key(shard, partner_id))
            pipe.lindex(partner_queue_key(shard, partner_id), 0)
        answers = pipe.execute()
        lengths, heads = answers[0::2], [head for head in answers[1::2] if head]
        oldest = min((uuid7_time(uuid.UUID(head.decode())) for head in heads), default=now)
        backlog.append(ShardBacklog(shard, sum(lengths), max(0.0, now - oldest)))
    return backlog


def queue_length() -> int:
    """Transaction ids waiting in every shard."""
    return sum(shard.waiting for shard in queue_backlog())
