"""Email to the on-call address, for what cannot wait for someone to look at the feed: critical
rule alerts (alerts) and critical operational alerts (the monitor) alike.

Mail leaves from a Celery worker after the commit, so a slow or broken mail server never holds
up scoring, and nothing is sent about work that was rolled back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction as db_transaction

from .tasks import send_on_call_email


def on_call_notify(*, subject: str, body: str) -> None:
    """Queue an email to SENTINEL_ON_CALL_EMAIL once the current transaction commits."""
    if not settings.SENTINEL_ON_CALL_EMAIL:
        return
    db_transaction.on_commit(
        lambda: send_on_call_email.delay(subject=subject[:200], body=body), robust=True
    )
