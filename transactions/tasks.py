"""Celery interfaces to the transaction services: take ids, call a service, nothing more."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from . import selectors, services

SWEEP_BATCH = 1000


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
)
def profile_queued_transactions(shard: int = 0) -> int:
    """Fold one shard's queued transactions into profiles; lost ids are left to the sweep."""
    return services.profile_queue_drain(shard=shard)


@shared_task(time_limit=300, soft_time_limit=280)
def sweep_unprofiled_transactions() -> int:
    """Profile what a lost task left behind, so nothing accepted stays unprocessed."""
    total = 0
    while ids := selectors.transactions_awaiting_profile(
        older_than_seconds=settings.SENTINEL_PROFILE_SWEEP_AFTER_SECONDS, limit=SWEEP_BATCH
    ):
        folded = services.account_profiles_refresh(transaction_ids=ids)
        total += folded
        if folded == 0:  # the rest are locked by a worker right now
            break
    return total
