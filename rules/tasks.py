"""Celery interfaces to the rule services: take ids, call a service, nothing more."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(time_limit=3600, soft_time_limit=3500)
def run_backtest(backtest_id: int) -> str:
    return services.backtest_run(backtest_id=backtest_id).state
