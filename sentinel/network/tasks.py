"""Celery interfaces to network analytics: call the service, nothing more."""

from __future__ import annotations

from celery import shared_task

from .backtests import parameter_backtest_run
from .services import transfers_prune


@shared_task(time_limit=600, soft_time_limit=570)
def prune_transfers() -> int:
    """Forget the graph's edges older than the retention window (hourly, beat)."""
    return transfers_prune()


@shared_task(time_limit=3600, soft_time_limit=3500)
def run_parameter_backtest(backtest_id: int) -> str:
    """Replay a parameter version over a partner's graph (asked for in the admin)."""
    return parameter_backtest_run(backtest_id=backtest_id).state
