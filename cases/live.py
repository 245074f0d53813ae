"""Live push of case changes over the alerts websocket (same group, one more message type).

Services call ``cases_announce`` inside their transaction; ``{"type": "case.updated",
"case": {...}}`` leaves after the commit, so nobody hears of a change that was rolled back.
The consumer relays it with ``AlertConsumer.case_message``. A failure to reach the channel
layer is logged by ``on_commit(robust=True)`` and never undoes the change.
"""

from __future__ import annotations

from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction as db_transaction

from alerts.live import group_name

from .models import Case

CASE_UPDATED = "case.updated"


def cases_announce(*, cases: Iterable[Case]) -> None:
    ids = {case.pk for case in cases}
    if ids:
        db_transaction.on_commit(lambda: _send(ids), robust=True)


def _send(ids: set[int]) -> None:
    from .selectors import cases_queue, cases_with_alert_summary

    group_send = async_to_sync(get_channel_layer().group_send)
    cases = cases_with_alert_summary(list(cases_queue().filter(pk__in=ids).order_by("pk")))
    for case in cases:
        group_send(
            group_name(),
            {"type": "case.message", "event": CASE_UPDATED, "case": case_message(case)},
        )


def case_message(case: Case) -> dict:
    """The case as the API lists it (cases.api.serializers.CaseSerializer)."""
    from .api.serializers import CaseSerializer

    return CaseSerializer(case).data
