"""Celery interfaces to the pipeline: take ids, call the orchestrator, nothing more."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import OperationalError
from django.dispatch import receiver

from sentinel.screening.signals import list_changed
from transactions.signals import flagged_accounts_changed

from . import drift, orchestrator, proximity, queue, rescreening, rings, selectors

SWEEP_BATCH = 1000
# A scheduled job over one partner's graph: retried when the database hiccups, safe to rerun.
PARTNER_JOB = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 3,
    "time_limit": 900,
    "soft_time_limit": 840,
}


@shared_task(
    name="sentinel.pipeline.tasks.drain_profiling_shard",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
)
def drain_profiling_shard(shard: int = 0) -> int:
    """Run the pipeline on one shard's queued transactions; lost ids are left to the sweep."""
    return orchestrator.profiling_shard_drain(shard=shard)


@shared_task(time_limit=300, soft_time_limit=280)
def sweep_unprocessed_transactions() -> int:
    """Run the pipeline on what a lost task left behind, so nothing accepted stays
    unprocessed (dead letters excepted: they wait for someone to retry them)."""
    total = 0
    while ids := selectors.transactions_to_sweep(
        older_than_seconds=settings.SENTINEL_PROFILE_SWEEP_AFTER_SECONDS, limit=SWEEP_BATCH
    ):
        processed = orchestrator.transactions_process_resilient(transaction_ids=ids)
        total += processed
        if processed == 0:  # the rest are claimed by a worker right now, or set aside
            break
    return total


@worker_ready.connect
def resume_queued_work(**kwargs) -> None:
    """A worker starting after a crash picks up the queue where the dead one left it."""
    queue.queue_resume()


@shared_task(time_limit=1800, soft_time_limit=1700)
def rescreen_after_list_change(list_import_id: int) -> int:
    """Continuous screening after an import added or changed entries; alerts raised or
    updated."""
    return len(rescreening.list_change_rescreen(list_import_id=list_import_id).alerts)


@receiver(list_changed, dispatch_uid="pipeline.rescreen_after_list_change")
def queue_rescreen(sender, list_import, **kwargs) -> None:
    """A list changed (sent after its import committed): screen known parties, in the
    background."""
    rescreen_after_list_change.delay(list_import.pk)


@shared_task(time_limit=600, soft_time_limit=550)
def measure_model_drift() -> float | None:
    """The live model's drift over the last day, stored and handed to the operational monitor
    (beat: daily, entry ``measure-model-drift``); the worst input's PSI, or None with no live
    model or no decisions."""
    measured = drift.model_drift_hand_over()
    return None if measured is None else measured.worst_input_psi


@shared_task(time_limit=60, soft_time_limit=50)
def scan_network_rings() -> int:
    """Beat (entry ``scan-network-rings``): one window scan per active partner, each its own
    task; how many were queued. Nothing when network analytics is off."""
    return _each_active_partner(scan_network_window)


@shared_task(**PARTNER_JOB)
def scan_network_window(partner_id: int) -> int:
    """The partner's window scan, and an alert per ring found for the first time (idempotent:
    a retry or a second run finds the same rings known); alerts opened."""
    return len(rings.network_rings_alert(partner_id=partner_id).created)


@shared_task(time_limit=60, soft_time_limit=50)
def refresh_network_proximity() -> int:
    """Beat (entry ``refresh-network-proximity``): one proximity recompute per active partner,
    each its own task; how many were queued. Nothing when network analytics is off."""
    return _each_active_partner(refresh_partner_proximity)


def _each_active_partner(task) -> int:
    """Queue ``task(partner_id)`` for each active partner while network analytics is on; how
    many were queued."""
    if not settings.SENTINEL_NETWORK_ANALYTICS:
        return 0
    partner_ids = selectors.active_partner_ids()
    for partner_id in partner_ids:
        task.delay(partner_id)
    return len(partner_ids)


@shared_task(**PARTNER_JOB)
def refresh_partner_proximity(partner_id: int, accounts: list[str] | None = None) -> int:
    """The partner's proximity to known-bad accounts: recomputed whole, or extended from the
    newly flagged ``accounts`` (idempotent either way); accounts written."""
    return proximity.proximity_refresh(partner_id=partner_id, accounts=accounts)


@receiver(flagged_accounts_changed, dispatch_uid="pipeline.queue_proximity_refresh")
def queue_proximity_refresh(sender, partner_id: int | None, accounts: tuple, **kwargs) -> None:
    """Accounts were flagged or a flag lifted (sent after the commit): extend or recompute the
    proximity of the partner concerned (every active one for a list), in the background."""
    if not settings.SENTINEL_NETWORK_ANALYTICS:
        return
    for partner in [partner_id] if partner_id else selectors.active_partner_ids():
        refresh_partner_proximity.delay(partner, list(accounts) or None)
