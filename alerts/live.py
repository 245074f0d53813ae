"""Live push of alerts over websockets: what is sent on the staff live feed.

Services call ``alerts_announce`` inside their transaction; the message leaves after the
commit (``sentinel.live.broadcast``), so nobody is told about an alert that was rolled back. A
failure to reach the channel layer is logged and never undoes the alert: a reconnecting
browser catches up from the database (``alerts_missed``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction as db_transaction

from sentinel.live import broadcast

from .models import Alert
from .selectors import alerts_as_messages, alerts_with_latest_links

logger = logging.getLogger(__name__)

CREATED, UPDATED = "alert.created", "alert.updated"
MAX_MISSED = 500


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


def alert_messages(alerts: Sequence[Alert]) -> list[dict]:
    """The contract's alert objects, as the websocket carries them; one serializer for all
    (building its fields costs more than serializing a row)."""
    from .api.serializers import AlertSerializer

    return AlertSerializer(alerts, many=True).data


def alerts_missed(*, after_id: int) -> list[dict]:
    """What a browser that last saw ``after_id`` missed, oldest first (at most MAX_MISSED)."""
    alerts = alerts_as_messages().filter(pk__gt=after_id).order_by("pk")[:MAX_MISSED]
    return alert_messages(alerts_with_latest_links(list(alerts)))
