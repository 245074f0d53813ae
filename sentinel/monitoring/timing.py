"""Which minute to judge: the ``at`` of the API and of monitor_report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from django.utils import timezone

from . import selectors
from .analysis import MINUTE, floor_minute

LATEST = "latest"


class MinuteError(ValueError):
    pass


def last_complete_minute(now: datetime | None = None) -> datetime:
    return floor_minute(now or timezone.now()) - MINUTE


def resolve_minute(raw: str | None, *, partner_ids: Sequence[int]) -> datetime:
    """None: the last complete minute; "latest": the newest minute with traffic of these
    partners (for replayed history); otherwise an ISO 8601 time (UTC without an offset),
    truncated to its minute, not in the future."""
    if raw is None or raw == "":
        return last_complete_minute()
    if raw == LATEST:
        found = selectors.latest_minute(partner_ids=partner_ids)
        return found if found is not None else last_complete_minute()
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise MinuteError(
            f"{raw!r} is not an ISO 8601 time (e.g. 2025-07-15T13:44:00Z) or 'latest'."
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    minute = floor_minute(moment)
    if minute > floor_minute(timezone.now()):
        raise MinuteError("The minute is in the future.")
    return minute
