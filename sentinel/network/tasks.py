"""Celery interfaces to network analytics: call the service, nothing more."""

from __future__ import annotations

from celery import shared_task

from .services import transfers_prune


@shared_task(time_limit=600, soft_time_limit=570)
def prune_transfers() -> int:
    """Forget the graph's edges older than the retention window (hourly, beat)."""
    return transfers_prune()
