"""Live push of alerts over websockets: the group staff connections join, and what is sent.

Services call ``alerts_announce`` inside their transaction; the message leaves after the
commit, so nobody is told about an alert that was rolled back. A failure to reach the channel
layer is logged and never undoes the alert: a reconnecting browser catches up from the
database (``alerts_missed``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction as db_transaction

from .models import Alert
from .selectors import alerts_list

logger = logging.getLogger(__name__)

CREATED, UPDATED = "alert.created", "alert.updated"
MAX_MISSED = 500


def group_name() -> str:
    """Every staff connection allowed to see alerts joins this group (one per deployment)."""
    prefix = getattr(settings, "SENTINEL_REDIS_PREFIX", "sentinel")
    return f"{prefix}.alerts".replace(":", ".")


def alerts_announce(*, created: Sequence[Alert] = (), updated: Sequence[Alert] = ()) -> None:
    """Send the alerts to every connected investigator once the transaction commits."""
    kinds = {alert.pk: CREATED for alert in created}
    kinds.update({alert.pk: UPDATED for alert in updated if alert.pk not in kinds})
    if kinds:
        db_transaction.on_commit(lambda: _send(kinds), robust=True)


def _send(kinds: dict[int, str]) -> None:
    layer = get_channel_layer()
    group_send = async_to_sync(layer.group_send)
    for alert in alerts_list().filter(pk__in=kinds).order_by("pk"):
        group_send(
            group_name(),
            {"type": "alert.message", "event": kinds[alert.pk], "alert": alert_message(alert)},
        )


def alert_message(alert: Alert) -> dict:
    """The contract's alert object, as the websocket carries it."""
    from .api.serializers import AlertSerializer

    return AlertSerializer(alert).data


def alerts_missed(*, after_id: int) -> list[dict]:
    """What a browser that last saw ``after_id`` missed, oldest first (at most MAX_MISSED)."""
    alerts = alerts_list().filter(pk__gt=after_id).order_by("pk")[:MAX_MISSED]
    return [alert_message(alert) for alert in alerts]
