"""Operational alerts to a Slack-compatible incoming webhook (``POST {"text": ...}``).

The monitor's minute only records a SlackDelivery row, in the transaction that writes the
alert event; the HTTP call happens later in a worker (tasks.deliver_slack_message, queued by
the monitor's task once its minute has committed). A webhook that is down or slow therefore
never holds up the minute, and a failure stays visible on the row (admin, Slack deliveries):
attempts, the last error, and "failed" once the attempts run out.

The URL is checked on the address it resolves to at each send, and the request goes to that
address (sentinel.outbound, shared with partner webhooks): never loopback, private or
link-local.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone

from sentinel.outbound import post_pinned, webhook_target

from .. import selectors
from ..choices import SlackDeliveryStatus
from ..live import operational_alert_text
from ..models import OperationalAlert, OperationalAlertEvent, SlackDelivery

logger = logging.getLogger(__name__)
USER_AGENT = "Sentinel-Monitor/1"
_ERROR_CHARS = 500


def slack_delivery_record(
    *, alert: OperationalAlert, event: OperationalAlertEvent
) -> SlackDelivery | None:
    """A pending delivery of the event to the partner's webhook (or the global one), in the
    caller's transaction; None when neither is set."""
    url = selectors.slack_webhook_url(partner_id=alert.partner_id)
    if not url:
        return None
    return SlackDelivery.objects.create(
        event=event,
        url=url,
        text=operational_alert_text(alert=alert, event=event),
        next_attempt_at=timezone.now(),
    )


def slack_deliver(*, delivery_id: int) -> SlackDelivery | None:
    """One attempt, if the delivery is pending and due: POST, record the outcome, set the
    next attempt (doubling, capped) or give up after SENTINEL_WEBHOOK_MAX_ATTEMPTS. The row
    stays locked during the call, so two workers never send it at once."""
    with db_transaction.atomic():
        delivery = (
            SlackDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                pk=delivery_id,
                status=SlackDeliveryStatus.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if delivery is None:
            return None
        error = _post(delivery)
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_error = error[:_ERROR_CHARS]
        if not error:
            delivery.status, delivery.delivered_at = SlackDeliveryStatus.SENT, now
            delivery.next_attempt_at = None
        elif delivery.attempts >= settings.SENTINEL_WEBHOOK_MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = SlackDeliveryStatus.FAILED, None
            logger.warning("Slack delivery %s failed for good: %s", delivery.pk, error)
        else:
            delay = min(
                settings.SENTINEL_WEBHOOK_BACKOFF_SECONDS * 2 ** (delivery.attempts - 1),
                settings.SENTINEL_WEBHOOK_BACKOFF_MAX_SECONDS,
            )
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.save()
    return delivery


def _post(delivery: SlackDelivery) -> str:
    """The error text, or "" when the webhook answered 2xx."""
    body = json.dumps({"text": delivery.text}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    try:
        target = webhook_target(delivery.url)  # resolved now: DNS may have changed
    except ValidationError as refusal:
        return f"Refused: {refusal.messages[0]}"
    try:
        status = post_pinned(
            target, body, headers, timeout=settings.SENTINEL_WEBHOOK_TIMEOUT_SECONDS
        )
    except urllib3.exceptions.NewConnectionError as error:  # a subclass of TimeoutError
        return f"ConnectionError: {type(error).__name__}"
    except urllib3.exceptions.TimeoutError:
        return "Timeout: the webhook did not answer in time."
    except urllib3.exceptions.HTTPError as error:
        return f"ConnectionError: {type(error).__name__}"
    return "" if 200 <= status < 300 else f"HTTP {status}"
