"""Celery interface to the monitor's services: call a service, nothing more."""

from __future__ import annotations

from celery import shared_task

from .services import monitor_cycle_run


@shared_task(time_limit=55, soft_time_limit=50)
def monitor_cycle() -> dict:
    """The operational monitor's minute (beat, every 60 s): fold new transactions into
    minute aggregates, judge the last complete minute, track operational alerts."""
    result = monitor_cycle_run()
    return {"minute": result.minute.isoformat(), "events": len(result.events)}
