"""Live push of case changes over the alerts websocket (same group, one more message type).

Services call ``cases_announce`` inside their transaction; ``{"type": "case.updated",
"case": {...}}`` leaves after the commit, so nobody hears of a change that was rolled back.
It travels with the alert frames on the staff live feed (``sentinel.live.broadcast``). A
failure to reach the channel layer is logged by ``on_commit(robust=True)`` and never undoes
the change.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction as db_transaction

from sentinel.live import broadcast

from .models import Case

CASE_UPDATED = "case.updated"


def cases_announce(*, cases: Iterable[Case]) -> None:
    ids = {case.pk for case in cases}
    if ids:
        db_transaction.on_commit(lambda: _send(ids), robust=True)


def _send(ids: set[int]) -> None:
    from .api.serializers import CaseSerializer
    from .selectors import cases_queue, cases_with_alert_summary

    cases = cases_with_alert_summary(list(cases_queue().filter(pk__in=ids).order_by("pk")))
    broadcast(
        [{"type": CASE_UPDATED, "case": body} for body in CaseSerializer(cases, many=True).data]
    )
