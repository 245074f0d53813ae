"""Celery interfaces to the alert services: take plain values, call a service, nothing more."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=900, max_retries=8)
def send_on_call_email(*, subject: str, body: str) -> None:
    send_mail(
        subject=f"[Sentinel] {subject}",
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[settings.SENTINEL_ON_CALL_EMAIL],
    )


@shared_task(time_limit=60, soft_time_limit=50)
def deliver_webhook(delivery_id: int) -> None:
    from .services import webhook_deliver

    webhook_deliver(delivery_id=delivery_id)


@shared_task(time_limit=60, soft_time_limit=50)
def requeue_overdue_webhooks() -> int:
    from .services import webhooks_requeue_overdue

    return webhooks_requeue_overdue()
