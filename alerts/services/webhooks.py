"""Partner webhooks: review and block decisions POSTed to the partner, signed, retried.

Scoring only inserts a delivery row (same transaction as the decision) and, after the commit,
queues it; the HTTP call happens in a worker. A partner endpoint that is down, slow or answers
garbage therefore never holds up scoring, and the row keeps the notification until it is
delivered, or dead-lettered after the last attempt and replayed by staff.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import timedelta

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction as db_transaction
from django.utils import timezone

from rules.choices import DecisionOutcome
from rules.engine import Evaluation
from sentinel.outbound import post_pinned, webhook_target
from transactions.api.authentication import sign
from transactions.keyring import decrypt_secret
from transactions.models import ApiKey

from ..choices import DeliveryState
from ..models import WebhookDelivery, WebhookEndpoint
from .permissions import require

logger = logging.getLogger(__name__)

EVENTS = {DecisionOutcome.REVIEW: "decision.review", DecisionOutcome.BLOCK: "decision.block"}
REPLAY_PERMISSION = "alerts.change_webhookdelivery"
USER_AGENT = "Sentinel-Webhooks/1"
_ERROR_CHARS = 500


def webhooks_for_decisions(*, evaluations: Sequence[Evaluation]) -> int:
    """Record a delivery for each review or block decision of a partner with an active
    endpoint, inside the caller's transaction; queue them once it commits. How many."""
    notable = [e for e in evaluations if e.outcome in EVENTS]
    if not notable:
        return 0
    endpoints = {
        endpoint.partner_id: endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            partner_id__in={e.transaction.partner_id for e in notable}, is_active=True
        ).select_related("partner")
    }
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            endpoint=endpoints[e.transaction.partner_id],
            transaction_id=e.transaction.id,
            event=EVENTS[e.outcome],
            payload=_payload(e, endpoints[e.transaction.partner_id], now),
            next_attempt_at=now,
        )
        for e in notable
        if e.transaction.partner_id in endpoints
    ]
    if not deliveries:
        return 0
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    ids = [d.transaction_id for d in deliveries]
    db_transaction.on_commit(lambda: _queue_new(ids), robust=True)
    return len(deliveries)


def _payload(evaluation: Evaluation, endpoint: WebhookEndpoint, now) -> dict:
    tx = evaluation.transaction
    event = EVENTS[evaluation.outcome]
    body = {
        "id": f"{tx.id}.{event}",  # the receiver's idempotency key: the same on every retry
        "event": event,
        "created_at": now,
        "partner": endpoint.partner.slug,
        "transaction": {
            "id": tx.id,
            "external_id": tx.external_id,
            "occurred_at": tx.occurred_at,
            "amount": tx.amount,
            "currency": tx.currency,
            "account_id": tx.account_external_id,
        },
        "decision": evaluation.payload(),
    }
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def _queue_new(transaction_ids: list) -> None:
    from ..tasks import deliver_webhook

    pending = WebhookDelivery.objects.filter(
        transaction_id__in=transaction_ids, state=DeliveryState.PENDING, attempts=0
    ).values_list("pk", flat=True)
    for delivery_id in pending:
        deliver_webhook.delay(delivery_id)


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt: POST the frozen body, signed; record the outcome; schedule the next try.

    The row stays locked during the call, so two workers never send the same delivery at once,
    and a delivered or dead one is never sent again (None when there is nothing to do).
    """
    with db_transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint__partner")
            .filter(pk=delivery_id, state=DeliveryState.PENDING)
            .first()
        )
        if delivery is None:
            return None
        status, error = _post(delivery)
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.last_status_code = now, status
        delivery.last_error = error[:_ERROR_CHARS]
        if not error:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at = (
                DeliveryState.DELIVERED,
                now,
                None,
            )
        elif delivery.attempts >= settings.SENTINEL_WEBHOOK_MAX_ATTEMPTS:
            delivery.state, delivery.next_attempt_at = DeliveryState.DEAD, None
            logger.warning("webhook delivery %s dead-lettered: %s", delivery.pk, error)
        else:
            delay = webhook_backoff(delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            db_transaction.on_commit(lambda: _queue_retry(delivery.pk, delay), robust=True)
        delivery.save()
    return delivery


def webhook_backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling, capped."""
    base = settings.SENTINEL_WEBHOOK_BACKOFF_SECONDS
    return min(base * 2 ** (attempts - 1), settings.SENTINEL_WEBHOOK_BACKOFF_MAX_SECONDS)


