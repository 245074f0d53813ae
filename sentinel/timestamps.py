"""One way to write a moment: ISO 8601 in UTC with a ``Z``, as the API, the monitor and the demo
write times (``2026-11-22T09:00:00Z``)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime, *, timespec: str = "auto") -> str:
    """An aware moment in UTC, ``Z``-suffixed; ``timespec`` as ``datetime.isoformat``."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in Sentinel; make it aware first")
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
