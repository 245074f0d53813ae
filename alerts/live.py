"""Live push of alerts over websockets: the group staff connections join, and what is sent.

Services call ``alerts_announce`` inside their transaction; the message leaves after the
commit, so nobody is told about an alert that was rolled back. A failure to reach the channel
layer is logged and never undoes the alert: a reconnecting browser catches up from the
database (``alerts_missed``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction as db_transaction

from sentinel.live import group_send_all

from .models import Alert
from .selectors import alerts_as_messages, alerts_with_latest_links

logger = logging.getLogger(__name__)

CREATED, UPDATED = "alert.created", "alert.updated"
MAX_MISSED = 500
FRAMES_PER_MESSAGE = 100


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
    alerts = alerts_as_messages().filter(pk__in=kinds).order_by("pk")
    alerts = alerts_with_latest_links(list(alerts))
    broadcast([{"type": kinds[body["id"]], "alert": body} for body in alert_messages(alerts)])


def broadcast(frames: Sequence[dict]) -> None:
    """Send websocket frames to every connected staff browser, in order.

    Frames travel FRAMES_PER_MESSAGE to a channel-layer message (the consumer relays each
    one): the layer costs a few Redis round trips per message, whatever it carries."""
    group = group_name()
    group_send_all(
        [
            (group, {"type": "frames.message", "frames": list(frames[i : i + FRAMES_PER_MESSAGE])})
            for i in range(0, len(frames), FRAMES_PER_MESSAGE)
        ]
    )


def alert_messages(alerts: Sequence[Alert]) -> list[dict]:
    """The contract's alert objects, as the websocket carries them; one serializer for all
    (building its fields costs more than serializing a row)."""
    from .api.serializers import AlertSerializer

    return AlertSerializer(alerts, many=True).data


def alerts_missed(*, after_id: int) -> list[dict]:
    """What a browser that last saw ``after_id`` missed, oldest first (at most MAX_MISSED)."""
    alerts = alerts_as_messages().filter(pk__gt=after_id).order_by("pk")[:MAX_MISSED]
    return alert_messages(alerts_with_latest_links(list(alerts)))
