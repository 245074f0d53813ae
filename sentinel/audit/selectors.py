"""Reads of the audit trail: newest first, one page at a time by id (keyset)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from .models import AuditEvent

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    next_before: int | None  # the id to ask for the next (older) page with, if there is one


def audit_events_page(
    *, events: QuerySet[AuditEvent], before: int | None, size: int = PAGE_SIZE
) -> Page:
    """The ``size`` newest of ``events`` with an id below ``before``: the cost is the same on
    the thousandth page as on the first (no OFFSET)."""
    if before is not None:
        events = events.filter(id__lt=before)
    rows = list(events.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(events=rows, next_before=rows[-1].id if more else None)


def audit_events_export(*, events: QuerySet[AuditEvent]) -> Iterator[AuditEvent]:
    """Every matching entry, newest first, read in chunks."""
    return events.order_by("-id").iterator(chunk_size=2000)
