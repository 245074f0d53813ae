"""Celery interfaces to the alert services: take plain values, call a service, nothing more."""

from __future__ import annotations

from celery import shared_task


@shared_task(time_limit=60, soft_time_limit=50)
def deliver_webhook(delivery_id: int) -> None:
    from .services import webhook_deliver

    webhook_deliver(delivery_id=delivery_id)


@shared_task(time_limit=60, soft_time_limit=50)
def requeue_overdue_webhooks() -> int:
    from .services import webhooks_requeue_overdue

    return webhooks_requeue_overdue()
