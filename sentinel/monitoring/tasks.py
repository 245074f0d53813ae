"""Celery interface to the monitor's services: call a service, nothing more."""

from __future__ import annotations

from celery import shared_task

from . import selectors
from .services import monitor_cycle_run, slack_deliver


@shared_task(time_limit=55, soft_time_limit=50)
def monitor_cycle() -> dict:
    """The operational monitor's minute (beat, every 60 s): fold new transactions into
    minute aggregates, judge the last complete minute, track operational alerts; then,
    the minute committed, queue the Slack deliveries that are due (new ones and retries)."""
    result = monitor_cycle_run()
    due = selectors.slack_deliveries_due()
    for delivery_id in due:
        deliver_slack_message.delay(delivery_id)
    return {"minute": result.minute.isoformat(), "events": len(result.events), "slack": len(due)}


@shared_task(time_limit=30, soft_time_limit=25)
def deliver_slack_message(delivery_id: int) -> str | None:
    """One attempt at a Slack delivery; its status afterwards (None: not pending or not due).
    A failed attempt is retried by a later minute's monitor_cycle once its backoff is over."""
    delivery = slack_deliver(delivery_id=delivery_id)
    return None if delivery is None else delivery.status
