"""Celery tasks of Sentinel's core: take plain values, do one thing."""

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