def _queue_retry(delivery_id: int, delay: float) -> None:
    from ..tasks import deliver_webhook

    deliver_webhook.apply_async((delivery_id,), countdown=delay)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(HTTP status or None, error text or "" on success: any 2xx, whatever its body).

    The URL is checked again here, on the address its name resolves to now, and the request
    goes to that address (sentinel.outbound): never to a loopback, private or link-local
    one, whatever the URL said when it was saved."""
    partner = delivery.endpoint.partner
    key = ApiKey.objects.live().filter(partner=partner).order_by("-created_at").first()
    if key is None:
        return None, "The partner has no live API key to sign with."
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Sentinel-Key": key.key_id,
        "X-Sentinel-Timestamp": str(timestamp),
        "X-Sentinel-Signature": sign(decrypt_secret(key), timestamp, body),
        "X-Sentinel-Event": delivery.event,
        "X-Sentinel-Delivery": delivery.payload.get("id", str(delivery.pk)),
    }
    try:
        target = webhook_target(delivery.endpoint.url)  # resolved now: DNS may have changed
    except ValidationError as refusal:
        return None, f"Refused: {refusal.messages[0]}"
    try:
        status = post_pinned(
            target, body, headers, timeout=settings.SENTINEL_WEBHOOK_TIMEOUT_SECONDS
        )
    except urllib3.exceptions.NewConnectionError as error:  # a subclass of TimeoutError
        return None, f"ConnectionError: {type(error).__name__}"
    except urllib3.exceptions.TimeoutError:
        return None, "Timeout: the endpoint did not answer in time."
    except urllib3.exceptions.HTTPError as error:
        # The class only: the text names addresses and ports, which staff pages would show.
        return None, f"ConnectionError: {type(error).__name__}"
    if 200 <= status < 300:
        return status, ""
    # The status only: the reply's body is the partner's (or, misdirected, someone else's).
    return status, f"HTTP {status}"


def webhook_replay(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a dead-lettered delivery again, with a fresh round of attempts."""
    require(actor, REPLAY_PERMISSION, "replay webhook deliveries")
    with db_transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.state != DeliveryState.DEAD:
            raise ValidationError(
                f"Only a dead-lettered delivery can be replayed; this one is {delivery.state}.",
                code="invalid_state",
            )
        delivery.state, delivery.attempts = DeliveryState.PENDING, 0
        delivery.next_attempt_at, delivery.replayed_by = timezone.now(), actor
        delivery.save(update_fields=["state", "attempts", "next_attempt_at", "replayed_by"])
        db_transaction.on_commit(lambda: _queue_retry(delivery.pk, 0), robust=True)
    return delivery


def webhooks_requeue_overdue(*, grace_seconds: float = 120) -> int:
    """Queue again the pending deliveries whose next try is long past (a lost queue message,
    a worker killed mid-call): nothing accepted is lost. How many."""
    from ..tasks import deliver_webhook

    overdue = WebhookDelivery.objects.filter(
        state=DeliveryState.PENDING,
        next_attempt_at__lt=timezone.now() - timedelta(seconds=grace_seconds),
    ).values_list("pk", flat=True)[:1000]
    count = 0
    for delivery_id in overdue:
        deliver_webhook.delay(delivery_id)
        count += 1
    return count
